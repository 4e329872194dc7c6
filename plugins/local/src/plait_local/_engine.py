"""One loaded llama.cpp model, the lock that serialises it, and token-by-token generation.

Everything here is synchronous and runs off the event loop: loading, checksum, grammar
building, tokenising and the first token in an ``anyio.to_thread`` call, the rest of the
tokens in a ``Pump`` thread. A ``Llama`` object is not re-entrant, so an ``Engine`` is
used by one request at a time; requests wait for its lock without blocking the event loop
and without holding a thread.

``llama_cpp`` is imported here and nowhere at module level: importing it loads the native
libraries, and ``OMP_WAIT_POLICY=PASSIVE`` must be in the environment before that happens
(with busy-waiting OpenMP threads on a loaded 2-core machine llama.cpp slows down 10-35x).
"""

from __future__ import annotations

import codecs
import os
import queue
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import anyio

from plait import ContextWindowExceeded

from ._files import ModelFile, ModelFileError, resolve, verify

if TYPE_CHECKING:
    from llama_cpp import Llama

    from plait.provider import FinishReason

__all__ = ["Engine", "Generation", "LoadSettings", "Pump", "Sampling", "import_llama_cpp"]

_LOCK_POLL = 0.005


def import_llama_cpp() -> ModuleType:
    """Import ``llama_cpp`` with ``OMP_WAIT_POLICY=PASSIVE`` unless the user set it."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import llama_cpp

    return llama_cpp


@dataclass(frozen=True, slots=True)
class LoadSettings:
    """What a ``Llama`` is created with; engines are shared per distinct value."""

    model_id: str
    n_ctx: int
    n_threads: int
    n_batch: int
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class Sampling:
    """Sampler settings of one request (llama-cpp-python's names)."""

    temp: float
    top_p: float
    top_k: int
    min_p: float
    repeat_penalty: float
    seed: int | None = None

    def as_kwargs(self) -> dict[str, Any]:
        return {
            "temp": self.temp,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "min_p": self.min_p,
            "repeat_penalty": self.repeat_penalty,
        }


class Engine:
    """A lazily loaded ``Llama`` with a lock; ``close`` frees the native memory."""

    def __init__(self, settings: LoadSettings) -> None:
        self.settings = settings
        self._llama: Llama | None = None
        self._file: ModelFile | None = None
        self._lock = threading.Lock()
        self._closed = False

    async def acquire(self) -> None:
        """Wait for exclusive use (polling: cancel-safe and independent of the event loop)."""
        # A threading lock, polled: anyio locks are bound to one event loop, and a
        # blocking acquire in a worker thread could not be cancelled.
        while not self._lock.acquire(blocking=False):  # noqa: ASYNC110
            await anyio.sleep(_LOCK_POLL)

    def release(self) -> None:
        self._lock.release()

    def llama(self) -> Llama:
        """The loaded model (verifying and loading it on first use). Call with the lock held."""
        if self._closed:
            raise ModelFileError("the local model was closed", provider="local")
        if self._llama is None:
            self._llama = self._load()
        return self._llama

    def _load(self) -> Llama:
        file = resolve(self.settings.model_id, sha256=self.settings.sha256)
        verify(file)
        llama_cpp = import_llama_cpp()
        s = self.settings
        try:
            llama: Llama = llama_cpp.Llama(
                model_path=str(file.path),
                n_ctx=s.n_ctx,
                n_batch=min(s.n_batch, s.n_ctx),
                n_threads=s.n_threads,
                n_threads_batch=s.n_threads,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelFileError(
                f"llama.cpp could not load {file.path}: {exc} (is it a GGUF model file?)",
                provider="local",
            ) from exc
        self._file = file
        return llama

    def close(self) -> None:
        """Free the model; safe to call twice. Call with the lock held or when unused."""
        self._closed = True
        llama, self._llama = self._llama, None
        if llama is not None:
            llama.close()


class Generation:
    """One request's token loop: ``step`` produces the next piece of text, or ``None``."""

    def __init__(
        self,
        llama: Llama,
        prompt: str,
        *,
        sampling: Sampling,
        text_sampling: Sampling | None = None,
        grammar: str | None,
        max_tokens: int,
        free_unless: str | None = None,
    ) -> None:
        llama_cpp = import_llama_cpp()
        self._llama = llama
        self.prompt_tokens = llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        # llama.cpp may round the context up; llama-cpp-python's buffers keep the size asked.
        n_ctx = min(llama.n_ctx(), llama.context_params.n_ctx)
        room = n_ctx - len(self.prompt_tokens)
        if room <= 0:
            raise ContextWindowExceeded(
                f"the prompt has {len(self.prompt_tokens)} tokens; the context window "
                f"(n_ctx) is {n_ctx}",
                provider="local",
            )
        self._limit = min(max_tokens, room)
        self._is_eog = llama_cpp.llama_vocab_is_eog
        self._vocab = llama._model.vocab
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")
        llama.set_seed(sampling.seed if sampling.seed is not None else random.getrandbits(31))
        compiled = llama_cpp.LlamaGrammar.from_string(grammar) if grammar else None
        self._text_sampling = text_sampling or sampling
        self._tokens: Iterator[int] = llama.generate(
            self.prompt_tokens, grammar=compiled, **sampling.as_kwargs()
        )
        self._free_unless = free_unless if grammar else None
        self._generated: list[int] = []
        self.output_tokens = 0
        self.finish_reason: FinishReason | None = None

    def step(self) -> str | None:
        """Generate one token and return its text ("" inside a multi-byte character)."""
        if self.finish_reason is not None:
            return None
        if self.output_tokens >= self._limit:
            self._finish("length")
            return None
        token = next(self._tokens, None)
        if token is None or self._is_eog(self._vocab, token):
            self._finish("stop")
            return None
        self.output_tokens += 1
        self._generated.append(token)
        piece = self._utf8.decode(self._llama.detokenize([token]))
        if self._free_unless is not None and piece:
            if not piece.startswith(self._free_unless):
                self._drop_grammar()
            self._free_unless = None
        return piece

    def _drop_grammar(self) -> None:
        """Go on without the grammar: the text branch was taken and admits anything."""
        self.close()
        # The prompt is still in the KV cache, so only the new token is evaluated.
        tokens = [*self.prompt_tokens, *self._generated]
        self._tokens = self._llama.generate(tokens, **self._text_sampling.as_kwargs())

    def _finish(self, reason: FinishReason) -> None:
        self.finish_reason = reason
        self.close()

    def close(self) -> None:
        """Stop generating (the generator is closed; the model stays loaded)."""
        close = getattr(self._tokens, "close", None)
        if close is not None:
            close()


class Pump:
    """Runs a ``Generation`` to the end in its own thread, ahead of the consumer.

    One worker-thread hop per token would make every token wait for the event loop and
    the worker to be scheduled, and each wake-up preempts the generating thread: on a
    busy 2-core machine that costs up to a quarter of the speed. Here the thread generates
    without waiting; the consumer takes what was generated in one hop (``take``) at most
    every ``linger`` seconds (25 times a second by default: smooth to a reader, and a few
    tokens per wake-up). ``stop`` asks the thread to end after the current token;
    ``join_if_started`` waits for it (the model must not be released before).
    """

    def __init__(self, generation: Generation, *, linger: float = 0.04) -> None:
        self._generation = generation
        self._linger = linger
        self._queue: queue.SimpleQueue[str | BaseException | None] = queue.SimpleQueue()
        self._ended = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="plait-local", daemon=True)

    def start_once(self) -> None:
        if self._thread.ident is None:
            self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                piece = self._generation.step()
                if piece is None:
                    break
                self._queue.put(piece)
        except BaseException as exc:  # handed to the consumer, raised there
            self._queue.put(exc)
        finally:
            self._queue.put(None)
            self._ended.set()

    def take(self) -> list[str | BaseException | None]:
        """Block until something was generated, linger, and return all of it (``None``: end)."""
        items = [self._queue.get()]
        self._ended.wait(self._linger)  # sleeps, woken early only by the end
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                return items

    def stop(self) -> None:
        self._stop.set()

    def join_if_started(self) -> None:
        if self._thread.ident is not None:
            self._thread.join()
