"""Hypothesis strategies for the decoder fuzz targets, and the checks they share.

Structured inputs start from real recorded traffic (tests/data/provider-traffic) and
mutate it: keys dropped, values replaced by other types, nulls, huge numbers, unicode
or random JSON, lists truncated or duplicated; streams get events dropped, duplicated,
reordered, cut, or replaced by garbage. Values stay at a nesting depth far below 100:
the bounded JSON loader rejects deeper documents before any decoder sees them.

Recordings are read lazily (``st.deferred``) and cached, so importing this module reads
no file.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from plait.provider import (
    ModelResponse,
    ProviderError,
    ServerSentEvent,
    SSEDecoder,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
)

TRAFFIC = Path(__file__).resolve().parents[1] / "data" / "provider-traffic"

FINISH_REASONS = frozenset(
    {"stop", "length", "tool_calls", "content_filter", "refusal", "incomplete"}
)

# Keys the decoders read: random dicts use them so that they reach deep code paths.
KEYS = (
    "type", "text", "content", "delta", "index", "id", "name", "arguments", "function",
    "tool_calls", "choices", "message", "usage", "error", "output", "item", "response",
    "status", "finish_reason", "stop_reason", "input", "partial_json", "content_block",
    "output_index", "item_id", "call_id", "summary", "refusal", "reasoning",
    "reasoning_content", "reasoning_details", "code", "detail", "thinking", "signature",
    "citation", "data", "incomplete_details", "reason", "model", "input_tokens",
    "output_tokens", "prompt_tokens", "completion_tokens", "x_groq",
)  # fmt: skip


# --- recorded traffic -------------------------------------------------------------------


@cache
def _interactions(api: str) -> tuple[dict[str, Any], ...]:
    out: list[dict[str, Any]] = []
    for path in sorted((TRAFFIC / api).glob("*.json")):
        out.extend(json.loads(path.read_text("utf-8"))["interactions"])
    return tuple(out)


@cache
def recorded_bodies(api: str) -> tuple[dict[str, Any], ...]:
    """The successful JSON response bodies recorded for ``api``."""
    return tuple(
        i["response"]["body"]
        for i in _interactions(api)
        if i["response"]["status"] < 400 and isinstance(i["response"].get("body"), dict)
    )


@cache
def recorded_errors() -> tuple[tuple[int, bytes], ...]:
    """Every recorded error response, of every API: ``(status, raw body)``."""
    out: list[tuple[int, bytes]] = []
    for api in sorted(p.name for p in TRAFFIC.iterdir() if p.is_dir()):
        for i in _interactions(api):
            r = i["response"]
            if r["status"] >= 400:
                raw = json.dumps(r["body"]) if "body" in r else r.get("text", "")
                out.append((r["status"], raw.encode()))
    return tuple(out)


@cache
def recorded_sse(api: str) -> tuple[str, ...]:
    """The recorded event-stream texts of ``api``."""
    return tuple(i["response"]["sse"] for i in _interactions(api) if "sse" in i["response"])


@cache
def recorded_streams(api: str) -> tuple[tuple[tuple[str | None, Any], ...], ...]:
    """Each recorded stream of ``api`` as ``(event name, decoded JSON or raw data)`` pairs."""
    streams = []
    for text in recorded_sse(api):
        decoder = SSEDecoder()
        events = decoder.feed(text.encode()) + decoder.close()
        streams.append(tuple((e.event, _maybe_json(e.data)) for e in events))
    return tuple(streams)


def _maybe_json(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return RawData(data)


class RawData(str):
    """An event's data that is sent as is, not JSON-encoded."""


# --- values -----------------------------------------------------------------------------

# Strings: any unicode except lone surrogates, which only a JSON loader can produce from
# ``\\ud800`` escapes (see test_fuzz_json_text.py).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
NASTY: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, -1, 1, 2**31, 2**63, -(2**63), 10**300, -(10**300)]),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
    st.sampled_from(["", " ", "null", "{", "[DONE]", "{}", "é" * 40, "\x00", "🦜" * 5]),
    st.just([]),
    st.just({}),
    st.sampled_from(KEYS),
)
JSON: st.SearchStrategy[Any] = st.recursive(
    NASTY,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | TEXT, inner, max_size=5),
    ),
    max_leaves=16,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterable[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


_OPS = ("delete", "nasty", "json", "wrap", "stringify", "duplicate", "add_key", "to_list")


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[Any], *, max_mutations: int = 4) -> Any:
    """A value drawn from ``base``, then mutated 0..``max_mutations`` times."""
    value = copy.deepcopy(draw(base))
    for _ in range(draw(st.integers(0, max_mutations))):
        value = _mutate_once(draw, value)
    return value


def _mutate_once(draw: st.DrawFn, value: Any) -> Any:
    paths = list(_paths(value))
    path = draw(st.sampled_from(paths))
    op = draw(st.sampled_from(_OPS))
    node = _get(value, path)
    if op == "nasty":
        new: Any = draw(NASTY)
    elif op == "json":
        new = draw(JSON)
    elif op == "wrap":
        new = [node]
    elif op == "stringify":
        new = json.dumps(node)
    elif op == "to_list":
        new = list(node.values()) if isinstance(node, dict) else node
    elif op == "duplicate" and isinstance(node, list) and node:
        new = [*node, *node[draw(st.integers(0, len(node) - 1)) :]]
    elif op == "add_key" and isinstance(node, dict):
        new = {**node, draw(st.sampled_from(KEYS)): draw(JSON)}
    elif op == "delete" and path:
        parent = _get(value, path[:-1])
        del parent[path[-1]]
        return value
    else:
        new = draw(JSON)
    if not path:
        return new
    _get(value, path[:-1])[path[-1]] = new
    return value


