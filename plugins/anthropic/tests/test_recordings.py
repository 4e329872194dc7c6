"""Real traffic: every recorded Anthropic exchange, served back and parsed by plait.

Each recording of ``tests/data/provider-traffic/anthropic-messages`` is replayed in
order by an ``httpx.MockTransport``. The expectations come from the recorded JSON through
the small, independent extractor of ``_recordings`` (not from plait's parser): every text, tool call
(id, name, input), thinking block (with its signature), stop reason and usage figure must
appear in plait's ``ModelResponse`` and stream events — streamed and not. The requests
plait builds for the recorded conversations are checked against what the API requires.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest

from plait.provider import ProviderError

from ._recordings import (
    DATA,
    RECORDINGS,
    UNSUPPORTED_REQUEST_CONTENT,
    Server,
    ask,
    check,
    expected,
    json_response,
    message_from_sse,
    sse_from_message,
    sse_response,
    text_of_result,
    unsupported_request,
)


def test_the_recordings_are_there() -> None:
    assert len(RECORDINGS) >= 100, DATA


def _interactions() -> Iterator[Any]:
    for path in RECORDINGS:
        data = json.loads(path.read_text())
        for number, interaction in enumerate(data["interactions"]):
            yield pytest.param(interaction, id=f"{path.stem}#{number}")


INTERACTIONS = list(_interactions())


def _recorded_message(response: dict[str, Any]) -> dict[str, Any]:
    return response["body"] if "body" in response else message_from_sse(response["sse"])


@pytest.mark.anyio
@pytest.mark.parametrize("stream", [False, True], ids=["request", "stream"])
@pytest.mark.parametrize("interaction", INTERACTIONS)
async def test_recorded_response_is_understood(interaction: dict[str, Any], stream: bool) -> None:
    recorded = interaction["response"]
    if recorded["status"] != 200:
        server = Server([json_response(recorded["status"], recorded["body"])])
        with pytest.raises(ProviderError) as info:
            await ask(server, interaction["request"]["body"], stream=stream)
        assert info.value.status_code == recorded["status"]
        assert recorded["body"]["error"]["message"] in str(info.value)
        return
    message = _recorded_message(recorded)
    if stream:
        sse = recorded.get("sse") or sse_from_message(message)
        server = Server([sse_response(sse)])
    else:
        server = Server([json_response(200, message)])
    check(await ask(server, interaction["request"]["body"], stream=stream), expected(message))


def test_error_recordings_map_to_their_classes() -> None:
    statuses = {i.values[0]["response"]["status"] for i in INTERACTIONS}
    assert {404, 400} <= statuses  # model not found and a rejected request are recorded


def _assistant_blocks(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for turn in turns:
        if turn["role"] != "assistant":
            continue
        content = turn["content"]
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        for block in content:
            block = {k: v for k, v in block.items() if k != "cache_control"}
            if block["type"] == "text" and not block["text"]:
                continue
            out.append(block)
    return out


def _user_blocks(turns: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out = []
    for turn in turns:
        if turn["role"] != "user":
            continue
        content = turn["content"]
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        for b in content:
            if b["type"] == "text":
                out.append(("text", b["text"]))
            elif b["type"] == "tool_result":
                out.append((b["tool_use_id"], text_of_result(b.get("content"))))
    return out


def check_api_rules(body: dict[str, Any]) -> None:
    """What the Messages API requires of every request."""
    assert isinstance(body["model"], str) and body["model"]
    assert isinstance(body["max_tokens"], int) and body["max_tokens"] > 0
    turns = body["messages"]
    assert turns
    for before, after in itertools.pairwise(turns):
        assert before["role"] != after["role"], "roles must alternate"
    for number, turn in enumerate(turns):
        assert turn["role"] in ("user", "assistant")
        assert turn["content"], "no empty turns"
        results = [b for b in turn["content"] if b["type"] == "tool_result"]
        if not results:
            continue
        assert turn["content"][: len(results)] == results, "tool results open the user turn"
        asked = {b["id"] for b in turns[number - 1]["content"] if b["type"] == "tool_use"}
        assert {b["tool_use_id"] for b in results} <= asked, "a tool_result follows its tool_use"
        for block in turns[number - 1]["content"]:
            if block["type"] in ("thinking",):
                assert block["signature"], "thinking goes back with its signature"


@pytest.mark.anyio
@pytest.mark.parametrize("interaction", INTERACTIONS)
async def test_request_plait_builds_for_the_recorded_conversation(
    interaction: dict[str, Any],
) -> None:
    recorded = interaction["request"]["body"]
    server = Server([json_response(200, _any_message())])
    await ask(server, recorded, stream=False)
    body = server.requests[0]
    assert server.headers[0]["anthropic-version"] == "2023-06-01"
    assert server.headers[0]["x-api-key"] == "sk-ant-test-0123456789"
    check_api_rules(body)
    if unsupported_request(recorded):
        return  # listed in test_unhandled_recordings_are_listed, with the reason
    assert body["model"] == recorded["model"]
    # Assistant turns go back block for block: thinking with its signature, text,
    # tool_use with the same id and input, server-tool blocks unchanged, in order.
    assert _assistant_blocks(body["messages"]) == _assistant_blocks(recorded["messages"])
    assert _user_blocks(body["messages"]) == _user_blocks(recorded["messages"])
    system = recorded.get("system")
    if isinstance(system, list):
        system = "".join(b["text"] for b in system)
    inline = [
        b["text"] for t in recorded["messages"] if t["role"] == "system" for b in t["content"]
    ]
    assert body.get("system", "") == "\n\n".join([s for s in [system, *inline] if s])
    names = sorted(t["name"] for t in recorded.get("tools", []))
    assert sorted(t["name"] for t in body.get("tools", [])) == names


def test_unhandled_recordings_are_listed() -> None:
    """The recorded conversations plait cannot rebuild exactly, and why (responses: none)."""
    unhandled = {}
    for param in INTERACTIONS:
        kinds = unsupported_request(param.values[0]["request"]["body"])
        if kinds:
            unhandled[param.id] = [UNSUPPORTED_REQUEST_CONTENT[k] for k in kinds]
    assert all(reasons for reasons in unhandled.values())
    # Only user-side documents/images and a beta system block (11 of 167 requests);
    # every recorded *response* is understood, streamed and not.
    assert len(unhandled) == 11, unhandled


def _any_message() -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude",
        "content": [{"type": "text", "text": "ok"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
