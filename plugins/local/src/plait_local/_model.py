"""``LocalProvider`` and ``LocalModel``: plait's Model contract over an in-process llama.cpp.

The provider is cheap to create and does no I/O; a model is loaded (checksum first) the
first time it is asked. Loaded models are shared per provider and settings, and freed
when the last ``LocalModel`` using them is closed (or the provider is). The prompt and
the first token are computed in one ``anyio.to_thread`` call; a pump thread generates the
rest and checks for a stop between tokens, so a cancelled request stops between two
tokens, and the model is never used by two requests at once (one lock per loaded model).
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import anyio
import anyio.lowlevel
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from plait import (
    ConfigError,
    Message,
    ModelResponse,
    ModelSettings,
    RequestParams,
    ResponseDone,
    Usage,
)
from plait.provider import DefaultModel

from ._decode import Decoder
from ._engine import Engine, Generation, LoadSettings, Pump, Sampling
from ._files import KNOWN_MODELS
from ._grammar import Plan, plan
from ._prompt import render

if TYPE_CHECKING:
    from plait.provider import StreamEvent

__all__ = ["LocalModel", "LocalOptions", "LocalProvider"]


class LocalOptions(BaseModel):
    """Options of ``local:`` models: ``[tool.plait.plugin.local]`` or ``model(id, **options)``.

    ``n_threads`` defaults to 1: a safe choice on a shared 2-core machine. ``max_tokens``
    caps an answer when the request's settings do not; sampling defaults are tuned for
    small models (low temperature; a mild repeat penalty for free text only, constrained
    JSON is sampled without one). ``sha256`` pins a custom file.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_threads: int = Field(default=1, ge=1)
    n_ctx: int = Field(default=4096, ge=64)
    n_batch: int = Field(default=512, ge=1)
    max_tokens: int = Field(default=1024, ge=1)
    temperature: float = Field(default=0.2, ge=0)
    top_p: float = Field(default=0.95, gt=0, le=1)
    top_k: int = Field(default=40, ge=0)
    min_p: float = Field(default=0.05, ge=0, le=1)
    repeat_penalty: float = Field(default=1.1, gt=0)
    sha256: str | None = Field(default=None, pattern="^[0-9a-fA-F]{64}$")
    max_string_length: int | None = Field(default=256, ge=1)
    """Cap on JSON strings (in calls and structured output) whose schema sets no length:
    a small model left unbounded can ramble until the context window is full."""
    max_array_items: int | None = Field(default=16, ge=1)
    """Cap on JSON arrays whose schema sets no ``maxItems``: a small model can otherwise
    repeat one item until the token limit cuts the call."""
    seed: int | None = 0
    """The sampler's seed when the request's settings give none: the same request gives
    the same answer on one machine and build. ``None`` draws a new seed per request."""
    tool_choice: Literal["auto", "required"] | None = None
    """Used when a request offers tools and leaves ``tool_choice`` unset. A 135M model
    almost never chooses a call on its own; ``"required"`` makes every answer a call
    (end a run through the completion tool then)."""


def _options(values: Mapping[str, Any], where: str) -> LocalOptions:
    try:
        return LocalOptions.model_validate(dict(values))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{where}: invalid local model options: {problems}") from None


class LocalProvider:
    """The ``local`` provider: ``local:smollm2`` or ``local:/path/to/model.gguf``."""

    name = "local"
    default_model = DefaultModel("smollm2")  # runs here without a key: the last resort

    def __init__(self, **defaults: Any) -> None:
        self._defaults = dict(defaults)
        _options(self._defaults, "[tool.plait.plugin.local]")
        self._engines: dict[LoadSettings, Engine] = {}
        self._users: dict[LoadSettings, int] = {}

    def models(self) -> list[str]:
        """The short model ids this provider knows (any GGUF path works besides)."""
        return sorted(KNOWN_MODELS)

    def model(self, model_id: str, **options: Any) -> LocalModel:
        """A model object (no I/O: the file is resolved and loaded on the first request)."""
        opts = _options({**self._defaults, **options}, f"local:{model_id}")
        key = LoadSettings(model_id, opts.n_ctx, opts.n_threads, opts.n_batch, opts.sha256)
        if key not in self._engines:
            self._engines[key] = Engine(key)
        self._users[key] = self._users.get(key, 0) + 1
        return LocalModel(self, self._engines[key], opts)

    async def _release(self, engine: Engine) -> None:
        key = engine.settings
        self._users[key] -= 1
        if self._users[key] == 0 and self._engines.get(key) is engine:
            del self._engines[key], self._users[key]
            await _close_engine(engine)

    async def aclose(self) -> None:
        """Free every loaded model of this provider."""
        engines, self._engines, self._users = list(self._engines.values()), {}, {}
        for engine in engines:
            await _close_engine(engine)


async def _close_engine(engine: Engine) -> None:
    # Wait for a request still using it: freeing native memory under it would crash.
    with anyio.CancelScope(shield=True):
        await engine.acquire()
        try:
            engine.close()
        finally:
            engine.release()


