"""The task graph of the kill -9 trial: run as a script (killed at random), or loaded to
finish the graph in the test's process.

``python tasks_crash_graph.py STORE_URL GRAPH_ID SIDE_FILE`` prints ``ready`` once plait
is imported and the store is open, waits for a line on stdin, then runs a graph of six
tasks, each of whose runs calls the ``write`` tool once (an ``idempotent=False`` side
effect: a line ``<task>`` appended to SIDE_FILE), printing ``ended <task> <status>`` as
each task ends and ``finished <status>`` at the end.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import anyio

import plait
from plait import Message, ToolResultMessage, UserMessage
from plait.testing import FunctionModel, Turn, call, make_kernel

# t1 and t2 run side by side; t3 waits for t1, t4 for t2, t5 for both, t6 for t5
DEPS: dict[str, tuple[str, ...]] = {
    "t1": (), "t2": (), "t3": ("t1",), "t4": ("t2",), "t5": ("t3", "t4"), "t6": ("t5",),
}  # fmt: skip
MODEL_DELAY = 0.03  # seconds per model turn: the kills land in turns, tools and commits


def tasks() -> list[Any]:
    from plait._tasks import Task  # plait.Task once it is exported

    return [Task(f"{n}: do chore {n}", name=n, depends_on=deps) for n, deps in DEPS.items()]


def model(asked: list[str] | None = None) -> FunctionModel:
    """Stateless (so a resumed run needs no re-scripting): write once, then answer."""

    def answer(messages: list[Message], params: Any) -> Turn:
        prompt = next(m for m in messages if isinstance(m, UserMessage)).content
        name = prompt.split(":", 1)[0]
        if asked is not None:
            asked.append(name)
        if not any(isinstance(m, ToolResultMessage) for m in messages):
            return Turn(calls=(call("write", line=name, id=f"{name}-write"),), delay=MODEL_DELAY)
        return Turn(text=f"{name} done", delay=MODEL_DELAY)

    return FunctionModel(answer)


def write_tool(side_file: str) -> Any:
    @plait.tool(idempotent=False)
    def write(line: str) -> str:
        """Append a line: a side effect that must never happen twice."""
        time.sleep(0.002)
        with open(side_file, "a") as f:
            f.write(f"{line}\n")
        time.sleep(0.002)
        return "written"

    return write


def main(argv: list[str]) -> int:
    from plait._tasks import arun_tasks

    url, graph_id, side_file = argv
    kernel = make_kernel()

    async def warm() -> None:
        # connect, migrate and import the modules now: the kills should land in the graph
        import plait._run._durable  # noqa: F401

        async with kernel.stores()[url.split(":", 1)[0]].open(url) as conn:
            await conn.list_runs(limit=1)

    anyio.run(warm)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()  # "go": the test starts its clock now

    def report(event: plait.Event) -> None:
        if event.kind == "task.end":
            sys.stdout.write(f"ended {event.data['task']} {event.data['status']}\n")
            sys.stdout.flush()

    async def go() -> None:
        graph = await arun_tasks(
            tasks(), model=model(), tools=[write_tool(side_file)], store=url,
            graph_id=graph_id, kernel=kernel, handlers=[report],
        )  # fmt: skip
        sys.stdout.write(f"finished {graph.status}\n")
        sys.stdout.flush()

    anyio.run(go)
    os._exit(0)  # skip interpreter teardown: the test measures the graph, not the exit


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
