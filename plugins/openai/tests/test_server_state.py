"""Server-side conversation state (Responses API), end to end against a loopback server.

Each test runs real runs through plait-openai over HTTP and asserts what the server
received: a continued conversation sends ``previous_response_id`` and only the new
input, resends everything once when the server lost the response, and the opt-out and
Chat Completions send the whole history as before.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import anyio
import pytest

import plait
from plait import AssistantMessage, ConfigError, ModelSettings, Rejected, ToolCall
from plait.testing import LoopbackServer, Reply, make_kernel
from plait_openai.provider import OpenAIProvider
from plait_openai.testing import ChatWire, ResponsesWire

KEY = "sk-test-0123456789abcdef"
TOKENS = {"input_tokens": 10, "output_tokens": 3}


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _with_id(reply: Reply, rid: str) -> Reply:
    """``reply`` (a ``ResponsesWire`` answer, id ``resp_1``) with the response id ``rid``."""
    chunks = tuple(c.replace(b'"resp_1"', json.dumps(rid).encode()) for c in reply.chunks)
    return Reply(reply.status, reply.headers, chunks, length=reply.length)


def text(rid: str, answer: str, *, stream: bool = False) -> Reply:
    return _with_id(ResponsesWire().text(answer, stream=stream, **TOKENS), rid)


def calls(rid: str, *tool_calls: ToolCall, stream: bool = False) -> Reply:
    return _with_id(ResponsesWire().tool_calls(tool_calls, stream=stream, **TOKENS), rid)


def expired(rid: str) -> Reply:
    """OpenAI's answer for a previous response it no longer holds."""
    error = {
        "message": f"Previous response with id '{rid}' not found.",
        "type": "invalid_request_error",
        "param": "previous_response_id",
        "code": "previous_response_not_found",
    }
    return Reply.json({"error": error}, status=400)


def responses_model(server: LoopbackServer, **options: Any) -> Any:
    return OpenAIProvider("openai-responses", api="responses").model(
        "gpt-test", base_url=server.base_url, api_key=KEY, **options
    )


def bodies(server: LoopbackServer) -> list[dict[str, Any]]:
    return [r.json() for r in server.requests]


def weather(city: str) -> str:
    """The weather in a city."""
    return f"{city}: sunny"


@pytest.mark.anyio
@pytest.mark.parametrize("stream", [False, True], ids=["request", "stream"])
async def test_a_tool_turn_sends_only_the_call_outputs(stream: bool) -> None:
    call = ToolCall(id="call_1", name="weather", arguments='{"city": "Oslo"}')
    replies = [calls("resp_a", call, stream=stream), text("resp_b", "Sunny.", stream=stream)]
    async with LoopbackServer(replies) as server:
        model = responses_model(server)
        with anyio.fail_after(20):
            result = await plait.arun(
                "Weather in Oslo?",
                model=model,
                tools=[weather],
                instructions="Be brief.",
                settings=ModelSettings(stream=stream),
                kernel=make_kernel(),
            )
        await model.aclose()
    first, second = bodies(server)
    assert result.output == "Sunny."
    assert first["input"] == [{"role": "user", "content": "Weather in Oslo?"}]
    assert "previous_response_id" not in first
    assert first["instructions"] == second["instructions"] == "Be brief."
    assert first["store"] is second["store"] is True
    assert second["previous_response_id"] == "resp_a"
    assert second["input"] == [
        {"type": "function_call_output", "call_id": "call_1", "output": "Oslo: sunny"}
    ]
    asked = [m for m in result.messages if isinstance(m, AssistantMessage)]
    assert [(m.provider_data or {}).get("response_id") for m in asked] == ["resp_a", "resp_b"]


