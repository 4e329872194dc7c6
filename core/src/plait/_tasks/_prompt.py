"""A task's run options and prompt: what the graph, its agent and the task itself say,
and the results of the tasks it depends on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pydantic_core

from .._run._options import merge_options
from ._task import Task

__all__ = ["as_text", "task_options", "task_prompt"]

_NOT_PER_GRAPH = ("output", "run_id", "parent_run_id", "resume", "name", "thread")


def check_graph_options(options: Mapping[str, Any]) -> None:
    """Refuse run options that cannot be the same for every task of a graph."""
    for key in _NOT_PER_GRAPH:
        if key in options:
            why = {
                "output": "give each Task its output=",
                "thread": "tasks run side by side; give a Task its own thread in options=",
                "name": "name the graph with graph_name=",
            }.get(key, "the graph sets it for each task")
            raise ValueError(f"run_tasks does not take {key}=: {why}")


def as_text(value: Any) -> str:
    """A task's output as the model of a dependent task sees it (JSON unless a str)."""
    if isinstance(value, str):
        return value
    return pydantic_core.to_json(value, fallback=str, indent=2).decode()


def task_prompt(task: Task, upstream: Sequence[tuple[str, Any]]) -> str:
    """The instructions, then each dependency's result, then the context (as JSON)."""
    parts = [task.instructions.strip()]
    if upstream:
        parts.append("## Results of the tasks this one depends on")
        parts.extend(f"### {name}\n{as_text(output)}" for name, output in upstream)
    if task.context:
        parts.append(f"## Context\n```json\n{as_text(dict(task.context))}\n```")
    return "\n\n".join(parts)


def _tools(*groups: Sequence[Any] | None) -> list[Any]:
    found: list[Any] = []
    for group in groups:
        for tool in group or ():
            if not any(tool is t for t in found):
                found.append(tool)
    return found


def task_options(task: Task, graph: Mapping[str, Any]) -> dict[str, Any]:
    """The task's run options: the graph's, under the agent's, under the task's (the
    most specific wins; ``settings`` merge field by field); tools add up."""
    agent = task.agent
    agent_options = dict(agent.options) if agent is not None else {}
    own = dict(task.options)
    merged = merge_options(merge_options(dict(graph), agent_options), own)
    merged = dict(merged)  # merge_options may return its argument: never change it
    tools = _tools(graph.get("tools"), agent_options.get("tools"), own.get("tools"), task.tools)
    if tools:
        merged["tools"] = tools
    if agent is not None and "kernel" not in own and not agent._owns_kernel:
        merged["kernel"] = agent._kernel  # the agent's own kernel, when it was given one
    return merged
