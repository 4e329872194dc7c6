"""Parts of a message that are not plain text: images, documents (PDF, ...) and audio.

A task may be a list of parts (``[plait.Text("What is this?"), plait.Image.from_path(p)]``)
and a tool may return one. A media part holds its content one of three ways: ``data``
(the bytes), ``url`` (a link the *provider* fetches; plait never fetches one itself
unless the user allows it) or ``blob`` (the content-addressed key of bytes kept apart, in
a store). Parts are immutable pydantic models: they validate and round-trip through JSON,
bytes as base64.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

__all__ = [
    "Audio",
    "Document",
    "Image",
    "Part",
    "TaskInput",
    "Text",
    "blob_key",
    "media_summary",
    "sniff_media_type",
    "task_content",
    "text_of",
]

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"ID3", "audio/mpeg"),
    (b"\xff\xfb", "audio/mpeg"),
    (b"fLaC", "audio/flac"),
    (b"OggS", "audio/ogg"),
)


def blob_key(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``: the key a part's bytes are kept under in a store."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sniff_media_type(data: bytes) -> str | None:
    """The media type the first bytes of ``data`` show, for the common formats; else ``None``."""
    for magic, media_type in _SIGNATURES:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    return None


class _Size(int):
    def __repr__(self) -> str:
        return f"<{int(self)} bytes>"


class _Part(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, ser_json_bytes="base64", val_json_bytes="base64"
    )


class Text(_Part):
    """Plain text within a list of parts."""

    type: Literal["text"] = "text"
    text: str

    def __init__(self, text: str | None = None, /, **data: Any) -> None:
        if text is not None:
            data["text"] = text
        super().__init__(**data)


class _Media(_Part):
    """Bytes, a URL or a stored blob, with the media type that says what they are."""

    kind: ClassVar[str]
    """The media-type family this part accepts (``image``, ``audio``; ``""``: any)."""

    data: bytes | None = None
    url: str | None = None
    blob: str | None = None
    """``sha256:<hex>`` of bytes kept apart from the message (in a store's blob table)."""
    media_type: str | None = None
    name: str | None = None

    @field_serializer("data", when_used="json")
    def _base64(self, data: bytes | None) -> str | None:
        # standard base64 (pydantic's own is URL-safe): what APIs and other readers expect;
        # validation takes either alphabet
        return None if data is None else base64.b64encode(data).decode("ascii")

    @model_validator(mode="after")
    def _check(self) -> Self:
        given = [f for f in ("data", "url", "blob") if getattr(self, f) is not None]
        if len(given) != 1:
            raise ValueError(
                f"{type(self).__name__} holds exactly one of data=, url= or blob= "
                f"(got {', '.join(given) or 'none'})"
            )
        if self.data is not None and self.media_type is None:
            sniffed = sniff_media_type(self.data)
            if sniffed is None:
                raise ValueError(
                    f"cannot tell the media type of these {type(self).__name__} bytes: "
                    "pass media_type= (e.g. 'image/png')"
                )
            object.__setattr__(self, "media_type", sniffed)
        kind = type(self).kind
        if kind and self.media_type is not None and not self.media_type.startswith(f"{kind}/"):
            raise ValueError(
                f"{type(self).__name__} needs a {kind}/* media type, not {self.media_type!r}"
            )
        return self

    @classmethod
    def from_bytes(cls, data: bytes, media_type: str | None = None, **fields: Any) -> Self:
        """A part holding ``data`` (its media type sniffed from the bytes when not given)."""
        return cls(data=bytes(data), media_type=media_type, **fields)

    @classmethod
    def from_path(cls, path: str | Path, media_type: str | None = None, **fields: Any) -> Self:
        """A part holding the bytes of the file at ``path`` (read now); the media type is
        ``media_type``, else guessed from the name, else sniffed from the bytes."""
        file = Path(path)
        data = file.read_bytes()
        guessed = media_type or mimetypes.guess_type(file.name)[0] or sniff_media_type(data)
        fields.setdefault("name", file.name)
        return cls(data=data, media_type=guessed, **fields)

    @classmethod
    def from_url(cls, url: str, media_type: str | None = None, **fields: Any) -> Self:
        """A part the provider fetches from ``url`` (plait does not fetch it)."""
        if not url.startswith(("https://", "http://", "data:", "gs://", "s3://", "file://")):
            raise ValueError(f"not a URL: {url!r} (for a local file use from_path)")
        return cls(url=url, media_type=media_type or mimetypes.guess_type(url)[0], **fields)

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name == "data" and value is not None:
                yield name, _Size(len(value))  # never megabytes of bytes in a repr or log
            elif value is not None:
                yield name, value

    def digest(self) -> str:
        """``sha256:<hex>`` of the bytes (the key a store keeps them under)."""
        if self.data is None:
            if self.blob is not None:
                return self.blob
            raise ValueError(f"this {type(self).__name__} holds a URL, not bytes")
        return blob_key(self.data)


class Image(_Media):
    """An image: ``plait.Image.from_path("cat.png")``, ``.from_bytes(b, "image/png")``,
    ``.from_url("https://...")``. ``detail`` is passed to providers that take one."""

    kind: ClassVar[str] = "image"
    type: Literal["image"] = "image"
    detail: Literal["auto", "low", "high"] | None = None


class Document(_Media):
    """A document (PDF, plain text, ...): ``plait.Document.from_path("report.pdf")``."""

    kind: ClassVar[str] = ""
    type: Literal["document"] = "document"


class Audio(_Media):
    """A recording: ``plait.Audio.from_path("question.wav")``."""

    kind: ClassVar[str] = "audio"
    type: Literal["audio"] = "audio"


Part = Annotated[Text | Image | Document | Audio, Field(discriminator="type")]
"""One part of a message; discriminated by ``type``."""

TaskInput: TypeAlias = "str | Sequence[str | Text | Image | Document | Audio]"
"""What a run takes as its task: a string, or a list of parts (a ``str`` item is text)."""


def _part(item: Any) -> Text | Image | Document | Audio:
    if isinstance(item, str):
        return Text(item)
    if isinstance(item, Text | Image | Document | Audio):
        return item
    raise TypeError(
        f"a task part must be a str, plait.Text, plait.Image, plait.Document or plait.Audio; "
        f"got {type(item).__name__} (read a file with plait.Image.from_path(...))"
    )


def task_content(
    task: Any, attachments: Sequence[Any] | None = None
) -> str | list[Text | Image | Document | Audio] | None:
    """A task as a message's content: a ``str`` stays a ``str``; a list (with
    ``attachments`` appended after it) becomes a list of parts; anything else is a
    ``TypeError`` that says what is accepted."""
    if attachments is not None and (
        isinstance(attachments, str | bytes) or not isinstance(attachments, Sequence)
    ):
        raise TypeError(
            "attachments= takes a list of parts (plait.Image, plait.Document, plait.Audio, "
            f"plait.Text), not {type(attachments).__name__}"
        )
    if task is None:
        if attachments:
            raise ValueError("attachments= needs a task to attach them to")
        return None
    if isinstance(task, str):
        items: list[Any] = [task]
    elif isinstance(task, Text | Image | Document | Audio):
        items = [task]
    elif isinstance(task, Sequence) and not isinstance(task, bytes | bytearray):
        items = list(task)
    else:
        raise TypeError(
            "a task is a str or a list of parts (str, plait.Text, plait.Image, "
            f"plait.Document, plait.Audio); got {type(task).__name__}"
        )
    parts = [_part(item) for item in (*items, *(attachments or ()))]
    if not parts:
        raise ValueError("the task is an empty list: give it at least one part")
    return parts


def text_of(content: str | Sequence[Any]) -> str:
    """The readable text of a message's content: a string as is; of a list of parts, the
    text parts joined by a blank line, each media part as a short ``[image image/png,
    1234 bytes]`` marker (never its bytes)."""
    if isinstance(content, str):
        return content
    out: list[str] = []
    for part in content:
        if isinstance(part, Text):
            out.append(part.text)
        else:
            s = media_summary(part)
            size = f", {s['bytes']} bytes" if s.get("bytes") is not None else ""
            url = getattr(part, "url", None)
            where = f" {url}" if url else ""
            out.append(f"[{s['type']} {s['media_type'] or 'unknown type'}{size}{where}]")
    return "\n\n".join(out)


def media_summary(part: Any) -> dict[str, Any]:
    """``{type, media_type, bytes}`` of a media part: what events and logs show of it."""
    data = getattr(part, "data", None)
    return {
        "type": part.type,
        "media_type": getattr(part, "media_type", None),
        "bytes": len(data) if data is not None else None,
    }
