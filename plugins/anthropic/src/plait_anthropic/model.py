"""``AnthropicModel``: one Claude model, asked over HTTP (``POST /v1/messages``).

The model is small on purpose (the httpx transport contract is the example): it builds
the body (``wire``), sends it through the provider's pooled client, maps every failure
into plait's error tree (``errors`` and ``plait.provider``) and parses the answer
(``response`` / ``stream``). It never retries: the kernel is the one retry layer.
Bodies go through the kit's bounded ``read_body``, ``loads_json`` and ``aiter_sse``, so the
run's size caps (``Limits.response_bytes``, ``json_depth``, ``stream_event_bytes``) hold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from typing import Any

import httpx

from plait.provider import (
    AuthenticationFailed,
    ClientPool,
    Message,
    ModelResponse,
    ProviderError,
    RequestParams,
    ResponseDone,
    StreamEvent,
    TextDelta,
    aiter_sse,
    error_from_response,
    loads_json,
    map_transport_error,
    read_body,
)

from .errors import error_from_event
from .parts import INPUT_MODALITIES, URL_INPUTS
from .response import parse_message
from .stream import StreamState
from .wire import DEFAULT_MAX_TOKENS, build_body, dumps, output_tool_name

__all__ = ["AnthropicModel"]

MESSAGES_PATH = "/v1/messages"


class AnthropicModel:
    """A model of the Anthropic Messages API. Create it with ``AnthropicProvider.model``.

    ``defaults`` are body fields sent with every request (``thinking``, ``top_k``, ...);
    ``output_mode`` is ``"native"`` (``output_config.format``) or ``"tool"`` (a forced
    tool) for structured output. The API key lives in the pool's client headers only.
    """

    __slots__ = (
        "_defaults",
        "_has_key",
        "_max_tokens",
        "_output_mode",
        "_pool",
        "_secrets",
        "model_id",
        "name",
        "provider",
    )

    input_modalities = INPUT_MODALITIES
    """What the model takes (``plait.Model`` optional attribute): text, images, documents."""
    url_inputs = URL_INPUTS
    """The parts the API fetches from a URL itself: images and documents."""

    def __init__(
        self,
        model_id: str,
        *,
        provider: str,
        pool: ClientPool,
        has_key: bool,
        secrets: tuple[str, ...] = (),
        max_tokens: int = DEFAULT_MAX_TOKENS,
        output_mode: str = "native",
        defaults: dict[str, Any] | None = None,
    ) -> None:
        if output_mode not in ("native", "tool"):
            raise ValueError(f"output_mode must be 'native' or 'tool', not {output_mode!r}")
        self.model_id = model_id
        self.name = f"{provider}:{model_id}"
        self.provider = provider
        self._pool = pool
        self._has_key = has_key
        self._secrets = secrets
        self._max_tokens = max_tokens
        self._output_mode = output_mode
        self._defaults = defaults or {}

    def __repr__(self) -> str:
        return f"AnthropicModel({self.name!r})"

    async def request(self, messages: Sequence[Message], params: RequestParams) -> ModelResponse:
        """Ask once, without streaming; return the complete answer."""
        content = self._body(messages, params, stream=False)
        client = self._client()
        try:
            async with client.stream("POST", MESSAGES_PATH, content=content) as response:
                if response.status_code != 200:
                    raise self._http_error(response, await read_body(response, truncate=True))
                body = await read_body(response, provider=self.provider)
        except httpx.TransportError as exc:
            raise map_transport_error(exc, provider=self.provider, secrets=self._secrets) from exc
        return self._parse_json(body, params)

    async def stream(
        self, messages: Sequence[Message], params: RequestParams
    ) -> AsyncIterator[StreamEvent]:
        """Ask with ``stream: true``; yield deltas, then ``ResponseDone``."""
        content = self._body(messages, params, stream=True)
        client = self._client()
        state = StreamState(
            provider=self.provider, output_tool=self._output_tool(params), secrets=self._secrets
        )
        try:
            async with client.stream("POST", MESSAGES_PATH, content=content) as response:
                if response.status_code != 200:
                    raise self._http_error(response, await read_body(response, truncate=True))
                if not response.headers.get("content-type", "").startswith("text/event-stream"):
                    # A proxy may answer a stream request with a plain message (or error).
                    body = await read_body(response, provider=self.provider)
                    done = self._parse_json(body, params)
                    if done.message.text:
                        yield TextDelta(done.message.text)
                    yield ResponseDone(done)
                    return
                async with aclosing(aiter_sse(response)) as events:
                    async for event in events:
                        for delta in state.feed(event.data, event.event):
                            yield delta
        except httpx.TransportError as exc:
            error = map_transport_error(exc, provider=self.provider, secrets=self._secrets)
            error.partial = state.partial_text() or None
            raise error from exc
        except ProviderError as error:
            if error.provider is None:  # the kit's SSE decoder does not know our name
                error.provider = self.provider
            raise
        yield ResponseDone(state.finish())

    async def aclose(self) -> None:
        """Close the pooled connections this model uses (its own, or its provider's shared
        pool: they reopen on demand for the models that still need them). Idempotent."""
        await self._pool.aclose()

    # --- helpers ------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if not self._has_key:
            raise AuthenticationFailed(
                "no API key: set ANTHROPIC_API_KEY (or the profile's api_key_env), "
                "or pass api_key= to the model",
                provider=self.provider,
            )
        return self._pool.get()

    def _output_tool(self, params: RequestParams) -> str | None:
        if params.output is None or self._output_mode != "tool":
            return None
        return output_tool_name(params.output)

    def _body(self, messages: Sequence[Message], params: RequestParams, *, stream: bool) -> bytes:
        body = build_body(
            self.model_id,
            messages,
            params,
            defaults=self._defaults,
            max_tokens=self._max_tokens,
            output_mode=self._output_mode,
            stream=stream,
        )
        return dumps(body)

    def _http_error(self, response: httpx.Response, body: bytes) -> ProviderError:
        return error_from_response(
            response.status_code,
            response.headers,
            body,
            provider=self.provider,
            secrets=self._secrets,
        )

    def _parse_json(self, body: bytes, params: RequestParams) -> ModelResponse:
        payload = loads_json(body, provider=self.provider, what="the response body")
        if isinstance(payload, dict) and payload.get("type") == "error":
            raise error_from_event(payload, provider=self.provider, secrets=self._secrets)
        return parse_message(payload, provider=self.provider, output_tool=self._output_tool(params))