@pytest.mark.anyio
async def test_a_second_run_on_a_thread_sends_only_its_new_message(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/plait.db"
    replies = [text("resp_a", "Noted: Ada."), text("resp_b", "You are Ada.")]
    async with LoopbackServer(replies) as server:
        model = responses_model(server)
        kernel = make_kernel()
        with anyio.fail_after(20):
            await plait.arun("I am Ada.", model=model, thread="t", store=store, kernel=kernel)
            later = await plait.arun(
                "Who am I?",
                model=model,
                thread="t",
                store=store,
                instructions="Be brief.",
                kernel=kernel,
            )
        await model.aclose()
    second = bodies(server)[1]
    assert later.output == "You are Ada."
    assert second["previous_response_id"] == "resp_a"
    assert second["input"] == [{"role": "user", "content": "Who am I?"}]
    assert second["instructions"] == "Be brief."  # not carried over: sent every time


@pytest.mark.anyio
async def test_message_history_continues_from_its_last_response() -> None:
    replies = [text("resp_a", "Noted: Ada."), text("resp_b", "You are Ada.")]
    async with LoopbackServer(replies) as server:
        model = responses_model(server)
        kernel = make_kernel()
        with anyio.fail_after(20):
            first = await plait.arun("I am Ada.", model=model, kernel=kernel)
            await plait.arun(
                "Who am I?", model=model, message_history=first.messages, kernel=kernel
            )
        await model.aclose()
    second = bodies(server)[1]
    assert second["previous_response_id"] == "resp_a"
    assert second["input"] == [{"role": "user", "content": "Who am I?"}]


@pytest.mark.anyio
@pytest.mark.parametrize("stream", [False, True], ids=["request", "stream"])
async def test_an_expired_response_is_resent_once_in_full(
    stream: bool, caplog: pytest.LogCaptureFixture
) -> None:
    replies = [
        text("resp_a", "Noted: Ada.", stream=stream),
        expired("resp_a"),
        text("resp_c", "You are Ada.", stream=stream),
    ]
    settings = ModelSettings(stream=stream)
    async with LoopbackServer(replies) as server:
        model = responses_model(server)
        kernel = make_kernel()
        with anyio.fail_after(20), caplog.at_level(logging.WARNING, "plait_openai"):
            first = await plait.arun("I am Ada.", model=model, settings=settings, kernel=kernel)
            later = await plait.arun(
                "Who am I?",
                model=model,
                message_history=first.messages,
                settings=settings,
                kernel=kernel,
            )
        await model.aclose()
    _, chained, resent = bodies(server)
    assert later.ok and later.output == "You are Ada."
    assert chained["previous_response_id"] == "resp_a"
    assert "previous_response_id" not in resent
    assert resent["input"] == [
        {"role": "user", "content": "I am Ada."},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Noted: Ada."}],
        },
        {"role": "user", "content": "Who am I?"},
    ]
    assert "no longer holds response 'resp_a'" in caplog.text
    # the answer to the resend is the next anchor
    last = later.messages[-1]
    assert isinstance(last, AssistantMessage) and last.provider_data is not None
    assert last.provider_data["response_id"] == "resp_c"


@pytest.mark.anyio
async def test_the_fallback_never_loops() -> None:
    history = [
        plait.UserMessage(content="I am Ada."),
        AssistantMessage(
            text="Noted.", provider_data={"response_id": "resp_a", "provider": "openai-responses"}
        ),
    ]
    async with LoopbackServer([expired("resp_a"), expired("resp_a")]) as server:
        model = responses_model(server)
        with anyio.fail_after(20), pytest.raises(Rejected):
            await plait.arun(
                "Who am I?", model=model, message_history=history, kernel=make_kernel()
            )
        await model.aclose()
    assert len(server.requests) == 2  # the chained request and one resend, no more
    assert "previous_response_id" not in bodies(server)[1]


@pytest.mark.anyio
async def test_previous_response_id_option_and_its_expiry() -> None:
    replies = [text("resp_b", "You are Ada."), expired("resp_gone")]
    async with LoopbackServer(replies) as server:
        model = responses_model(server)
        kernel = make_kernel()
        with anyio.fail_after(20):
            result = await plait.arun(
                "Who am I?", model=model, previous_response_id="resp_a", kernel=kernel
            )
            with pytest.raises(Rejected, match="message_history="):  # nothing to resend
                await plait.arun(
                    "Again?", model=model, previous_response_id="resp_gone", kernel=kernel
                )
        await model.aclose()
    first = bodies(server)[0]
    assert result.output == "You are Ada."
    assert first["previous_response_id"] == "resp_a"
    assert first["input"] == [{"role": "user", "content": "Who am I?"}]
    assert len(server.requests) == 2


@pytest.mark.anyio
async def test_a_conversation_gets_only_new_items_and_no_response_id() -> None:
    call = ToolCall(id="call_1", name="weather", arguments='{"city": "Oslo"}')
    replies = [calls("resp_a", call), text("resp_b", "Sunny.")]
    async with LoopbackServer(replies) as server:
        model = responses_model(server)
        with anyio.fail_after(20):
            await plait.arun(
                "Weather in Oslo?",
                model=model,
                tools=[weather],
                conversation="conv_1",
                kernel=make_kernel(),
            )
        await model.aclose()
    first, second = bodies(server)
    assert first["conversation"] == second["conversation"] == "conv_1"
    assert "previous_response_id" not in first and "previous_response_id" not in second
    assert first["input"] == [{"role": "user", "content": "Weather in Oslo?"}]
    assert second["input"] == [
        {"type": "function_call_output", "call_id": "call_1", "output": "Oslo: sunny"}
    ]


