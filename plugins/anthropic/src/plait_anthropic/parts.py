"""Non-text parts on the Anthropic Messages wire, and what Claude models take.

A user message's parts become content blocks: ``text``; ``image`` with a ``base64``
source (``image/jpeg``, ``png``, ``gif``, ``webp``) or a ``url`` source; ``document`` with
a ``base64`` source (``application/pdf``), a ``text`` source (``text/plain``: the text
itself) or a ``url`` source (a PDF). The Messages API takes no audio. A tool result's
media go into its ``tool_result`` block, after the text.
"""

from __future__ import annotations

import base64
from typing import Any

from plait import Audio, Document, Image, Text, UnsupportedInput

__all__ = ["INPUT_MODALITIES", "URL_INPUTS", "block"]

INPUT_MODALITIES = frozenset({"text", "image", "document"})
"""What every Claude model takes (vision and PDF support since Claude 3 / 3.5)."""
URL_INPUTS = frozenset({"image", "document"})
"""Parts the API fetches itself from a URL (``source: {"type": "url"}``)."""

_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def _data(part: Image | Document) -> bytes:
    if part.data is None:
        where = "a stored blob that was not loaded" if part.blob else "no bytes"
        raise UnsupportedInput(f"this {part.type} holds {where}", part=part.type)
    return part.data


def _b64(part: Image | Document) -> str:
    return base64.b64encode(_data(part)).decode("ascii")


def _image(part: Image) -> dict[str, Any]:
    if part.url is not None:
        return {"type": "image", "source": {"type": "url", "url": part.url}}
    if part.media_type not in _IMAGE_TYPES:
        raise UnsupportedInput(
            f"Claude takes JPEG, PNG, GIF or WebP images, not {part.media_type!r}", part="image"
        )
    source = {"type": "base64", "media_type": part.media_type, "data": _b64(part)}
    return {"type": "image", "source": source}


def _document(part: Document) -> dict[str, Any]:
    if part.url is not None:
        out: dict[str, Any] = {"type": "document", "source": {"type": "url", "url": part.url}}
    elif (part.media_type or "").startswith("text/"):
        try:
            text = _data(part).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnsupportedInput(f"the {part.media_type} document is not UTF-8 text") from exc
        out = {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": text},
        }
    elif part.media_type == "application/pdf":
        source = {"type": "base64", "media_type": "application/pdf", "data": _b64(part)}
        out = {"type": "document", "source": source}
    else:
        raise UnsupportedInput(
            f"Claude takes PDF or plain-text documents, not {part.media_type!r}", part="document"
        )
    if part.name:
        out["title"] = part.name
    return out


def block(part: Any) -> dict[str, Any]:
    """One part as a Messages content block."""
    if isinstance(part, Text):
        return {"type": "text", "text": part.text}
    if isinstance(part, Image):
        return _image(part)
    if isinstance(part, Document):
        return _document(part)
    if isinstance(part, Audio):
        raise UnsupportedInput("the Anthropic Messages API takes no audio input", part="audio")
    raise TypeError(f"not a message part: {type(part).__name__}")
