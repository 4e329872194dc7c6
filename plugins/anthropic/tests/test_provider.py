"""The provider: registration through the entry point, configuration, secrets, clients."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import httpx
import pytest

from plait import Kernel
from plait.provider import (
    AuthenticationFailed,
    Model,
    PlaitConfig,
    Provider,
    ProviderProfile,
    RequestParams,
    UserMessage,
)
from plait_anthropic.provider import AnthropicProvider

KEY = "sk-ant-api03-TOPSECRET-abcdefghijklmnop"
MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-x",
    "content": [{"type": "text", "text": "hello"}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 3, "output_tokens": 1, "cache_read_input_tokens": 2},
}


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json=MESSAGE)


def kernel(**config: Any) -> Kernel:
    # Allow-list: only this plugin's entry point is imported (built-ins are not our subject).
    return Kernel(PlaitConfig(plugins=("anthropic",), **config), builtins=False, strict=True)


def test_the_entry_point_registers_the_provider() -> None:
    providers = kernel().providers()
    assert isinstance(providers["anthropic"], Provider)
    assert isinstance(providers["anthropic"].model("claude-x"), Model)


def test_profiles_with_the_anthropic_api_become_providers() -> None:
    profiles = {
        "claude-proxy": ProviderProfile(
            api="anthropic", base_url="http://proxy.test", api_key_env="PROXY_KEY"
        ),
        "groq": ProviderProfile(api="openai", base_url="http://groq.test"),
    }
    providers = kernel(providers=profiles).providers()
    assert "claude-proxy" in providers
    assert isinstance(providers["claude-proxy"], AnthropicProvider)
    assert not isinstance(providers.get("groq"), AnthropicProvider)


@pytest.mark.anyio
async def test_a_profile_sends_to_its_host_with_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROXY_KEY", KEY)
    profile = ProviderProfile(
        api="anthropic",
        base_url="http://proxy.test/anthropic",
        api_key_env="PROXY_KEY",
        headers={"x-team": "a"},
        options={"max_tokens": 123},
    )
    recorder = Recorder()
    async with kernel(providers={"claude-proxy": profile}) as k:
        model = k.model("claude-proxy:claude-x", transport=httpx.MockTransport(recorder))
        response = await model.request([UserMessage(content="hi")], RequestParams())
    assert response.message.text == "hello"
    (sent,) = recorder.requests
    assert str(sent.url) == "http://proxy.test/anthropic/v1/messages"
    assert sent.headers["x-api-key"] == KEY
    assert sent.headers["x-team"] == "a"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert json.loads(sent.content)["max_tokens"] == 123
    assert model.name == "claude-proxy:claude-x"


@pytest.mark.anyio
async def test_key_and_base_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://env.test/")
    recorder = Recorder()
    model = AnthropicProvider().model("claude-x", transport=httpx.MockTransport(recorder))
    await model.request([UserMessage(content="hi")], RequestParams())
    await model.aclose()
    assert str(recorder.requests[0].url) == "http://env.test/v1/messages"
    assert recorder.requests[0].headers["x-api-key"] == KEY


@pytest.mark.anyio
async def test_explicit_options_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env-0000000")
    recorder = Recorder()
    model = AnthropicProvider().model(
        "claude-x", api_key=KEY, base_url="http://opt.test", transport=httpx.MockTransport(recorder)
    )
    await model.request([UserMessage(content="hi")], RequestParams())
    await model.aclose()
    assert str(recorder.requests[0].url) == "http://opt.test/v1/messages"
    assert recorder.requests[0].headers["x-api-key"] == KEY


@pytest.mark.anyio
async def test_no_key_for_the_official_api_fails_before_any_request() -> None:
    model = AnthropicProvider(environ={}).model("claude-x")
    with pytest.raises(AuthenticationFailed, match="ANTHROPIC_API_KEY"):
        await model.request([UserMessage(content="hi")], RequestParams())


def test_the_key_is_in_no_repr() -> None:
    provider = AnthropicProvider(api_key=KEY)
    model = provider.model("claude-x")
    other = provider.model("claude-y", api_key=KEY, base_url="http://h.test")
    for obj in (provider, model, other, model._pool, other._pool):
        assert KEY not in repr(obj)
    assert "TOPSECRET" not in repr(provider)


@pytest.mark.anyio
async def test_model_options_become_body_defaults_and_settings_win() -> None:
    recorder = Recorder()
    model = AnthropicProvider(api_key=KEY).model(
        "claude-x",
        transport=httpx.MockTransport(recorder),
        thinking={"type": "enabled", "budget_tokens": 1024},
        cache_control={"type": "ephemeral"},
        max_tokens=2000,
    )
    from plait.provider import ModelSettings

    await model.request(
        [UserMessage(content="hi")], RequestParams(settings=ModelSettings(max_tokens=3000))
    )
    await model.aclose()
    body = json.loads(recorder.requests[0].content)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert body["cache_control"] == {"type": "ephemeral"}
    assert body["max_tokens"] == 3000


@pytest.mark.anyio
async def test_models_share_the_provider_client_and_aclose_closes_it() -> None:
    recorder = Recorder()
    provider = AnthropicProvider(api_key=KEY)
    a = provider.model("a")
    b = provider.model("b")
    assert a._pool is b._pool  # no connection options: the provider's pool
    own = provider.model("c", transport=httpx.MockTransport(recorder))
    assert own._pool is not a._pool  # connection options: a pool of its own
    await own.request([UserMessage(content="hi")], RequestParams())
    client = own._pool.get()
    await own.aclose()
    assert client.is_closed
    # Still usable: a new client opens on the next request.
    await own.request([UserMessage(content="hi")], RequestParams())
    await own.aclose()
    shared = a._pool.get()
    await b.aclose()  # closes the shared client; a reopens one when asked
    assert shared.is_closed
    assert not a._pool.get().is_closed
    await provider.aclose()
    await provider.aclose()  # idempotent


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_streams_on_asyncio_and_trio(anyio_backend: str) -> None:
    payloads: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {"id": "m", "model": "c", "usage": {"input_tokens": 2}},
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "yo"}},
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 4},
        },
        {"type": "message_stop"},
    ]
    sse = "".join(f"data: {json.dumps(p)}\n\n" for p in payloads)

    def handler(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content)["stream"] is True
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=sse.encode()
        )

    model = AnthropicProvider(api_key=KEY).model("c", transport=httpx.MockTransport(handler))
    events = [e async for e in model.stream([UserMessage(content="hi")], RequestParams())]
    await model.aclose()
    done = events[-1].response  # type: ignore[union-attr]
    assert done.message.text == "yo"
    assert (done.usage.input_tokens, done.usage.output_tokens) == (2, 4)


def test_hooks_import_no_httpx() -> None:
    modules = "plait_anthropic, plait_anthropic.hooks, plait_anthropic.provider"
    code = f"import sys, {modules}; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
