"""``plait mcp``: the command plait-mcp adds to ``plait`` (entry-point group
``plait.commands``). One action today: ``plait mcp serve``, an agent and registered tools
served over MCP (``serve``). The module is imported only when the command runs."""

from __future__ import annotations

import argparse
import sys

__all__ = ["HELP", "add_arguments", "run"]

HELP = "serve an agent and tools over MCP (Model Context Protocol)"

SERVE_HELP = "serve a plait agent and registered tools as an MCP server (stdio or HTTP)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    serve = actions.add_parser("serve", help=SERVE_HELP, description=SERVE_HELP)
    serve.add_argument(
        "agent", nargs="?", metavar="AGENT",
        help="the agent to serve: module:attribute or path/to/file.py:attribute naming a "
        "plait.Agent (one MCP tool, named after the agent)",
    )  # fmt: skip
    serve.add_argument(
        "--tools", nargs="+", action="extend", default=[], metavar="NAME",
        help="registered plait tools to serve too (names as `plait plugins` lists them); "
        "put AGENT before --tools",
    )  # fmt: skip
    serve.add_argument(
        "--transport", choices=("stdio", "http"), default="stdio",
        help="stdio (default: the client starts this command) or streamable HTTP",
    )  # fmt: skip
    serve.add_argument(
        "--host", default="127.0.0.1", help="HTTP: the address to bind (default 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=int, default=8000, help="HTTP: the port (default 8000; 0 picks a free one)"
    )
    serve.add_argument(
        "--allow-remote", action="store_true",
        help="HTTP: allow a --host other than loopback (the server has no authentication)",
    )  # fmt: skip
    serve.add_argument(
        "-m", "--model", help="'provider:model-id' for every run (default: the agent's)"
    )
    serve.add_argument(
        "--store", metavar="URL",
        help="store runs (and threads) are recorded in (default: config `store`, PLAIT_STORE, "
        "else the SQLite file; used when a call names a thread)",
    )  # fmt: skip


def _ready(where: str) -> None:
    """One line on stderr once serving: stdout is the MCP stream on stdio."""
    if where == "stdio":
        print("plait: serving MCP on stdio (close stdin to stop)", file=sys.stderr, flush=True)
    else:
        print(f"plait: serving MCP at {where} (Ctrl-C stops)", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    import anyio

    from .serve import ServeOptions, serve

    options = ServeOptions(
        agent=args.agent,
        tools=tuple(args.tools),
        transport=args.transport,
        host=args.host,
        port=args.port,
        allow_remote=args.allow_remote,
        model=args.model,
        store=args.store,
        strict=bool(getattr(args, "strict", False)),
    )
    anyio.run(lambda: serve(options, ready=_ready))
    return 0
