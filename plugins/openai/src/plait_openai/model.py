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
    Rejected,
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

from . import chat, chat_stream, parts, responses, responses_stream, state
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
            responses_stream.StreamParser
            if options.api == "responses"
            else chat_stream.StreamParser
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
        stateful = options.api == "responses" and (
            options.server_state if options.server_state is not None else options.store is not False
        )
        self._stateful = stateful
        # Declared to the kernel (``Model`` optional attributes): the run options
        # previous_response_id= and conversation= reach this model in settings.extra.
        self.server_state_key: str | None = state.PREVIOUS if stateful else None
        self.conversation_key: str | None = state.CONVERSATION if stateful else None
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

    def _plan(self, messages: Sequence[Any], params: Any) -> state.Continuation | None:
        """What to send of the conversation (server state), or ``None``: all of it."""
        extra = params.settings.extra
        if self._stateful:
            return state.continuation(messages, extra, provider=self.provider)
        if extra and not state.STATE_KEYS.isdisjoint(extra):
            why = "this model resends the whole conversation (server_state=False or store=False)"
            if self.options.api != "responses":
                why = "Chat Completions keeps no conversation on the server: use api='responses'"
            state.refuse_state(extra, provider=self.provider, why=why)
        return None

    def _body(
        self,
        messages: Sequence[Any],
        params: Any,
        plan: state.Continuation | None,
        *,
        stream: bool,
    ) -> bytes:
        if self._key_missing:
            raise AuthenticationFailed(
                "no API key: set OPENAI_API_KEY or pass api_key", provider=self.provider
            )
        if plan is None:
            body = self._wire.build_request(
                self.model_id, messages, params, self.options, stream=stream
            )
        else:
            body = responses.build_request(
                self.model_id, plan.messages, params, self.options, stream=stream, state=plan
            )
        return _JSON.encode(body).encode()

    async def _open(self, content: bytes) -> httpx.Response:
        """Send one request; an error status raises its mapped error (body read, closed)."""
        client = self._pool.get()
        request = client.build_request("POST", self._url, content=content)
        try:
            response = await client.send(request, stream=True)
            if response.status_code >= 400:
                try:
                    raise self._http_error(response, await read_body(response, truncate=True))
                finally:
                    await response.aclose()
        except httpx.TransportError as exc:
            raise map_transport_error(exc, provider=self.provider, secrets=self._secrets) from exc
        return response

    async def _send(
        self, messages: Sequence[Any], params: Any, plan: state.Continuation | None, stream: bool
    ) -> tuple[httpx.Response, state.Continuation | None]:
        """Send; when the server lost the previous response, resend everything once."""
        try:
            return await self._open(self._body(messages, params, plan, stream=stream)), plan
        except Rejected as error:
            if plan is None or not state.expired(error, plan):
                raise
            plan = state.fall_back(error, plan)
        return await self._open(self._body(messages, params, plan, stream=stream)), plan

    async def request(self, messages: Sequence[Any], params: Any) -> ModelResponse:
        """Ask once (not streamed) and parse the complete answer."""
        plan = self._plan(messages, params)
        response, plan = await self._send(messages, params, plan, stream=False)
        try:
            body = await read_body(response, provider=self.provider)
        except httpx.TransportError as exc:
            raise map_transport_error(exc, provider=self.provider, secrets=self._secrets) from exc
        finally:
            await response.aclose()
        done = self._parse(body, response.status_code)
        return done if plan is None else plan.remember(done)

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
        plan = self._plan(messages, params)
        deadline = current_deadline()
        parser = self._parser(provider=self.provider, secrets=self._secrets)
        response, plan = await self._send(messages, params, plan, stream=True)
        try:
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                # a server (or proxy) that ignores `stream: true` answers in one JSON body
                body = await read_body(response, provider=self.provider)
                done = self._parse(body, response.status_code)
                if done.message.text:
                    yield TextDelta(done.message.text)
                yield ResponseDone(done if plan is None else plan.remember(done))
                return
            async with aclosing(aiter_sse(response, deadline=deadline)) as events:
                async for event in events:
                    # After the terminal event the body is drained, not abandoned, so
                    # the connection goes back to the pool.
                    if not parser.finished:
                        for delta in parser.feed(event):
                            yield delta
            done = parser.result()
            yield ResponseDone(done if plan is None else plan.remember(done))
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
