"""Handoffs inside one run: the transfer tools, the switch, and what the new agent sees.

A run with ``handoffs=`` (or ``agents=[...]``) offers one transfer tool per target. The
loop takes a transfer call itself (``take``): the other calls of the turn run as usual,
the call is answered ``Transferred to <name>.``, and the run goes on as the target
(``switch``). Nothing of the history is thrown away: ``st.messages`` (and so
``Result.messages`` and the store) keep everything; what the model is sent is a *view*
(``view``): the current agent's instructions as the system message, and the history
through every input filter taken so far. A resumed run takes the same switches again
from its recorded transfer results (``replay``), so a handoff survives kill -9.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._call import CallInfo, call_plugin, maybe_await
from .._handoff import Handoff, InputFilter, as_handoff, handoff
from .._messages import Message, SystemMessage, ToolCall, ToolResultMessage
from .._settings import ModelSettings
from ._history import repair_history

if TYPE_CHECKING:
    from ._options import RunSpec
    from ._state import RunState

__all__ = [
    "Active",
    "HandoffTool",
    "from_agents",
    "handoff_table",
    "replay",
    "take",
    "view",
]

TRANSFERRED = "Transferred to {name}. You are {name} now: go on with the conversation."
ONE_AT_A_TIME = "Not transferred: only the first handoff of a turn is taken."


class HandoffTool:
    """What the model sees of a handoff: a tool without arguments. The loop takes the
    call itself (``take``); nothing ever calls ``call``."""

    __slots__ = ("description", "handoff", "name", "parameters")

    def __init__(self, h: Handoff) -> None:
        self.handoff = h
        self.name = h.tool_name
        self.description = h.description
        self.parameters: dict[str, Any] = {
            "type": "object",
            "properties": {},
            "additionalProperties": False,
        }

    async def call(self, args: Any, ctx: Any) -> Any:  # pragma: no cover - never called
        raise RuntimeError("plait bug: a transfer tool is taken by the loop, not called")


@dataclass(frozen=True, slots=True)
class Active:
    """Who answers after a handoff: the system message and the input filters so far
    (each with the index of the transfer result it applies through)."""

    name: str
    system: SystemMessage | None
    cuts: tuple[tuple[int, InputFilter | None], ...]


def handoff_table(agent: Any, mesh: Sequence[Any] = ()) -> dict[str, Handoff]:
    """The handoffs of ``agent`` by tool name: its own ``handoffs=``, then one to every
    other agent of ``agents=[...]`` (``mesh``) it has none to."""
    table: dict[str, Handoff] = {}
    own = agent.options.get("handoffs") if agent is not None else None
    for item in own or ():
        h = as_handoff(item)
        _add(table, h)
    targets = {id(h.agent) for h in table.values()}
    for other in mesh:
        if other is not agent and id(other) not in targets:
            _add(table, handoff(other))
    return table


def _add(table: dict[str, Handoff], h: Handoff) -> None:
    if h.tool_name in table and table[h.tool_name].agent is not h.agent:
        raise ValueError(f"two handoffs are named {h.tool_name!r}; give one a tool_name")
    table[h.tool_name] = h


def from_agents(spec: RunSpec) -> RunSpec:
    """``agents=[a, b, ...]`` (marvin's shape): the run starts as ``a``, with ``a``'s
    options under the run's own, and every agent may hand off to every other."""
    agents = list(spec.agents or ())
    if not agents:
        raise ValueError("agents= needs at least one plait.Agent")
    for a in agents:
        if not isinstance(getattr(a, "options", None), dict) or not getattr(a, "name", None):
            raise TypeError(f"agents= takes named plait.Agent objects, not {a!r}")
    names = [a.name for a in agents]
    if len(set(names)) != len(names):
        raise ValueError(f"agents= names must differ: {names}")
    first = agents[0]
    given = {k: v for k, v in first.options.items() if k in spec._fields and k != "kernel"}
    updates = {k: v for k, v in given.items() if getattr(spec, k) is None}
    return spec._replace(**updates)


def view(st: RunState) -> list[Message]:
    """What the model is sent: the history as the current agent sees it."""
    active: Active | None = st.active
    msgs = st.messages
    if active is None:
        return msgs
    start = 1 if msgs and isinstance(msgs[0], SystemMessage) else 0
    seen: list[Message] = []
    pos = start
    for end, keep in active.cuts:
        seen.extend(msgs[pos : end + 1])
        pos = end + 1
        if keep is not None:
            seen = list(keep(seen))
    seen.extend(msgs[pos:])
    head = [active.system] if active.system is not None else []
    return head + repair_history(seen)


def _resolve(st: RunState, agent: Any) -> None:
    """Make ``agent`` the one answering: its tools, handoffs, model, settings, checks."""
    from ._state import _guardrails, _model, _tool_specs, _tools

    opts = agent.options
    spec = st.spec._replace(tools=opts.get("tools") or (), model=opts.get("model"))
    tools = _tools(spec, st.kernel, st.completion_mode)
    table = handoff_table(agent, st.mesh)
    for name, h in table.items():
        if name in tools:
            raise ValueError(f"agent {agent.name!r} has a tool and a handoff named {name!r}")
        tools[name] = HandoffTool(h)  # type: ignore[assignment]
    settings = st.params.settings
    own: ModelSettings | None = opts.get("settings")
    if own is not None:
        settings = settings.merge(own)
    if opts.get("model") is not None:
        old = st.model
        st.model = _model(spec, st.kernel)
        if settings.extra:
            from ._persist import carry_server_state

            settings = carry_server_state(settings, old, st.model)
        st.media_seen = 0  # media are checked again against this model (``_media.prepare``)
    if opts.get("guardrails"):
        added = _guardrails(st.spec._replace(guardrails=opts["guardrails"]), st.kernel)
        for stage, guards in added.items():
            have = st.guardrails.setdefault(stage, [])
            have.extend(g for g in guards if not any(g is h for h in have))
    st.tools = tools
    st.handoffs = table
    st.params = type(st.params)(
        tools=_tool_specs(tools, st.plan, st.completion_mode),
        settings=settings,
        output=st.params.output,
    )


def switch(st: RunState, h: Handoff, through: int) -> None:
    """Go on as ``h``'s target; ``through`` is the index of the transfer's result."""
    agent = h.agent
    _resolve(st, agent)
    instructions = agent.options.get("instructions")
    cuts = (st.active.cuts if st.active is not None else ()) + ((through, h.input_filter),)
    system = SystemMessage(content=instructions) if instructions else None
    st.active = Active(agent.name, system, cuts)
    st.emitter.agent = agent.name


async def take(
    st: RunState, calls: Sequence[ToolCall]
) -> tuple[list[ToolResultMessage], Handoff | None]:
    """Answer the turn's transfer calls: the first is taken (``on_handoff`` allowing),
    the others are refused. The switch itself waits for the results to be in history."""
    results: list[ToolResultMessage] = []
    taken: Handoff | None = None
    table = st.handoffs or {}
    for c in calls:
        h = table[c.name]
        if taken is not None:
            results.append(_result(c, ONE_AT_A_TIME, error=True))
            continue
        if h.on_handoff is not None:
            info = await _on_handoff(st, h, c)
            if info.error is not None:
                failed = type(info.error).__name__
                why = f"Not transferred: the handoff to {h.target} failed ({failed})."
                results.append(_result(c, why, error=True))
                st.count_failure(c.name)
                continue
        taken = h
        results.append(_result(c, TRANSFERRED.format(name=h.target)))
    return results, taken


async def _on_handoff(st: RunState, h: Handoff, c: ToolCall) -> CallInfo[Any]:
    """Run the handoff's ``on_handoff(ctx)``: what it raises is contained (rule 1)."""
    hook = h.on_handoff
    assert hook is not None
    ctx = st.context(c.id)
    return await call_plugin("tool", c.name, lambda: maybe_await(hook(ctx)), seconds=None)


def announce(st: RunState, before: str | None, h: Handoff, call_id: str) -> None:
    st.emitter.emit(
        "agent.switch",
        {"from": before, "to": h.target, "tool": h.tool_name, "call_id": call_id},
    )


def _result(c: ToolCall, text: str, *, error: bool = False) -> ToolResultMessage:
    return ToolResultMessage(tool_call_id=c.id, name=c.name, content=text, is_error=error)


def replay(st: RunState) -> None:
    """A resumed run: take again every handoff its recorded history shows, in order."""
    if not st.handoffs:
        return
    for index, m in enumerate(st.messages):
        if (
            isinstance(m, ToolResultMessage)
            and not m.is_error
            and m.name in st.handoffs
            and m.content.startswith("Transferred to ")
        ):
            switch(st, st.handoffs[m.name], index)
