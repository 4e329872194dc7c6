"""Non-text parts on the OpenAI wire formats, and what each model takes.

Chat Completions (``messages[].content`` parts): ``text``; ``image_url`` (an http(s) URL
or a ``data:`` URL, with ``detail``); ``input_audio`` (base64, ``wav`` or ``mp3``); ``file``
(``file_data`` as a ``data:`` URL and ``filename``: PDF). Responses (``input[].content``):
``input_text``; ``input_image`` (``image_url``: URL or ``data:`` URL, ``detail``);
``input_file`` (``file_data`` + ``filename``, or ``file_url``); no audio. A plain-text
document (``text/*``) is sent as text on Chat Completions, framed with its name.

What a model takes (``input_modalities``) is known for OpenAI's own models by family;
another host's models are unknown (``None``: the server decides) unless the
``input_modalities`` option says.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from plait import Audio, Document, Image, Text, UnsupportedInput

__all__ = [
    "chat_part",
    "input_modalities",
    "responses_part",
    "url_inputs",
]

_VISION = frozenset({"text", "image", "document"})
_AUDIO = frozenset({"text", "audio"})
_TEXT = frozenset({"text"})
_TEXT_ONLY_PREFIXES = ("gpt-3.5", "o1-mini", "o3-mini", "gpt-4-0", "gpt-4-32k", "davinci")
_VISION_PREFIXES = (
    *("gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "gpt-4-turbo"),
    *("o1", "o3", "o4"),
)
_AUDIO_FORMATS = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
}


def input_modalities(model_id: str, api: str, official: bool) -> frozenset[str] | None:
    """What an OpenAI model takes, by family (``None``: not known, e.g. another host)."""
    if not official:
        return None
    name = model_id.lower()
    if "audio" in name:
        return _AUDIO if api == "chat" else _TEXT
    if name.startswith(_TEXT_ONLY_PREFIXES) or name == "gpt-4":
        return _TEXT
    if name.startswith(_VISION_PREFIXES):
        return _VISION
    return None


def url_inputs(api: str) -> frozenset[str]:
    """The part types the API takes as a URL (the rest must be sent as bytes)."""
    return frozenset({"image"}) if api == "chat" else frozenset({"image", "document"})


def _data(part: Image | Document | Audio) -> bytes:
    if part.data is None:
        where = "a stored blob that was not loaded" if part.blob else f"a URL ({part.url})"
        raise UnsupportedInput(
            f"this {part.type} holds {where}; the API needs its bytes", part=part.type
        )
    return part.data


def _b64(part: Image | Document | Audio) -> str:
    return base64.b64encode(_data(part)).decode("ascii")


def data_url(part: Image | Document | Audio) -> str:
    """The part as a ``data:<media type>;base64,...`` URL."""
    return f"data:{part.media_type or 'application/octet-stream'};base64,{_b64(part)}"


def _filename(part: Document) -> str:
    if part.name:
        return part.name
    return "document.pdf" if part.media_type == "application/pdf" else "document"


def _is_text(part: Document) -> bool:
    return (part.media_type or "").startswith("text/")


def _framed_text(part: Document) -> str:
    """A plain-text document as text the model reads, framed with its name and type."""
    try:
        text = _data(part).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsupportedInput(f"the {part.media_type} document is not UTF-8 text") from exc
    head = f'-----BEGIN FILE name="{_filename(part)}" type="{part.media_type}"-----'
    return f"{head}\n{text}\n-----END FILE-----"


def _audio(part: Audio) -> dict[str, Any]:
    fmt = _AUDIO_FORMATS.get(part.media_type or "")
    if fmt is None:
        raise UnsupportedInput(
            f"Chat Completions takes wav or mp3 audio, not {part.media_type!r}", part="audio"
        )
    return {"type": "input_audio", "input_audio": {"data": _b64(part), "format": fmt}}


def chat_part(part: Any) -> dict[str, Any]:
    """One part as a Chat Completions content part."""
    if isinstance(part, Text):
        return {"type": "text", "text": part.text}
    if isinstance(part, Image):
        image: dict[str, Any] = {"url": part.url if part.url is not None else data_url(part)}
        if part.detail is not None:
            image["detail"] = part.detail
        return {"type": "image_url", "image_url": image}
    if isinstance(part, Audio):
        return _audio(part)
    if isinstance(part, Document):
        if _is_text(part):
            return {"type": "text", "text": _framed_text(part)}
        if part.media_type not in (None, "application/pdf"):
            raise UnsupportedInput(
                f"Chat Completions takes PDF or plain-text documents, not {part.media_type!r}",
                part="document",
            )
        return {"type": "file", "file": {"file_data": data_url(part), "filename": _filename(part)}}
    raise TypeError(f"not a message part: {type(part).__name__}")


def responses_part(part: Any) -> dict[str, Any]:
    """One part as a Responses ``input_*`` content item."""
    if isinstance(part, Text):
        return {"type": "input_text", "text": part.text}
    if isinstance(part, Image):
        url = part.url if part.url is not None else data_url(part)
        return {"type": "input_image", "image_url": url, "detail": part.detail or "auto"}
    if isinstance(part, Document):
        if part.url is not None:
            return {"type": "input_file", "file_url": part.url}
        return {"type": "input_file", "file_data": data_url(part), "filename": _filename(part)}
    if isinstance(part, Audio):
        raise UnsupportedInput(
            "the Responses API takes no audio input; use Chat Completions with an audio "
            "model (openai:gpt-4o-audio-preview)",
            part="audio",
        )
    raise TypeError(f"not a message part: {type(part).__name__}")


def chat_media_message(results: Iterable[Any]) -> dict[str, Any] | None:
    """Chat Completions has no media in tool messages: the media of the tool results
    ``results`` go in one user message after them, each introduced by its call."""
    content: list[dict[str, Any]] = []
    for r in results:
        if r.parts:
            intro = f"The {r.name} tool ({r.tool_call_id}) returned:"
            content.append({"type": "text", "text": intro})
            content.extend(chat_part(p) for p in r.parts)
    return {"role": "user", "content": content} if content else None