@pytest.mark.anyio
@pytest.mark.parametrize("options", [{"server_state": False}, {"store": False}])
async def test_the_opt_out_sends_the_full_history(options: dict[str, Any]) -> None:
    call = ToolCall(id="call_1", name="weather", arguments='{"city": "Oslo"}')
    replies = [calls("resp_a", call), text("resp_b", "Sunny.")]
    async with LoopbackServer(replies) as server:
        model = responses_model(server, **options)
        with anyio.fail_after(20):
            result = await plait.arun(
                "Weather in Oslo?",
                model=model,
                tools=[weather],
                instructions="Be brief.",
                kernel=make_kernel(),
            )
            with pytest.raises(ValueError, match="previous_response_id"):
                await plait.arun("x", model=model, previous_response_id="r", kernel=make_kernel())
        await model.aclose()
    second = bodies(server)[1]
    assert "previous_response_id" not in second and "instructions" not in second
    assert [i.get("type") or i["role"] for i in second["input"]] == [
        "system",
        "user",
        "function_call",
        "function_call_output",
    ]
    assert all(m.provider_data is None for m in result.messages if m.role == "assistant")


@pytest.mark.anyio
async def test_chat_completions_is_unaffected() -> None:
    wire = ChatWire()
    call = ToolCall(id="call_1", name="weather", arguments='{"city": "Oslo"}')
    replies = [
        wire.tool_calls([call], stream=False, **TOKENS),
        wire.text("Sunny.", stream=False, **TOKENS),
    ]
    async with LoopbackServer(replies) as server:
        model = OpenAIProvider("openai", api="chat").model(
            "gpt-test", base_url=server.base_url, api_key=KEY
        )
        kernel = make_kernel()
        with anyio.fail_after(20):
            await plait.arun("Weather in Oslo?", model=model, tools=[weather], kernel=kernel)
            with pytest.raises(ValueError, match="conversation"):
                await plait.arun("x", model=model, conversation="conv_1", kernel=kernel)
            extra = ModelSettings(extra={"previous_response_id": "resp_a"})
            with pytest.raises(Rejected, match="Chat Completions keeps no conversation"):
                await plait.arun("x", model=model, settings=extra, kernel=kernel)
        await model.aclose()
    assert len(server.requests) == 2  # the refused runs sent nothing
    second = bodies(server)[1]
    assert "previous_response_id" not in second and "store" not in second
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "tool"]


def test_server_state_is_declared_only_where_it_works() -> None:
    provider = OpenAIProvider("openai-responses", api="responses")
    assert provider.model("m").server_state_key == "previous_response_id"  # type: ignore[attr-defined]
    assert provider.model("m").conversation_key == "conversation"  # type: ignore[attr-defined]
    for options in ({"store": False}, {"server_state": False}):
        assert provider.model("m", **options).server_state_key is None  # type: ignore[attr-defined]
    assert OpenAIProvider("openai", api="chat").model("m").server_state_key is None  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="store=False"):
        provider.model("m", server_state=True, store=False)
    with pytest.raises(ConfigError, match="Responses API"):
        OpenAIProvider("openai", api="chat").model("m", server_state=True)
    with pytest.raises(ConfigError, match="true or false"):
        provider.model("m", server_state="yes")


def test_a_renamed_call_is_not_an_anchor() -> None:
    """A call the kernel renamed (a repeated id) is unknown to the server under its new
    id: the message before it is the anchor, and the renamed call is sent as input."""
    from plait import ToolResultMessage, UserMessage
    from plait_openai.state import continuation

    held = {"response_id": "resp_b", "provider": "p", "call_ids": ["call_1"]}
    renamed = AssistantMessage(tool_calls=[ToolCall(id="call_1_2", name="f")], provider_data=held)
    older = AssistantMessage(text="hi", provider_data={"response_id": "resp_a", "provider": "p"})
    messages = [
        UserMessage(content="a"),
        older,
        UserMessage(content="b"),
        renamed,
        ToolResultMessage(tool_call_id="call_1_2", name="f", content="1"),
    ]
    plan = continuation(messages, {}, provider="p")
    assert plan.previous_response_id == "resp_a"
    assert list(plan.messages) == messages[2:]
    other = continuation(messages, {}, provider="another-host")
    assert other.previous_response_id is None and list(other.messages) == messages


def test_a_given_id_is_used_only_without_assistant_messages() -> None:
    """``previous_response_id`` in ``settings.extra`` stands for a conversation made
    elsewhere: with a history of assistant messages none of which is this provider's
    (another model's, or recorded before), the history is sent whole, without the id."""
    from plait import UserMessage
    from plait_openai.state import continuation

    extra = {"previous_response_id": "resp_x"}
    new = continuation([UserMessage(content="b")], extra, provider="p")
    assert new.previous_response_id == "resp_x" and len(new.messages) == 1
    history = [UserMessage(content="a"), AssistantMessage(text="hi"), UserMessage(content="b")]
    whole = continuation(history, extra, provider="p")
    assert whole.previous_response_id is None and list(whole.messages) == history