def recorded(api: str) -> st.SearchStrategy[dict[str, Any]]:
    """One recorded response body of ``api`` (unchanged)."""
    return st.deferred(lambda: st.sampled_from(recorded_bodies(api)))


def bodies(api: str) -> st.SearchStrategy[dict[str, Any]]:
    """Response objects (what a JSON loader hands a decoder): recorded ones mutated, and
    now and then a random object."""
    random_objects = st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6)
    return st.one_of(mutated(recorded(api)), random_objects).filter(
        lambda body: isinstance(body, dict)
    )


# --- streams ----------------------------------------------------------------------------

Event = tuple[str | None, Any]


def _event_data(draw: st.DrawFn, data: Any) -> str:
    if isinstance(data, RawData):
        return str(data)
    text = json.dumps(data, ensure_ascii=False)
    if draw(st.integers(0, 19)) == 0:  # cut inside the JSON
        return text[: draw(st.integers(0, len(text)))]
    return text


@st.composite
def streams(
    draw: st.DrawFn, api: str, synthetic: st.SearchStrategy[Event]
) -> list[ServerSentEvent]:
    """A recorded stream of ``api``, mutated event-wise and field-wise."""
    events: list[Event] = [
        (e, copy.deepcopy(d)) for e, d in draw(st.sampled_from(recorded_streams(api)))
    ]
    for _ in range(draw(st.integers(0, 5))):
        op = draw(st.integers(0, 8))
        n = len(events)
        if op == 0 and n:
            del events[draw(st.integers(0, n - 1))]
        elif op == 1 and n:
            i = draw(st.integers(0, n - 1))
            events.insert(draw(st.integers(0, n)), events[i])
        elif op == 2 and n > 1:
            i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
            events[i], events[j] = events[j], events[i]
        elif op == 3:
            events = events[: draw(st.integers(0, n))]
        elif op == 4:
            garbage = draw(st.sampled_from(["", "[DONE]", "{", "nope", "null", "[]", "NaN", "1"]))
            events.insert(draw(st.integers(0, n)), (None, RawData(garbage)))
        elif op == 5:
            events.insert(draw(st.integers(0, n)), draw(synthetic))
        elif n:
            i = draw(st.integers(0, n - 1))
            name, data = events[i]
            if not isinstance(data, RawData):
                data = _mutate_once(draw, copy.deepcopy(data))
            events[i] = (name, data)
    return [ServerSentEvent(event=name, data=_event_data(draw, data)) for name, data in events]


def synthetic_events(types: Iterable[str]) -> st.SearchStrategy[Event]:
    """Made-up events: a known ``type`` and random fields (the keys decoders read)."""
    kinds = tuple(types)
    return st.builds(
        lambda kind, fields, named: (kind if named else None, {"type": kind, **fields}),
        st.sampled_from(kinds),
        st.dictionaries(st.sampled_from(KEYS), JSON, max_size=5),
        st.booleans(),
    )


# --- checks -----------------------------------------------------------------------------


def size_of(value: Any) -> int:
    """Characters of ``value`` as JSON (the measure outputs are bounded by)."""
    return len(json.dumps(value, ensure_ascii=False, default=str))


def check_response(response: Any, input_size: int) -> None:
    """``response`` is a well-formed ``ModelResponse`` that the store can persist, and
    no bigger than its input allows."""
    assert isinstance(response, ModelResponse)
    message = response.message
    assert isinstance(message.text, str)
    assert response.finish_reason in FINISH_REASONS
    for call in message.tool_calls:
        assert isinstance(call.id, str) and call.id
        assert isinstance(call.name, str) and isinstance(call.arguments, str)
    for value in response.usage.model_dump().values():
        assert isinstance(value, int) and 0 <= value < 2**63, response.usage
    # What the store does with a response: JSON, no NaN, UTF-8.
    dumped = json.dumps(response.model_dump(mode="json"), ensure_ascii=False, allow_nan=False)
    dumped.encode("utf-8")
    payload = len(message.text) + sum(len(c.arguments) + len(c.id) for c in message.tool_calls)
    assert payload <= 4 * input_size + 64 * (len(message.tool_calls) + 1)


def check_deltas(deltas: Any) -> None:
    """Deltas are a list of well-typed stream events."""
    assert isinstance(deltas, list)
    for delta in deltas:
        if isinstance(delta, TextDelta | ThinkingDelta):
            assert isinstance(delta.text, str)
            delta.text.encode("utf-8")
        else:
            assert isinstance(delta, ToolCallDelta), delta
            assert isinstance(delta.index, int) and delta.index >= 0
            assert delta.id is None or isinstance(delta.id, str)
            assert delta.name is None or isinstance(delta.name, str)
            assert isinstance(delta.arguments, str)


def decodes_or_typed_error(call: Callable[[], Any]) -> Any:
    """``call()``'s result, or ``None`` when it raised a typed ``ProviderError``.

    Any other exception propagates: that is the bug a fuzz target is looking for.
    """
    try:
        return call()
    except ProviderError:
        return None


def run_stream(
    feed: Callable[[ServerSentEvent], Any],
    events: list[ServerSentEvent],
    *,
    finished: Callable[[], bool] = lambda: False,
) -> None:
    """Feed ``events`` as a model does (stopping at the first error, or once the parser
    says the stream is finished); every call returns typed deltas or raises a typed
    error."""
    for event in events:
        if finished():
            break
        deltas = decodes_or_typed_error(lambda event=event: feed(event))
        if deltas is None:
            return
        check_deltas(deltas)


def input_size(events: list[ServerSentEvent]) -> int:
    """Characters a stream carried."""
    return sum(len(e.data) + len(e.event or "") for e in events)
