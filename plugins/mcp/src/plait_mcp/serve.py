"""``plait mcp serve``: a plait agent and registered plait tools as an MCP server.

``ServeOptions`` is what the command line gives; ``serve(options)`` builds the offers
(``serve_tools``), wraps them in the MCP SDK's low-level ``Server`` (``build_server``:
``tools/list`` and ``tools/call``) and runs it over stdio or streamable HTTP
(``serve_transports``). One ``plait.Kernel`` serves every call for the server's life and
is closed when the server stops (stdin closed, Ctrl-C, SIGTERM).

Every mistake found before serving — a bad ``AGENT`` reference, an unknown tool or model,
a non-loopback host without ``--allow-remote`` — is a ``plait.ConfigError`` that says
what to do; nothing is served then.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError
from mcp_types.jsonrpc import INVALID_PARAMS

import plait

from . import __version__
from .serve_tools import AgentOffer, ToolOffer

__all__ = ["LOOPBACK", "ServeOptions", "build_server", "load_agent", "make_offers", "serve"]

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
"""Hosts ``plait mcp serve --transport http`` binds without ``--allow-remote``."""

Offer = AgentOffer | ToolOffer


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """What to serve and how (the flags of ``plait mcp serve``)."""

    agent: str | None = None
    tools: tuple[str, ...] = ()
    transport: Literal["stdio", "http"] = "stdio"
    host: str = "127.0.0.1"
    port: int = 8000
    allow_remote: bool = False
    model: str | None = None
    store: str | None = None
    strict: bool = False


def check_host(host: str, *, allow_remote: bool) -> None:
    """Refuse a host other machines can reach unless ``allow_remote``: the server has no
    authentication, and whoever reaches it runs the agent and the tools."""
    if host not in LOOPBACK and not allow_remote:
        raise plait.ConfigError(
            f"--host {host}: other machines could reach this server, which has no "
            "authentication, and run the agent and tools; bind 127.0.0.1 (the default), "
            "or add --allow-remote to serve on this host anyway"
        )


def _import_file(path: Path) -> Any:
    name = f"plait_mcp_serve_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise plait.ConfigError(f"AGENT {path}: cannot be imported as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic resolves annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def load_agent(ref: str) -> plait.Agent[Any]:
    """The ``plait.Agent`` that ``module:attribute`` or ``path/to/file.py:attribute`` names."""
    target, sep, attr = ref.rpartition(":")
    if not sep or not target or not attr:
        raise plait.ConfigError(
            f"AGENT {ref!r}: expected 'module:attribute' or 'path/to/file.py:attribute'"
        )
    try:
        if target.endswith(".py"):
            module = _import_file(Path(target))
        else:
            module = importlib.import_module(target)
    except plait.ConfigError:
        raise
    except Exception as exc:
        raise plait.ConfigError(
            f"AGENT {ref!r}: importing {target} failed: {type(exc).__name__}: {exc}"
        ) from exc
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise plait.ConfigError(f"AGENT {ref!r}: {target} has no attribute {part!r}")
        obj = getattr(obj, part)
    if not isinstance(obj, plait.Agent):
        raise plait.ConfigError(
            f"AGENT {ref!r} is a {type(obj).__name__}, not a plait.Agent; "
            "name an Agent object (agent = plait.Agent(...))"
        )
    return obj


def _tools(kernel: plait.Kernel, name: str) -> list[plait.Tool]:
    """The registered tool ``name`` (or the tools of a toolset registered whole). A
    missing name: the kernel's error, with the plugins that failed to provide it and
    names that come close."""
    found: Any = kernel.get("tools", name)
    if not hasattr(found, "call") and hasattr(found, "tools"):
        if hasattr(found, "list_tools"):
            raise plait.ConfigError(
                f"--tools {name}: a live toolset (its tools are listed when a run starts, "
                "e.g. an MCP server); serving it again is not supported: serve plain tools"
            )
        return [t for member in found.tools() for t in _checked(kernel, member)]
    return _checked(kernel, found)


def _checked(kernel: plait.Kernel, found: Any) -> list[plait.Tool]:
    """``found`` as a ``Tool`` (a plain function adapted); one needing approval refused."""
    if not hasattr(found, "call") and callable(found):
        found = kernel.function_tool(found)
    if getattr(found, "requires_approval", False):
        raise plait.ConfigError(
            f"--tools {found.name}: the tool requires approval, and an MCP client cannot "
            "give it; serve it from a run with an approver instead"
        )
    return [found]


def make_offers(options: ServeOptions, kernel: plait.Kernel) -> list[Offer]:
    """The agent's offer (if any) and one per ``--tools`` name; duplicate names refused."""
    run_options: dict[str, Any] = {}
    if options.model is not None:
        run_options["model"] = kernel.model(options.model)  # a bad name fails here
    if options.store is not None:
        run_options["store"] = options.store
    offers: list[Offer] = []
    stray = [name for name in options.tools if ":" in name]
    if stray and options.agent is None:
        raise plait.ConfigError(
            f"--tools {stray[0]}: that looks like an AGENT (module:attribute); put AGENT "
            "before --tools, which takes the names of registered tools"
        )
    if options.agent is not None:
        agent = load_agent(options.agent)
        offers.append(AgentOffer(agent, kernel=kernel, run_options=run_options))
    offers += [ToolOffer(t, kernel=kernel) for name in options.tools for t in _tools(kernel, name)]
    if not offers:
        raise plait.ConfigError(
            "nothing to serve: name an AGENT (module:attribute) and/or --tools NAME ..."
        )
    seen: set[str] = set()
    for offer in offers:
        if offer.name in seen:
            raise plait.ConfigError(
                f"two offered tools are named {offer.name!r}; serve one of them (rename "
                "the agent, or drop the tool from --tools)"
            )
        seen.add(offer.name)
    return offers


def build_server(offers: Sequence[Offer], *, name: str = "plait") -> Server[Any]:
    """The MCP low-level server listing ``offers`` as tools and dispatching calls to them."""
    by_name = {offer.name: offer for offer in offers}

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> Any:
        return types.ListToolsResult(tools=[offer.spec for offer in offers])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> Any:
        offer = by_name.get(params.name)
        if offer is None:
            raise MCPError(INVALID_PARAMS, f"Unknown tool: {params.name!r}")
        return await offer.call(params.arguments or {})

    def input_schema(tool: str) -> Any:
        offer = by_name.get(tool)
        return None if offer is None else offer.spec.input_schema

    return Server(
        name,
        version=__version__,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        get_tool_input_schema=input_schema,
    )


async def serve(options: ServeOptions, *, ready: Callable[[str], None] | None = None) -> None:
    """Serve until the transport ends (stdin closed; Ctrl-C or SIGTERM over HTTP), then
    close the kernel. ``ready`` is told where the server listens, once it does."""
    from .serve_transports import serve_http, serve_stdio

    check_host(options.host, allow_remote=options.allow_remote)
    kernel = plait.Kernel(strict=True if options.strict else None)
    try:
        offers = make_offers(options, kernel)
        agents = (o.agent.name for o in offers if isinstance(o, AgentOffer) and o.agent.name)
        server = build_server(offers, name=next(agents, "plait"))
        if options.transport == "http":
            await serve_http(server, host=options.host, port=options.port, ready=ready)
        else:
            await serve_stdio(server, ready=ready)
    finally:
        await kernel.aclose()
