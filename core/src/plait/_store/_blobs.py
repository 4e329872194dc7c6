"""Media bytes kept apart from the records that mention them: content-addressed blobs.

A media part (an image, a document, audio) is a JSON object with ``"type"`` one of
``image``, ``document``, ``audio`` and the keys ``"data"`` (the bytes, base64), ``"url"``
and ``"blob"``, exactly one of them set (a dumped ``plait.Image``, ...). Before a record
(a message, a step's payload, a run's options) is written, ``BlobSink.take`` replaces
each part's ``"data"`` by ``"blob": "sha256:<hex>"`` and keeps the bytes aside, so the
engine writes them once to the blob table in the same transaction; ``put_back`` does the
reverse when a record is read.

This works on JSON text, not on message classes, so any record holding parts gets it.
Records without media cost one substring search each way (no parsing).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._parts import blob_key
from ._errors import BlobTooLarge

__all__ = ["MEDIA_TYPES", "Blob", "BlobSink", "holds_blobs", "put_back", "put_back_value"]

MEDIA_TYPES = frozenset({"image", "document", "audio"})
"""The ``type`` of a JSON object that is a media part."""
_INLINE = '"data":"'  # compact JSON of a part holding bytes (quotes in strings are escaped)
_STORED = '"blob":"sha256:'  # ... and of a part whose bytes are in the blob table

Fetch = Callable[[str], bytes]
"""The bytes of a blob key (the engine's reader: ``StoreCorrupted`` when missing)."""


@dataclass(frozen=True, slots=True)
class Blob:
    """Bytes to store under ``key`` (``sha256:<hex>`` of ``data``)."""

    key: str
    media_type: str | None
    data: bytes


@dataclass(slots=True)
class BlobSink:
    """Collects the blobs (and blob keys referenced) of the records of one store call."""

    limit: int
    label: str
    blobs: dict[str, Blob] = field(default_factory=dict)
    refs: set[str] = field(default_factory=set)
    """Every key the call's records reference: new bytes and ``blob`` parts given as such."""

    def take(self, text: str, what: str) -> str:
        """``text`` (a JSON record) with its inline media bytes taken out into blobs."""
        if _INLINE not in text and _STORED not in text:
            return text
        value = json.loads(text)
        if not self._walk(value, what):
            return text
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    def _walk(self, value: Any, what: str) -> bool:
        """Rewrite media parts in ``value`` in place; ``True`` if anything changed."""
        changed = False
        if isinstance(value, list):
            for item in value:
                changed = self._walk(item, what) or changed
        elif isinstance(value, dict):
            if value.get("type") in MEDIA_TYPES and self._part(value, what):
                return True
            for item in value.values():
                changed = self._walk(item, what) or changed
        return changed

    def _part(self, part: dict[str, Any], what: str) -> bool:
        blob, data = part.get("blob"), part.get("data")
        if isinstance(blob, str) and blob.startswith("sha256:") and data is None:
            self.refs.add(blob)  # a part already stored: the record references it
            return False
        if not isinstance(data, str) or not data or blob is not None or part.get("url"):
            return False
        if "blob" not in part or "url" not in part:
            return False  # not a dumped plait part (they carry both keys): left as it is
        raw = self._decode(data, what)
        if raw is None:
            return False  # not base64: not bytes of ours, kept as they are
        key = blob_key(raw)
        self.blobs.setdefault(key, Blob(key, _text(part.get("media_type")), raw))
        self.refs.add(key)
        part["data"] = None
        part["blob"] = key
        return True

    def _decode(self, data: str, what: str) -> bytes | None:
        size = len(data.rstrip("=")) * 3 // 4  # the decoded size, known before decoding
        if size > self.limit:
            raise BlobTooLarge(
                f"{self.label}: a media part of {what} is {size:,} bytes, over this store's "
                f"limit of max_blob_bytes={self.limit}; nothing was written (raise "
                "max_blob_bytes in the store URL, or pass the media by url=)",
                size,
                self.limit,
            )
        return _b64decode(data)


def holds_blobs(text: str) -> bool:
    """Whether a stored JSON record may hold blob references (else nothing to put back)."""
    return _STORED in text


def put_back(text: str, fetch: Fetch) -> str:
    """``text`` (a stored JSON record) with its blob references holding their bytes again."""
    if _STORED not in text:
        return text
    value = json.loads(text)
    put_back_value(value, fetch)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def put_back_value(value: Any, fetch: Fetch) -> Any:
    """Give every stored media part in ``value`` (parsed JSON) its bytes back, in place
    (as standard base64, the form ``plait.Image`` and the others dump)."""
    if isinstance(value, list):
        for item in value:
            put_back_value(item, fetch)
    elif isinstance(value, dict):
        blob = value.get("blob")
        if value.get("type") in MEDIA_TYPES and isinstance(blob, str) and value.get("data") is None:
            if blob.startswith("sha256:"):
                value["data"] = base64.b64encode(fetch(blob)).decode("ascii")  # as parts dump
                value["blob"] = None
            return value
        for item in value.values():
            put_back_value(item, fetch)
    return value


def _b64decode(data: str) -> bytes | None:
    """Standard base64 (what parts dump) or URL-safe (pydantic's own); ``None`` if neither."""
    try:
        return binascii.a2b_base64(data.replace("-", "+").replace("_", "/"), strict_mode=True)
    except (binascii.Error, ValueError):
        return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
