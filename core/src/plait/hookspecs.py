"""Hook specifications: the contract between the plait kernel and its plugins.

Every hook is synchronous, cheap and free of I/O. Registration hooks *return* objects
(or ``None`` / an empty iterable); all work happens in those objects' ``async`` methods,
which the kernel calls under its timeouts. A hook implementation may accept any subset of
a spec's arguments. ``async def`` implementations are rejected when the plugin loads.

Failures: a hook that raises, or returns an object that does not fit its contract, is a
*registration error* attributed to its plugin (fatal in strict mode, reported and skipped
in lenient mode). Two plugins registering the same name for the same kind is a
*duplicate name* error naming both.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ._markers import hookspec

if TYPE_CHECKING:
    from ._config import PlaitConfig
    from ._contracts import EventHandler, Executor, Guardrail, Provider, Store, Tool, Verifier

__all__ = [
    "plait_configure",
    "plait_register_event_handlers",
    "plait_register_executors",
    "plait_register_guardrails",
    "plait_register_providers",
    "plait_register_stores",
    "plait_register_tools",
    "plait_register_verifiers",
]


@hookspec
def plait_register_providers(config: PlaitConfig) -> Iterable[Provider] | None:
    """Register model providers.

    Called: once per kernel, the first time a model is resolved or providers are listed.
    Arguments: ``config`` — the validated configuration (read provider profiles from it).
    Returns: ``Provider`` objects; each ``name`` is the prefix of ``"name:model-id"``.
    Failures: raising is a registration error of this plugin; a run that needs a model of
    this plugin then fails with it.
    Since: 0.1.
    """


@hookspec
def plait_register_tools(config: PlaitConfig) -> Iterable[Tool | Any] | None:
    """Register tools and toolsets that runs can select by name.

    Called: once per kernel, the first time tools are looked up by name or listed.
    Arguments: ``config`` — the validated configuration.
    Returns: ``Tool`` objects, ``Toolset`` objects, or plain functions (adapted with
    ``plait.tool``). A ``plait.LiveToolset`` (tools listed with I/O, e.g. an MCP server)
    is kept whole under its ``name`` and listed when a run that names it starts.
    Failures: raising is a registration error; a run naming one of these tools fails.
    Since: 0.1.
    """


@hookspec
def plait_register_verifiers(config: PlaitConfig) -> Iterable[Verifier] | None:
    """Register verifiers that runs can select by name (``verifiers=["name"]``).

    Called: once per kernel, the first time verifiers are looked up or listed.
    Arguments: ``config`` — the validated configuration.
    Returns: ``Verifier`` objects with unique ``name``.
    Failures: raising is a registration error; at run time a verifier that raises or
    times out counts as a failed verdict (fail closed).
    Since: 0.1.
    """


@hookspec
def plait_register_guardrails(config: PlaitConfig) -> Iterable[Guardrail] | None:
    """Register guardrails that runs can select by name or configuration.

    Called: once per kernel, the first time guardrails are looked up or listed.
    Arguments: ``config`` — the validated configuration.
    Returns: ``Guardrail`` objects, each with a ``stage`` (input, output, tool_call,
    tool_result; ``stream`` is reserved: a run refuses it until it is implemented).
    Failures: raising is a registration error; at run time a guardrail that raises or
    times out counts as tripped (fail closed).
    Since: 0.1.
    """


@hookspec
def plait_register_event_handlers(config: PlaitConfig) -> Iterable[EventHandler] | None:
    """Register event handlers that observe every run of the kernel.

    Called: once per kernel, before its first run.
    Arguments: ``config`` — the validated configuration.
    Returns: ``EventHandler`` objects.
    Failures: raising is a registration error; at run time a handler that raises or is
    slow is isolated and reported as a ``plugin.error`` event; the run goes on.
    Since: 0.1.
    """


@hookspec
def plait_register_stores(config: PlaitConfig) -> Iterable[Store] | None:
    """Register thread/run stores, one per URL scheme.

    Called: once per kernel, the first time a store URL is opened.
    Arguments: ``config`` — the validated configuration.
    Returns: ``Store`` objects; ``scheme`` is the URL scheme they serve.
    Failures: raising is a registration error; opening a URL of that scheme then fails.
    Since: 0.1.
    """


@hookspec
def plait_register_executors(config: PlaitConfig) -> Iterable[Executor] | None:
    """Register task executors for ``run_tasks`` (``local`` is built in).

    Called: once per kernel, the first time an executor is looked up.
    Arguments: ``config`` — the validated configuration.
    Returns: ``Executor`` objects with unique ``name``.
    Failures: raising is a registration error; a run selecting that executor fails.
    Since: 0.1.
    """


@hookspec
def plait_configure(config: PlaitConfig) -> None:
    """See the validated configuration once, after all plugins are loaded.

    Called: once per kernel, after every plugin is registered (a kernel registers no
    plugin later, so the call is never replayed: the hook is not pluggy-``historic``).
    Arguments: ``config`` — the validated configuration; do not mutate it.
    Returns: nothing.
    Failures: raising is a registration error of this plugin.
    Since: 0.1.
    """
