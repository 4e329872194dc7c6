"""``OpenAIModel``: one model of an OpenAI-API host, speaking HTTP through a ClientPool.

The wire format lives in ``chat.py`` (Chat Completions) and ``responses.py`` (Responses);
this module only sends, checks the status, decodes SSE and maps failures into plait's
error tree. It never retries (that is the kernel's ``request_with_retry``). Bodies are
read with the kit's bounded ``read_body`` and decoded with ``loads_json``, so the run's
size caps (``Limits.response_bytes``, ``json_depth``, ``stream_event_bytes``) hold.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from typing import Any

import httpx

from plait import (
    AuthenticationFailed,
    ModelResponse,
    ProtocolError,
    ProviderError,
    ResponseDone,
    TextDelta,
)
from plait.provider import (
    ClientPool,
    aiter_sse,
    current_deadline,
    error_from_payload,
    error_from_response,
    loads_json,
    map_transport_error,
    read_body,
)

from . import chat, chat_stream, parts, responses
from .options import OPENAI_BASE_URL, Options

__all__ = ["OpenAIModel"]

_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _endpoint(base_url: str, path: str) -> httpx.URL | str:
    """The URL ``httpx.AsyncClient(base_url=base_url)`` sends the relative ``path`` to.

    Worked out once per model: httpx parses and merges both URLs on every request. A base
    URL httpx cannot parse gives ``path`` back, so the error surfaces where it always did.
    """
    try:
        base = httpx.URL(base_url)
        raw = base.raw_path if base.raw_path.endswith(b"/") else base.raw_path + b"/"
        return base.copy_with(raw_path=raw + path.encode())
    except (httpx.InvalidURL, TypeError, ValueError):
        return path


class OpenAIModel:
    """A model of an OpenAI-API host (``Model`` contract). ``aclose`` releases its clients.

    ``enforces_deadline``: a stream stops waiting for the network when the kernel's
    request deadline (``plait.provider.current_deadline``) passes, so the retry layer
    needs no cancel scope per event.
    """

    enforces_deadline = True

    def __init__(self, model_id: str, *, provider: str, options: Options) -> None:
        self.name = f"{provider}:{model_id}"
        self.model_id = model_id
        self.provider = provider
        self.options = options
        self._wire = responses if options.api == "responses" else chat
        self._parser = (
            responses.StreamParser if options.api == "responses" else chat_stream.StreamParser
        )
        headers = {"content-type": "application/json", **options.headers}
        if options.api_key:
            headers["authorization"] = f"Bearer {options.api_key}"
        kwargs: dict[str, Any] = {"base_url": options.base_url, "headers": headers}
        for name in ("transport", "timeout", "limits"):
            value = getattr(options, name)
            if value is not None:
                kwargs[name] = value
        self._pool = ClientPool(kwargs)
        self._secrets = (options.api_key,) if options.api_key else ()
        self._url = _endpoint(options.base_url, self._wire.PATH)
        official = options.base_url.rstrip("/") == OPENAI_BASE_URL
        self._key_missing = not self._secrets and official
        # what the model takes (``plait.Model`` optional attributes; docs/inputs.md)
        self.input_modalities = (
            frozenset(options.input_modalities)
            if options.input_modalities is not None
            else parts.input_modalities(model_id, options.api, official)
        )
        self.url_inputs = parts.url_inputs(options.api)

    def __repr__(self) -> str:
        return f"OpenAIModel({self.name!r}, base_url={self.options.base_url!r})"

    def _body(self, messages: Sequence[Any], params: Any, *, stream: bool) -> bytes:
        if self._key_missing:
            raise AuthenticationFailed(
                "no API key: set OPENAI_API_KEY or pass api_key", provider=self.provider
            )
        body = self._wire.build_request(
            self.model_id, messages, params, self.options, stream=stream
        )
        return _JSON.encode(body).encode()

    async def request(self, messages: Sequence[Any], params: Any) -> ModelResponse:
        """Ask once (not streamed) and parse the complete answer."""
        content = self._body(messages, params, stream=False)
        client = self._pool.get()
        request = client.build_request("POST", self._url, content=content)
        try:
            response = await client.send(request, stream=True)
            try:
                if response.status_code >= 400:
                    raise self._http_error(response, await read_body(response, truncate=True))
                body = await read_body(response, provider=self.provider)
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            raise map_transport_error(exc, provider=self.provider, secrets=self._secrets) from exc
        return self._parse(body, response.status_code)

    def _http_error(self, response: httpx.Response, body: bytes) -> ProviderError:
        return error_from_response(
            response.status_code,
            response.headers,
            body,
            provider=self.provider,
            secrets=self._secrets,
        )

    def _parse(self, content: bytes, status_code: int) -> ModelResponse:
        """A complete JSON answer (an error payload raises its provider error)."""
        try:
            data = loads_json(content, provider=self.provider)
        except ProtocolError as error:
            error.status_code = status_code
            raise
        if not isinstance(data, dict):
            raise ProtocolError("the response is not a JSON object", provider=self.provider)
        if data.get("error") and not data.get("choices") and not data.get("output"):
            raise error_from_payload(data, provider=self.provider, secrets=self._secrets)
        result: ModelResponse = self._wire.parse_response(data, provider=self.provider)
        return result

    async def stream(self, messages: Sequence[Any], params: Any) -> AsyncGenerator[Any, None]:
        """Ask with ``stream: true``; yield deltas, then ``ResponseDone``."""
        content = self._body(messages, params, stream=True)
        deadline = current_deadline()
        client = self._pool.get()
        request = client.build_request("POST", self._url, content=content)
        parser = self._parser(provider=self.provider, secrets=self._secrets)
        try:
            response = await client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise map_transport_error(exc, provider=self.provider, secrets=self._secrets) from exc
        try:
            if response.status_code >= 400:
                raise self._http_error(response, await read_body(response, truncate=True))
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                # a server (or proxy) that ignores `stream: true` answers in one JSON body
                body = await read_body(response, provider=self.provider)
                done = self._parse(body, response.status_code)
                if done.message.text:
                    yield TextDelta(done.message.text)
                yield ResponseDone(done)
                return
            async with aclosing(aiter_sse(response, deadline=deadline)) as events:
                async for event in events:
                    # After the terminal event the body is drained, not abandoned, so
                    # the connection goes back to the pool.
                    if not parser.finished:
                        for delta in parser.feed(event):
                            yield delta
            yield ResponseDone(parser.result())
        except httpx.TransportError as exc:
            error = map_transport_error(exc, provider=self.provider, secrets=self._secrets)
            error.partial = parser.partial_text()
            raise error from exc
        except ProviderError as error:
            if error.partial is None:
                error.partial = parser.partial_text()
            if error.provider is None:  # the kit's SSE decoder does not know our name
                error.provider = self.provider
            raise
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        """Close this model's HTTP clients (idempotent)."""
        await self._pool.aclose()
