"""``plait.handoff``: let the model pass the run to another agent.

An agent's ``handoffs=[...]`` (agents, or ``plait.handoff(agent, ...)`` to say more) gives
the model one transfer tool per target, ``transfer_to_<name>``. When the model calls one,
the same run goes on as the target agent: its instructions, tools, model and settings,
the run's limits, thread, store and guardrails (the target's own guardrails are added,
never the run's taken away). See ``plait._run._handoffs`` for the switch itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Handoff", "InputFilter", "handoff", "transfer_tool_name"]

InputFilter = Callable[[list[Any]], Sequence[Any]]
"""``(messages) -> messages``: what the target agent sees of the conversation so far
(without the system message, which is the target's own instructions)."""

_NOT_NAME = re.compile(r"[^a-zA-Z0-9_-]+")


def transfer_tool_name(agent_name: str) -> str:
    """``transfer_to_<name>``, in the alphabet every provider accepts for tool names."""
    slug = _NOT_NAME.sub("_", agent_name).strip("_").lower() or "agent"
    return f"transfer_to_{slug}"[:64]


@dataclass(frozen=True, slots=True)
class Handoff:
    """One way out of an agent: the target, and how the model and the run see it.

    ``tool_name`` is what the model calls; ``description`` tells it when to; the optional
    ``input_filter`` decides what of the conversation the target sees (the full history
    is kept in ``Result.messages`` and the store); ``on_handoff(ctx)`` (sync or async) runs
    when the handoff is taken — if it raises, the model is told the transfer failed and
    the current agent goes on.
    """

    agent: Any
    tool_name: str
    description: str
    input_filter: InputFilter | None = None
    on_handoff: Callable[..., Any] | None = None

    @property
    def target(self) -> str:
        """The target agent's name."""
        return str(self.agent.name)


def _check_agent(agent: Any) -> str:
    if not isinstance(getattr(agent, "options", None), dict):
        raise TypeError(f"a handoff target must be a plait.Agent, not {type(agent).__name__}")
    name = getattr(agent, "name", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"a handoff target needs a name: {agent!r} has none")
    return name


def handoff(
    agent: Any,
    *,
    tool_name: str | None = None,
    description: str | None = None,
    input_filter: InputFilter | None = None,
    on_handoff: Callable[..., Any] | None = None,
) -> Handoff:
    """A handoff to ``agent`` (a named ``plait.Agent``), for ``Agent(handoffs=[...])``."""
    name = _check_agent(agent)
    if input_filter is not None and not callable(input_filter):
        raise TypeError("input_filter must be a callable (messages) -> messages")
    if on_handoff is not None and not callable(on_handoff):
        raise TypeError("on_handoff must be a callable (ctx) -> None, sync or async")
    instructions = agent.options.get("instructions")
    default = f"Hand the conversation over to {name}" + (
        f", who is instructed: {instructions[:200]}" if instructions else "."
    )
    return Handoff(
        agent,
        tool_name or transfer_tool_name(name),
        description or default,
        input_filter,
        on_handoff,
    )


def as_handoff(item: Any) -> Handoff:
    """A ``Handoff`` from an item of ``handoffs=`` (an agent or a ``Handoff``)."""
    if isinstance(item, Handoff):
        return item
    return handoff(item)
