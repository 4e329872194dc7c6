"""One redaction policy: secrets never reach events, handlers, or the model via tool output."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import plait
from plait import Redactor
from plait._kernel import Kernel
from plait._redact import StreamRedactor
from plait.testing import FunctionModel, ScriptedModel, Turn, call

ENV_KEY = "zq-env-4f9c2b7d1e8a"  # does not look like a key: only the env name marks it
OPENAI_KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123"
ANTHROPIC_KEY = "sk-ant-api03-AbCdEfGhIjKlMnOpQrSt"


def test_default_policy_masks_key_shapes_and_env_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_API_KEY", ENV_KEY)
    monkeypatch.setenv("DB_PASSWORD", "correct-horse")
    monkeypatch.setenv("PLAIN_SETTING", "not-a-secret-value")
    r = Redactor()
    text = (
        f"a {OPENAI_KEY} b {ANTHROPIC_KEY} c Authorization: Bearer abc.def-ghi_jkl "
        f"d AKIAIOSFODNN7EXAMPLE e {ENV_KEY} f correct-horse g not-a-secret-value"
    )
    out = r(text)
    for secret in (OPENAI_KEY, ANTHROPIC_KEY, "abc.def-ghi_jkl", "AKIAIOSFODNN7EXAMPLE", ENV_KEY):
        assert secret not in out
    assert "correct-horse" not in out
    assert "not-a-secret-value" in out  # only names ending in _API_KEY, _TOKEN, ... count
    assert out.count("[REDACTED]") == 6
    assert ENV_KEY not in repr(r)


def test_clean_text_is_returned_unchanged() -> None:
    r = Redactor(env=False)
    text = "The weather in Paris is 21 degrees; ask the desk."
    assert r(text) is text


def test_custom_secrets_mask_and_patterns() -> None:
    r = Redactor(patterns=[r"\d{4}-\d{4}"], secrets=["hunter22"], env=False, mask="***")
    assert r("card 1234-5678 pw hunter22 key sk-notmatchedbydefaultpatterns") == (
        "card *** pw *** key sk-notmatchedbydefaultpatterns"
    )


def _leaky_run(kernel: Kernel, **options: Any) -> tuple[plait.Result[Any], list[plait.Event]]:
    def fetch_config() -> str:
        """Return the service configuration."""
        return f"url=https://api.example.com key={ENV_KEY} backup={OPENAI_KEY}"

    def broken() -> str:
        """Fails, with a key in its message."""
        raise RuntimeError(f"auth failed for {OPENAI_KEY}")

    events: list[plait.Event] = []
    model = ScriptedModel(
        [
            Turn(calls=(call("fetch_config"), call("broken"))),
            f"the key is {ENV_KEY} and {ANTHROPIC_KEY}",  # the model echoes a secret
        ],
        chunk_size=5,  # a streamed secret arrives in pieces: text.delta events
    )
    result = plait.run(
        f"use {OPENAI_KEY}",
        model=model,
        tools=[fetch_config, broken],
        kernel=kernel,
        handlers=[events.append],
        **options,
    )
    return result, events


def test_no_secret_reaches_any_event_or_the_model(
    kernel: Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAIT_TEST_SERVICE_TOKEN", ENV_KEY)
    result, events = _leaky_run(kernel)
    assert result.status == "success"
    kinds = {e.kind for e in events}
    assert {"run.start", "tool.end", "model.response", "text.delta", "run.end"} <= kinds
    dumped = "\n".join(e.to_json() for e in events)
    for secret in (ENV_KEY, OPENAI_KEY, ANTHROPIC_KEY):
        assert secret not in dumped
        # streamed in 5-character pieces: no piece of a secret shows either
        assert not any(secret[i : i + 6] in dumped for i in range(len(secret) - 6))
    deltas = "".join(e.data["text"] for e in events if e.kind == "text.delta")
    assert deltas == "the key is [REDACTED] and [REDACTED]"
    # tool output is redacted before the model sees it
    tool_results = [m.content for m in result.messages if m.role == "tool"]
    assert any("key=[REDACTED]" in t for t in tool_results)
    assert all(ENV_KEY not in t and OPENAI_KEY not in t for t in tool_results)


def test_redact_false_turns_the_policy_off(kernel: Kernel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_TEST_SERVICE_TOKEN", ENV_KEY)
    result, events = _leaky_run(kernel, redact=False)
    dumped = "\n".join(e.to_json() for e in events)
    assert ENV_KEY in dumped  # the model's answer, unredacted
    assert any(ENV_KEY in m.content for m in result.messages if m.role == "tool")


def test_a_callable_policy_and_the_agent_setting(kernel: Kernel) -> None:
    def shout(text: str) -> str:
        return text.replace("zq-env", "<gone>")

    agent: plait.Agent[str] = plait.Agent("a", redact=shout, kernel=kernel)
    events: list[plait.Event] = []
    model = ScriptedModel([f"value {ENV_KEY} here"], chunk_size=3)
    agent.run("x", model=model, handlers=[events.append])
    deltas = "".join(e.data["text"] for e in events if e.kind == "text.delta")
    assert "<gone>" in deltas and "zq-env" not in deltas


def test_tool_error_detail_is_kept_locally_and_redacted(
    kernel: Kernel, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("PLAIT_TEST_SERVICE_TOKEN", ENV_KEY)
    with caplog.at_level(logging.DEBUG, logger="plait.tools"):
        result, _ = _leaky_run(kernel)
    (record,) = [r for r in caplog.records if r.name == "plait.tools"]
    message = record.getMessage()
    assert "RuntimeError: auth failed for [REDACTED]" in message
    assert OPENAI_KEY not in message
    errors = [m.content for m in result.messages if m.role == "tool" and m.is_error]
    assert errors and all("auth failed" not in e for e in errors)  # the model: type only


PIECES = st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(
    sizes=PIECES,
    words=st.lists(st.sampled_from(["sky", "ask", "Bob", "xylo", "AK-47", "\n"]), max_size=8),
)
def test_streamed_secrets_are_caught_however_they_are_split(
    sizes: list[int], words: list[str]
) -> None:
    r = Redactor(secrets=["correct horse battery"], env=False)
    filler = " ".join(words)
    text = (
        f"{filler} Bearer abcdefghijklmnop, {OPENAI_KEY} {filler} correct horse battery "
        f'{{"k":"AKIAIOSFODNN7EXAMPLE"}} {filler}'
    )
    stream, pieces, at = StreamRedactor(r), [], 0
    for size in sizes * (len(text) // sum(sizes) + 1):
        if at >= len(text):
            break
        pieces.append(stream.feed(text[at : at + size]))
        at += size
    pieces.append(stream.flush())
    assert "".join(pieces) == r(text)
    for secret in ("abcdefghijklmnop", OPENAI_KEY, "correct horse battery", "AKIAIOSFODNN7EXAMPLE"):
        assert not any(secret[i : i + 5] in p for p in pieces for i in range(len(secret) - 5))


def test_a_bad_redact_option_is_refused(kernel: Kernel) -> None:
    with pytest.raises(TypeError, match="redact"):
        plait.run("x", model=ScriptedModel(["ok"]), kernel=kernel, redact=42)


def test_error_text_on_the_result_and_events_is_redacted(kernel: Kernel) -> None:
    def fail(messages: Any, params: Any) -> Any:
        raise plait.Rejected(f"the key {OPENAI_KEY} was refused", provider="test")

    events: list[plait.Event] = []
    result = plait.run(
        "x",
        model=FunctionModel(fail),
        kernel=kernel,
        handlers=[events.append],
        raise_on_failure=False,
    )
    assert result.status == "failed" and result.error is not None
    assert "Rejected" in result.error and OPENAI_KEY not in result.error
    assert "[REDACTED]" in result.error
    (error,) = [e for e in events if e.kind == "error"]
    assert OPENAI_KEY not in error.to_json()


@pytest.mark.anyio
async def test_a_key_named_by_a_profile_is_redacted_whatever_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``api_key_env = "GATEWAY_KEY"`` (no ``_API_KEY`` suffix, as docs/providers.md's own
    example): the kernel knows it holds a key, so its value never leaves redacted text."""
    secret = "gw-live-6f1c2a9e4b7d0a3c"
    monkeypatch.setenv("GATEWAY_KEY", secret)
    path = tmp_path / "plait.toml"
    path.write_text(
        '[providers.gateway]\nbase_url = "http://127.0.0.1:9/v1"\napi_key_env = "GATEWAY_KEY"\n'
    )
    kernel = plait.Kernel(plait.load_config(path, environ={}), entry_points=())

    @plait.tool
    def leak() -> str:
        """Print the environment."""
        return f"key={secret}"

    events: list[plait.Event] = []
    model = ScriptedModel([[call("leak")], "done"])
    async with plait.stream("go", model=model, tools=[leak], kernel=kernel) as s:
        events.extend([e async for e in s])
        await s.result()
    sent = model.requests[1].messages[-1]
    assert secret not in str(sent.content) and "key=" in str(sent.content)
    assert all(secret not in str(e.data) for e in events)
    plain = plait.Kernel(plait.load_config(search=False, environ={}), entry_points=())
    unmasked = ScriptedModel([[call("leak")], "done"])
    await plait.arun("go", model=unmasked, tools=[leak], kernel=plain, redact=None)
    assert secret in str(unmasked.requests[1].messages[-1].content)  # not named: not known


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_a_key_the_model_echoes_is_kept_nowhere(
    anyio_backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answer text, a refusal-free tool call's arguments, the structured output: what the
    model wrote is masked before it is kept (messages, the store, the next request, the
    tool)."""
    secret = "gw-live-6f1c2a9e4b7d0a3c"
    monkeypatch.setenv("GATEWAY_KEY", secret)
    path = tmp_path / "plait.toml"
    path.write_text(
        '[providers.gateway]\nbase_url = "http://127.0.0.1:9/v1"\napi_key_env = "GATEWAY_KEY"\n'
    )
    kernel = plait.Kernel(plait.load_config(path, environ={}), entry_points=())
    sent: list[str] = []

    @plait.tool
    def post(url: str) -> str:
        """Send a request."""
        sent.append(url)
        return "ok"

    model = ScriptedModel(
        [
            Turn(text=f"Using {secret} now.", calls=(call("post", url=f"https://x/?k={secret}"),)),
            f"The key is {secret}, and {OPENAI_KEY}.",
        ]
    )
    store = f"sqlite:///{tmp_path}/runs.db"
    result = await plait.arun("go", model=model, tools=[post], kernel=kernel, store=store)
    assert result.status == "success"
    assert sent == ["https://x/?k=[REDACTED]"]
    assert secret not in result.output and OPENAI_KEY not in result.output
    assert "[REDACTED]" in result.output
    assert secret not in str(model.requests[1].messages)
    assert all(secret not in m.model_dump_json() for m in result.messages)
    async with kernel.stores()["sqlite"].open(store) as opened:  # what the store kept
        stored = await opened.load_run(result.run_id)
    assert stored is not None and secret not in repr(stored)
    await kernel.aclose()


def test_redact_false_keeps_the_answer_as_written(kernel: Kernel) -> None:
    model = ScriptedModel([f"The key is {OPENAI_KEY}."])
    result = plait.run("go", model=model, kernel=kernel, redact=False)
    assert OPENAI_KEY in result.output


def test_a_key_set_between_runs_of_one_kernel_is_masked(
    kernel: Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel shares one compiled policy between runs, and notices a changed env."""
    assert plait.run("go", model=ScriptedModel(["zq-late-1234567"]), kernel=kernel).output == (
        "zq-late-1234567"
    )
    monkeypatch.setenv("LATE_API_KEY", "zq-late-1234567")
    echoed = plait.run("go", model=ScriptedModel(["zq-late-1234567"]), kernel=kernel)
    assert echoed.output == "[REDACTED]"
    monkeypatch.setenv("LATE_API_KEY", "zq-later-7654321")  # changed: the new value counts
    again = plait.run(
        "go", model=ScriptedModel(["zq-later-7654321 zq-late-1234567"]), kernel=kernel
    )
    assert again.output == "[REDACTED] zq-late-1234567"
