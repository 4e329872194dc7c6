"""List the live toolsets a run may use (MCP servers) before the run is set up.

A live toolset (``LiveToolset``) lists its tools with I/O, which the sync ``setup`` must
not do. ``Runner.aprepare`` therefore awaits ``list_tools`` of every live toolset the
run may use — objects in its ``tools=``, names of registered ones (in ``tools=`` or the
stack's ``tools``), and the tools of its agents and handoff targets — once the kernel
holds it (enters it; released in ``Kernel.aclose``). ``setup`` then reads their ``tools()``, the
listing just made. A run with no live toolset pays one scan of its ``tools=``.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import FunctionType
from typing import TYPE_CHECKING, Any

from .._contracts import LiveToolset, is_live_toolset
from .._tool import FunctionTool

if TYPE_CHECKING:
    from .._kernel import Kernel
    from ._options import RunSpec

__all__ = ["list_live_tools", "may_list"]


def _candidates(spec: RunSpec, kernel: Kernel) -> Iterator[Any]:
    """Every tool item the run may be given: its own, its agents', its targets', the
    stack's names."""
    yield from spec.tools or ()
    for item in (*(spec.agents or ()), *(spec.handoffs or ())):
        agent = getattr(item, "agent", item)  # a Handoff names its agent
        options = getattr(agent, "options", None)
        if isinstance(options, dict):
            yield from options.get("tools") or ()
    stack = kernel.stack()
    if stack is not None:
        yield from stack.names("tools")


def may_list(spec: RunSpec, kernel: Kernel) -> bool:
    """The run may use a live toolset: it names tools, passes an object with
    ``list_tools``, has agents or handoffs, or the stack gives tools (a quick scan:
    plain functions are skipped by type)."""
    if spec.agents or spec.handoffs or kernel.stack() is not None:
        return True
    for t in spec.tools or ():
        cls = t.__class__
        if cls is FunctionType or cls is FunctionTool:  # most tools: no attribute lookup
            continue
        if cls is str or is_live_toolset(t):
            return True
    return False


def _live(spec: RunSpec, kernel: Kernel) -> list[LiveToolset]:
    found: dict[int, LiveToolset] = {}
    registered: dict[str, Any] | None = None
    for item in _candidates(spec, kernel):
        if isinstance(item, str):
            if registered is None:
                registered = {n: r.obj for n, r in kernel.registrations("tools").items()}
            item = registered.get(item)  # an unknown name is setup's error to raise
        if item is not None and is_live_toolset(item):
            found.setdefault(id(item), item)
    return list(found.values())


async def list_live_tools(spec: RunSpec, kernel: Kernel) -> None:
    """List every live toolset ``spec`` may use; the kernel holds them until ``aclose``."""
    for toolset in _live(spec, kernel):
        await kernel.adopt_toolset(toolset)  # held first: released even if listing fails
        await toolset.list_tools()
