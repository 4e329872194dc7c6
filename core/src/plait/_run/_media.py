"""Non-text input in a run: what the model can take, URLs it needs as bytes, tool media.

Only runs whose messages hold media parts (a list task, ``attachments=``, a thread that
had some, a tool that returned an image) come here: ``RunState.media`` says so, and the
plain run pays one attribute check per turn.

* ``check_model`` — before any request, every part of the user's messages (the task, a
  thread's history) is held against the model's ``input_modalities`` and ``url_inputs``
  (optional ``Model`` attributes): a part it cannot take is an ``UnsupportedInput``
  naming the model and the part.
* ``prepare`` — before each turn (again after a handoff to another model), the same
  check on messages not yet seen; URL parts the model needs as bytes are downloaded, only
  when the run allows it (``fetch_urls=True``): plait never fetches a URL by itself.
* ``tool_output`` / ``with_media`` — a tool's return value split into the text the
  model reads and the media sent beside it (``ToolResultMessage.parts``); media the model
  cannot take are left out and the model is told so.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pydantic_core

from .._contracts import optional_attribute
from .._errors import ResponseTooLarge, UnsupportedInput
from .._messages import Message, ToolResultMessage, UserMessage
from .._parts import Audio, Document, Image, Text, text_of

if TYPE_CHECKING:
    from ._options import RunSpec
    from ._state import RunState

__all__ = [
    "FETCH_TIMEOUT",
    "MEDIA_RESULTS",
    "check_model",
    "checked_task",
    "fetch_part",
    "media_parts",
    "prepare",
    "tool_output",
    "with_media",
]

FETCH_TIMEOUT = 30.0
"""Seconds one download of a URL part may take (``fetch_urls=True``)."""

Media = Image | Document | Audio


def media_parts(messages: Iterable[Message]) -> list[Media]:
    """Every media part of ``messages``: in user messages and in tool results."""
    found: list[Media] = []
    for m in messages:
        if isinstance(m, UserMessage) and not isinstance(m.content, str):
            found.extend(p for p in m.content if not isinstance(p, Text))
        elif isinstance(m, ToolResultMessage) and m.parts:
            found.extend(p for p in m.parts if not isinstance(p, Text))
    return found


def _name(model: Any) -> str:
    return str(getattr(model, "name", None) or type(model).__name__)


def _needs_bytes(model: Any, part: Media) -> bool:
    """The part is a URL the model cannot be given as a URL (it needs the bytes)."""
    if part.url is None:
        return False
    if part.url.startswith("data:"):
        return True  # decoded here, never downloaded
    urls = optional_attribute(model, "url_inputs")
    return urls is not None and part.type not in urls


def refusal(model: Any, part: Media, fetch_urls: bool) -> UnsupportedInput | None:
    """Why ``model`` cannot take ``part``, or ``None`` when it can (or plait may fetch)."""
    takes = optional_attribute(model, "input_modalities")
    name = _name(model)
    if takes is not None and part.type not in takes:
        accepted = ", ".join(sorted(takes)) or "nothing"
        return UnsupportedInput(
            f"model {name!r} cannot take {part.type} input (it takes: {accepted}); "
            f"use a model that takes {part.type}s, or leave the {part.type} out",
            model=name,
            part=part.type,
        )
    if _needs_bytes(model, part) and not fetch_urls and not str(part.url).startswith("data:"):
        cls = type(part).__name__
        return UnsupportedInput(
            f"model {name!r} takes {part.type} parts as bytes, not as a URL, and plait does "
            f"not download {part.url!r} unless the run allows it: pass fetch_urls=True, or "
            f"give the bytes (plait.{cls}.from_path / from_bytes)",
            model=name,
            part=part.type,
        )
    return None


def check_model(model: Any, messages: Sequence[Message], fetch_urls: bool) -> bool:
    """Raise ``UnsupportedInput`` for the first part of a user message ``model`` cannot
    take (a tool's is left out instead, see ``prepare``); ``True`` when the messages hold
    media at all (the run then prepares them before each turn)."""
    found = False
    for m in messages:
        if isinstance(m, UserMessage) and not isinstance(m.content, str):
            for part in m.content:
                if isinstance(part, Text):
                    continue
                found = True
                if (err := refusal(model, part, fetch_urls)) is not None:
                    raise err
        elif isinstance(m, ToolResultMessage) and m.parts:
            found = True
    return found


def checked_task(spec: RunSpec, model: Any, messages: Sequence[Message]) -> tuple[str | None, bool]:
    """The run's task as readable text (what guardrails, records and logs see), and whether
    its messages hold media; ``UnsupportedInput`` for a part the model cannot take."""
    media = check_model(model, messages, bool(spec.fetch_urls))
    task = spec.task
    return (task if task is None or isinstance(task, str) else text_of(task)), media


def _data_url(part: Media) -> Media:
    """A ``data:`` URL part as a bytes part (no network)."""
    head, _, payload = str(part.url).partition(",")
    media_type = head[5:].split(";")[0] or part.media_type
    try:
        data = (
            base64.b64decode(payload, validate=True)
            if head.endswith(";base64")
            else payload.encode()
        )
    except (binascii.Error, ValueError) as exc:
        raise UnsupportedInput(f"the {part.type} part's data: URL is not valid base64") from exc
    return part.model_copy(update={"url": None, "data": data, "media_type": media_type})


async def fetch_part(part: Media, max_bytes: int, seconds: float = FETCH_TIMEOUT) -> Media:
    """The part with the bytes at its URL (the run allowed it): at most ``max_bytes``,
    within ``seconds``; a failure is an ``UnsupportedInput`` that says why."""
    if str(part.url).startswith("data:"):
        return _data_url(part)
    import httpx

    from .._http import read_body

    url = str(part.url)
    if not url.startswith(("http://", "https://")):
        raise UnsupportedInput(f"plait fetches http(s) URLs only, not {url!r}", part=part.type)
    try:
        async with (
            httpx.AsyncClient(timeout=seconds, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise UnsupportedInput(
                    f"fetching {url!r} failed: HTTP {response.status_code}", part=part.type
                )
            body = await read_body(response, max_bytes=max_bytes)
            header = response.headers.get("content-type", "").split(";")[0].strip()
    except httpx.HTTPError as exc:
        raise UnsupportedInput(
            f"fetching {url!r} failed ({type(exc).__name__})", part=part.type
        ) from exc
    except ResponseTooLarge as exc:
        raise UnsupportedInput(
            f"{url!r} is larger than {max_bytes} bytes (Limits.response_bytes)", part=part.type
        ) from exc
    media_type = part.media_type or header or None
    update = {"url": None, "data": body, "media_type": media_type}
    return part.model_validate({**part.model_dump(exclude={"url", "data"}), **update})


async def prepare(st: RunState) -> None:
    """Before a turn, in the messages not yet prepared (all of them after a handoff to
    another model): refuse a user's part the model cannot take, leave out (and say so) a
    tool's, and download the URL parts it needs as bytes (``fetch_urls=True``)."""
    messages = st.messages
    for index in range(st.media_seen, len(messages)):
        m = messages[index]
        if isinstance(m, ToolResultMessage) and m.parts:
            checked = with_media(st, m.model_copy(update={"parts": []}), m.parts)
            if checked.parts != m.parts:
                m = messages[index] = checked
            new = [await _fetched(st, p) for p in m.parts]
            if any(a is not b for a, b in zip(new, m.parts, strict=True)):
                messages[index] = m.model_copy(update={"parts": new})
        elif isinstance(m, UserMessage) and not isinstance(m.content, str):
            fetch = bool(st.spec.fetch_urls)
            for part in m.content:
                if not isinstance(part, Text) and (err := refusal(st.model, part, fetch)):
                    raise err
            content = [await _fetched(st, p) for p in m.content]
            if any(a is not b for a, b in zip(content, m.content, strict=True)):
                messages[index] = m.model_copy(update={"content": content})
    st.media_seen = len(messages)


async def _fetched(st: RunState, part: Any) -> Any:
    """``part``, or its bytes when it is a URL the model needs as bytes (the run allowed
    the download: ``refusal`` said so before)."""
    if isinstance(part, Text) or part.url is None or not _needs_bytes(st.model, part):
        return part
    return await fetch_part(part, st.limits.response_bytes)


MEDIA_RESULTS = frozenset({Image, Document, Audio, Text, list, tuple})
"""The classes of a tool's return value that may hold media (one set lookup per result)."""


def tool_output(value: Any) -> tuple[Any, list[Media]] | None:
    """A tool's return value as ``(text value, media parts)`` when it holds media: a part,
    or a list of parts and strings; ``None`` otherwise (the plain path)."""
    if isinstance(value, Image | Document | Audio):
        return "", [value]
    if isinstance(value, Text):
        return value.text, []
    if not isinstance(value, list | tuple) or not any(
        isinstance(v, Text | Image | Document | Audio) for v in value
    ):
        return None
    texts: list[str] = []
    media: list[Media] = []
    for v in value:
        if isinstance(v, Image | Document | Audio):
            media.append(v)
        elif isinstance(v, Text):
            texts.append(v.text)
        elif isinstance(v, str):
            texts.append(v)
        else:  # other data beside the media: its JSON text (the media never in it)
            texts.append(pydantic_core.to_json(v, fallback=str).decode())
    return "\n\n".join(texts), media


def with_media(st: RunState, result: ToolResultMessage, media: Sequence[Any]) -> ToolResultMessage:
    """``result`` with the media the model can take in ``parts``; a part it cannot take
    is left out and the model is told so in the text (the run goes on)."""
    kept: list[Any] = []
    notes: list[str] = []
    fetch = bool(st.spec.fetch_urls)
    for part in media:
        err = None if isinstance(part, Text) else refusal(st.model, part, fetch)
        if err is None:
            kept.append(part)
        else:
            notes.append(f"[the {part.type} the tool returned is not shown: {err}]")
    content = "\n".join(filter(None, [result.content or text_of(kept), *notes]))
    if kept:
        st.media = True  # prepared (URLs fetched when allowed) before the next turn
    return result.model_copy(update={"content": content, "parts": kept})