class LocalModel:
    """A GGUF model run by llama.cpp in this process (see the module docstring)."""

    loads_on_first_request = True  # the file is loaded by the first request
    input_modalities = frozenset({"text"})  # text only: plait refuses images before asking

    def __init__(self, provider: LocalProvider, engine: Engine, options: LocalOptions) -> None:
        self.name = f"local:{engine.settings.model_id}"
        self.options = options
        self._provider = provider
        self._engine = engine
        self._closed = False

    async def request(self, messages: Sequence[Message], params: RequestParams) -> ModelResponse:
        """Generate a complete answer (the stream, collected)."""
        async with aclosing(self.stream(messages, params)) as events:
            async for event in events:
                if isinstance(event, ResponseDone):
                    return event.response
        raise AssertionError("unreachable: stream() always ends with ResponseDone")

    async def stream(
        self, messages: Sequence[Message], params: RequestParams
    ) -> AsyncGenerator[StreamEvent, None]:
        """Yield text and tool-call deltas as tokens are generated, then ``ResponseDone``.

        The model is held from the first to the last delta: close the iterator (``aclose``,
        ``contextlib.aclosing``) when stopping early, or the next request waits for the
        garbage collector to do it.
        """
        await self._engine.acquire()
        try:
            # Loading, prompt evaluation and the first token share one thread hop (the time
            # to first token); the pump thread then generates the rest without waiting.
            gen, chosen, first = await anyio.to_thread.run_sync(self._start, messages, params)
            decoder = Decoder(chosen, params.settings.stop or ())
            pump = Pump(gen)
            pending: deque[str | BaseException | None] = deque([first])
            consumed = 0  # one piece per token; the pump may be a token ahead at a stop
            try:
                while True:
                    if not pending:
                        # Started only now, so the first delta goes out before the pump
                        # thread competes for a core.
                        pump.start_once()
                        pending.extend(await anyio.to_thread.run_sync(pump.take))
                    else:  # a batch is not a checkpoint: honour a cancel between tokens
                        await anyio.lowlevel.checkpoint_if_cancelled()
                    piece = pending.popleft()
                    if piece is None:
                        break
                    if isinstance(piece, BaseException):
                        raise piece
                    consumed += 1
                    for event in decoder.feed(piece):
                        yield event
                    if decoder.stopped:
                        break
            finally:
                pump.stop()
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(pump.join_if_started)
                gen.close()
            response = self._response(gen, decoder, consumed)
        finally:
            self._engine.release()
        yield ResponseDone(response)

    def _start(
        self, messages: Sequence[Message], params: RequestParams
    ) -> tuple[Generation, Plan, str | None]:
        llama = self._engine.llama()
        if params.tools and params.settings.tool_choice is None and self.options.tool_choice:
            choice = {"tool_choice": self.options.tool_choice}
            params = replace(params, settings=params.settings.model_copy(update=choice))
        opts = self.options
        chosen = plan(
            params, max_string_length=opts.max_string_length, max_array_items=opts.max_array_items
        )
        text_sampling = self._sampling(params.settings)
        # A repeat penalty fights JSON, which repeats quotes, colons and braces by nature.
        penalty = params.settings.extra.get("repeat_penalty", 1.0)
        sampling = replace(text_sampling, repeat_penalty=float(penalty))
        gen = Generation(
            llama,
            render(messages, params, chosen),
            sampling=sampling if chosen.grammar else text_sampling,
            text_sampling=text_sampling,
            grammar=chosen.grammar,
            max_tokens=params.settings.max_tokens or self.options.max_tokens,
            free_unless="<" if chosen.free_text else None,
        )
        try:
            return gen, chosen, gen.step()
        except BaseException:
            gen.close()
            raise

    def _sampling(self, settings: ModelSettings) -> Sampling:
        opts = self.options
        return Sampling(
            temp=opts.temperature if settings.temperature is None else settings.temperature,
            top_p=opts.top_p if settings.top_p is None else settings.top_p,
            top_k=int(settings.extra.get("top_k", opts.top_k)),
            min_p=float(settings.extra.get("min_p", opts.min_p)),
            repeat_penalty=float(settings.extra.get("repeat_penalty", opts.repeat_penalty)),
            seed=opts.seed if settings.seed is None else settings.seed,
        )

    def _response(self, gen: Generation, decoder: Decoder, tokens: int) -> ModelResponse:
        message = decoder.message()
        raw = "stop" if decoder.stopped else gen.finish_reason or "stop"
        finish = "tool_calls" if decoder.call_complete else raw
        usage = Usage(
            requests=1,
            input_tokens=len(gen.prompt_tokens),
            output_tokens=tokens,
            tool_calls=len(message.tool_calls),
        )
        return ModelResponse(
            message=message,
            usage=usage,
            finish_reason="length" if raw == "length" else finish,
            raw_finish_reason=raw,
            model=self.name,
        )

    async def aclose(self) -> None:
        """Let go of the loaded model (freed when no other model of the provider uses it)."""
        if not self._closed:
            self._closed = True
            await self._provider._release(self._engine)
