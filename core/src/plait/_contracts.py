"""The object contracts that plugins register through the hooks.

Each contract is a small ``Protocol`` with ``async`` methods: plugins need not inherit
from anything, and the kernel checks the shape when an object is registered. Hooks only
*return* these objects; all I/O happens inside their async methods, which the kernel
calls under its timeouts from one place (``plait._call``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from ._messages import Message, ModelResponse, StreamEvent
from ._settings import ModelSettings

if TYPE_CHECKING:
    from ._context import Context
    from ._events import Event
    from ._store._contract import StoreConnection

__all__ = [
    "OPTIONAL_ATTRIBUTES",
    "Completion",
    "Decision",
    "DefaultModel",
    "EventHandler",
    "Executor",
    "Guardrail",
    "GuardrailStage",
    "LiveToolset",
    "Model",
    "OutputSpec",
    "Provider",
    "RequestParams",
    "Store",
    "Tool",
    "ToolSpec",
    "Toolset",
    "Verdict",
    "Verifier",
    "is_live_toolset",
    "optional_attribute",
]


# --- what a model is asked ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as the model sees it: name, description and a JSON schema of its arguments."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    strict: bool | None = None


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """A structured output the provider may enforce natively (``response_format``)."""

    name: str
    schema: Mapping[str, Any]
    strict: bool | None = None


@dataclass(frozen=True, slots=True)
class RequestParams:
    """Everything a model request needs besides the messages."""

    tools: Sequence[ToolSpec] = ()
    settings: ModelSettings = field(default_factory=ModelSettings)
    output: OutputSpec | None = None


@runtime_checkable
class Model(Protocol):
    """A model of one provider, ready to be asked.

    Duty: turn messages into exactly one ``ModelResponse`` (``request``) or a stream of
    deltas that ends with ``ResponseDone`` (``stream``). Failures are raised as
    ``ProviderError`` subclasses; a model never retries (retry is kernel policy) and
    holds its connections until ``aclose``.

    Optional attributes (their defaults are declared in ``OPTIONAL_ATTRIBUTES``):

    * ``server_state_key: str | None = None`` — a model whose provider keeps the
      conversation server-side names the ``ModelSettings.extra`` key under which it wants
      the id of the thread's last response (an OpenAI Responses model would name
      ``"previous_response_id"``); with ``None`` it never receives one, and a run given
      ``previous_response_id=`` refuses it. The model finds in the messages which of them
      the provider already holds and sends only the others (docs/threads.md);
    * ``conversation_key: str | None = None`` — the ``ModelSettings.extra`` key under
      which the model takes the id of a conversation its provider keeps (the run option
      ``conversation=``); with ``None`` a run given ``conversation=`` refuses it;
    * ``provider: str | None = None`` — the provider named in the errors the kernel raises
      for this model (``None``: its ``name``);
    * ``enforces_deadline: bool = False`` — ``True`` when the model reads
      ``current_deadline()`` and stops a stream itself; otherwise the kernel guards every
      stream event with a cancel scope;
    * ``loads_on_first_request: bool = False`` — ``True`` when the first request loads the
      model into this process (a local runtime), so a front end can say "loading" first;
    * ``input_modalities: frozenset[str] | None = None`` — what the model takes besides
      text: a set of ``"text"``, ``"image"``, ``"document"``, ``"audio"``; the kernel
      refuses a part outside it before any request (``UnsupportedInput``). ``None``:
      unknown, every part is sent and the server decides;
    * ``url_inputs: frozenset[str] | None = None`` — the part types the model takes as a
      URL (the provider fetches it); a URL part of another type needs its bytes, which the
      kernel fetches only when the run allows it (``fetch_urls=True``). ``None``: every
      type it takes.
    """

    name: str

    async def request(self, messages: Sequence[Message], params: RequestParams) -> ModelResponse:
        """Ask the model once and return its complete answer."""
        ...

    def stream(
        self, messages: Sequence[Message], params: RequestParams
    ) -> AsyncIterator[StreamEvent]:
        """Ask the model and yield deltas; the last event must be ``ResponseDone``."""
        ...

    async def aclose(self) -> None:
        """Release connections and other resources; idempotent."""
        ...


@runtime_checkable
class Provider(Protocol):
    """A source of models, addressed by the prefix of ``"name:model-id"``.

    Optional: ``models() -> Iterable[str]`` (cheap, no I/O) lists model ids the provider
    knows, for ``plait models``, **without** the prefix: provider ``echo`` lists
    ``"default"``, which users write ``"echo:default"`` (the conformance kit refuses
    prefixed ids; ``plait models`` shows one once). ``model(model_id)`` receives the same
    bare id. ``aclose()`` releases shared resources (connection pools).

    Optional attribute (its default is declared in ``OPTIONAL_ATTRIBUTES``):
    ``default_model: DefaultModel | None = None`` — the provider's offer of one of its
    models as the default of runs that name none (see ``DefaultModel``).
    """

    name: str

    def model(self, model_id: str, **options: Any) -> Model:
        """Return a model object (cheap: no I/O until the model is asked)."""
        ...


@dataclass(frozen=True, slots=True)
class DefaultModel:
    """A provider's offer of one of its models as the default when no model is configured.

    ``model_id`` is bare (no prefix). ``env`` names an environment variable that must be
    set and non-empty for the offer to count (a hosted provider's API key; ``None``: it
    always counts). Of the offers that count, the highest ``priority`` wins (ties: the
    first in ``Kernel.providers()``): by convention ``0`` for a model that runs locally
    without a key, ``10`` for a hosted one whose key is set. A configured model
    (``model=``, ``PLAIT_MODEL``, ``model`` in the configuration) always wins.
    """

    model_id: str
    env: str | None = None
    priority: int = 0


OPTIONAL_ATTRIBUTES: Mapping[str, Any] = MappingProxyType(
    {
        "default_model": None,  # Provider: DefaultModel | None
        "server_state_key": None,  # Model: str | None
        "conversation_key": None,  # Model: str | None
        "provider": None,  # Model: str | None
        "enforces_deadline": False,  # Model: bool
        "loads_on_first_request": False,  # Model: bool
        "input_modalities": None,  # Model: frozenset[str] | None (None: unknown, any)
        "url_inputs": None,  # Model: frozenset[str] | None (None: any it takes)
    }
)
"""The optional attributes of the contracts the kernel reads, with their defaults."""


def optional_attribute(obj: object, name: str) -> Any:
    """``obj.name``, or the default declared in ``OPTIONAL_ATTRIBUTES`` (a ``KeyError`` for
    a name declared nowhere: the kernel reads no attribute it has not written down)."""
    return getattr(obj, name, OPTIONAL_ATTRIBUTES[name])


# --- tools ------------------------------------------------------------------------------


@runtime_checkable
class Tool(Protocol):
    """A callable capability the model may use.

    ``parameters`` is the JSON schema of the arguments. ``call`` receives arguments that
    have already been decoded from JSON; it validates them and may raise ``plait.Retry``.
    Flags: ``timeout`` seconds (``None``: the run's default), ``retries`` allowed after
    ``Retry`` or invalid arguments, ``idempotent`` (safe to repeat on resume),
    ``requires_approval``, ``sequential`` (a barrier: runs alone, in order).
    """

    name: str
    description: str
    parameters: Mapping[str, Any]
    timeout: float | None
    retries: int | None
    idempotent: bool
    requires_approval: bool
    sequential: bool

    async def call(self, args: Mapping[str, Any], ctx: Context[Any]) -> Any:
        """Run the tool. The return value is serialised to text for the model."""
        ...


@runtime_checkable
class Toolset(Protocol):
    """A named group of tools registered together.

    A *live* toolset gets its tools from elsewhere (an MCP server) and also has the
    async methods of ``LiveToolset``. ``tools()`` then returns what ``list_tools`` last
    listed; a run lists every live toolset it may use before it starts
    (``Runner.aprepare``), and the kernel that listed it holds it until ``Kernel.aclose``.
    """

    name: str

    def tools(self) -> Iterable[Tool]:
        """The tools of this set (cheap: no I/O)."""
        ...


@runtime_checkable
class LiveToolset(Toolset, Protocol):
    """A toolset whose tools are listed with I/O, and that holds resources while used.

    Duty: ``list_tools`` connects if need be (lazily, under its own timeout) and returns
    the current tools, cached until the source says they changed; it raises when the
    source cannot be reached (the run then does not start). ``tools()`` returns the last
    listing without I/O. The toolset is an async context manager counting its holders:
    a kernel enters it once when a run first lists it and exits it in
    ``Kernel.aclose``; so do users who keep it open across runs (``async with``). When
    the last holder exits it releases its connections and processes, and a later
    ``list_tools`` connects again. Registered by plugins through
    ``plait_register_tools`` under its ``name``, it is kept whole (not expanded), so
    ``tools=["name"]`` and the stack's ``tools`` name it. Check with ``is_live_toolset``
    (an attribute check, not this slow Protocol).
    """

    async def list_tools(self) -> Sequence[Tool]:
        """List the tools now (or return the cached listing)."""
        ...

    async def __aenter__(self) -> Any:
        """Hold the toolset (a kernel, or a user's ``async with``)."""
        ...

    async def __aexit__(self, *exc: object) -> Any:
        """Release one hold; the last releases the connection."""
        ...


def is_live_toolset(obj: object) -> bool:
    """``obj`` is a ``LiveToolset`` (it has an async ``list_tools``): cheap enough for
    every item of a run's ``tools=``."""
    return not isinstance(obj, str) and callable(getattr(obj, "list_tools", None))


# --- completion, verifiers, guardrails ----------------------------------------------------


class Completion(BaseModel):
    """What the completion tool receives: how the run ended, in the model's words."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["success", "failed"] = "success"
    summary: str = ""
    result: Any = None
    evidence: list[str] = Field(default_factory=list)


class Verdict(BaseModel):
    """A verifier's judgement. ``error`` is set when the verifier itself crashed (fail closed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    passed: bool
    reason: str | None = None
    verifier: str = ""
    error: str | None = None
    at: float | None = None
    """When the run received it (seconds since the epoch); set by the kernel."""


@runtime_checkable
class Verifier(Protocol):
    """Checks a completion before it is accepted. A crash counts as a failed verdict."""

    name: str

    async def verify(self, completion: Completion, ctx: Context[Any]) -> Verdict:
        """Judge the completion."""
        ...


GuardrailStage = Literal["input", "output", "tool_call", "tool_result", "stream"]


class Decision(BaseModel):
    """A guardrail's decision. ``replacement`` is the new content for redact/replace."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["allow", "block", "redact", "replace", "retry", "ask"] = "allow"
    reason: str | None = None
    replacement: Any = None
    guardrail: str = ""
    stage: GuardrailStage | None = None
    error: str | None = None
    at: float | None = None
    """When the run received it (seconds since the epoch); set by the kernel."""


@runtime_checkable
class Guardrail(Protocol):
    """Checks content at one ``stage``. A crash or a timeout counts as ``block`` (fail closed)."""

    name: str
    stage: GuardrailStage

    async def check(self, subject: Any, ctx: Context[Any]) -> Decision:
        """Decide about ``subject``: the input text, the output, a tool call, a tool result,
        or (``stream`` stage) the answer's text so far; each check gets its own copy."""
        ...


# --- events, stores, executors ------------------------------------------------------------


@runtime_checkable
class EventHandler(Protocol):
    """Observes events. May be slow or broken: the run is isolated from it."""

    name: str

    async def handle(self, event: Event) -> None:
        """Receive one event (content already redacted)."""
        ...


@runtime_checkable
class Store(Protocol):
    """Persists threads and runs; chosen by the URL scheme (``sqlite``, ``postgresql``)."""

    scheme: str

    def open(self, url: str) -> StoreConnection:
        """Return a ``StoreConnection`` for ``url`` (it connects on its first call)."""
        ...


@runtime_checkable
class Executor(Protocol):
    """Runs the jobs of ``run_tasks``; ``local`` (anyio) is built in."""

    name: str

    async def execute(self, job: Any) -> Any:
        """Run one job (an async callable taking no arguments) and return its result."""
        ...
