"""Several processes writing one SQLite store at once (issue 12, "Also measure").

``PROCESSES`` child processes (plain ``sys.executable`` running a script written to the
test's folder: no fork, so asyncio and trio both work) start together on a file that
does not exist yet, so they also race to create it, switch it to WAL and migrate it.
Each runs ``RUNS`` durable runs with tools:

* one on its own thread (``own-<p>``): nobody else writes there;
* one on a thread all processes share (``shared``): a run that loses the race for the
  head fails with ``ThreadConflict`` (nothing of that step written) and is run again
  under a new run id, until it wins.

The parent then checks, through the store: no process failed (a ``database is locked``
that escaped would fail it), every run completed with exactly the steps of an
undisturbed run, numbered 1..n; each own thread holds its runs' messages in order; the
shared thread holds every task's messages exactly once, each run's messages contiguous
(never interleaved with another writer's).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import pytest

import plait
from plait.store import SQLiteStore
from plait.testing import ScriptedModel, call, make_kernel

# CI's sizes; docs/reliability.md gives the figures of a larger run
PROCESSES = int(os.environ.get("PLAIT_MP_PROCESSES", "4"))
RUNS = int(os.environ.get("PLAIT_MP_RUNS", "8"))  # per process, own thread and shared one
LIMIT = 120 + PROCESSES * RUNS  # seconds for the writers (a few seconds at CI's sizes)

CHILD = textwrap.dedent(
    """
    import json, random, sys

    import anyio

    import plait
    from plait import ThreadConflict
    from plait.testing import ScriptedModel, call, make_kernel


    def note(text: str) -> str:
        \"\"\"Take a note.\"\"\"
        return f"noted {text}"


    def script(tag):
        return [call("note", text=tag, id=tag + "-c1"),
                call("note", text=tag + "!", id=tag + "-c2"), "done " + tag]


    async def main(url, proc, runs):
        kernel = make_kernel()
        rng = random.Random(proc)
        conflicts = 0
        try:
            for j in range(runs):
                tag = f"p{proc}-{j}"
                result = await plait.arun(
                    "task " + tag, model=ScriptedModel(script(tag)), tools=[note], store=url,
                    run_id="own-" + tag, thread=f"own-{proc}", kernel=kernel)
                assert result.status == "success", result
                for attempt in range(500):
                    try:
                        result = await plait.arun(
                            "task " + tag, model=ScriptedModel(script(tag)), tools=[note],
                            store=url, run_id=f"shared-{tag}-{attempt}", thread="shared",
                            kernel=kernel)
                    except ThreadConflict:
                        conflicts += 1
                        await anyio.sleep(rng.uniform(0, 0.005))
                        continue
                    assert result.status == "success", result
                    break
                else:
                    raise SystemExit(f"{tag}: lost the shared thread 500 times")
        finally:
            await kernel.aclose()
        print(json.dumps({"conflicts": conflicts}), flush=True)


    url, proc, runs, backend = sys.argv[1:]
    print("ready", flush=True)
    sys.stdin.readline()  # "go": every process starts at once
    anyio.run(main, url, int(proc), int(runs), backend=backend)
    """
)

TAG = re.compile(r"p\d+-\d+")


def _script(tag: str) -> list[Any]:
    """The child's script, for the reference run (kept in step with ``CHILD``)."""
    return [call("note", text=tag, id=tag + "-c1"), call("note", text=tag + "!", id=tag + "-c2"),
            "done " + tag]  # fmt: skip


def note(text: str) -> str:
    """Take a note."""
    return f"noted {text}"


async def _reference(url: str) -> tuple[list[str], int]:
    """The step kinds and message count of one undisturbed run (alone, on its own file)."""
    kernel = make_kernel()
    try:
        result = await plait.arun(
            "task p9-9", model=ScriptedModel(_script("p9-9")), tools=[note], store=url,
            run_id="ref", thread="ref", kernel=kernel,
        )  # fmt: skip
    finally:
        await kernel.aclose()
    assert result.status == "success"
    async with SQLiteStore().open(url) as conn:
        state = await conn.load_run("ref")
        history = await conn.load_messages("ref")
    assert state is not None
    return [s.kind for s in state.steps], len(history.messages)


def _run_children(script: Path, url: str, backend: str) -> list[dict[str, Any]]:
    command = [sys.executable, str(script), url, "", str(RUNS), backend]
    children = []
    for p in range(PROCESSES):
        command[3] = str(p)
        children.append(
            subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        for child in children:  # all imported and waiting: then all start at once
            assert child.stdout is not None and child.stdout.readline() == "ready\n"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=LIMIT) for child in children]
    finally:
        for child in children:
            if child.poll() is None:  # a failed test: do not leave our children behind
                child.kill()
                child.communicate()
    reports = []
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, f"a writer process failed:\n{err[-4000:]}"
        assert "database is locked" not in err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return reports


def _tag(message: Any) -> str:
    found = TAG.search(repr(message))
    assert found is not None, message
    return found.group()


def _check_shared(messages: list[Any], per_run: int) -> None:
    """Each task's messages once, contiguous; a losing run may leave none or a prefix."""
    blocks: list[tuple[str, int]] = []
    for message in messages:
        tag = _tag(message)
        if isinstance(message, plait.UserMessage) or not blocks or blocks[-1][0] != tag:
            assert isinstance(message, plait.UserMessage), f"interleaved at {message!r}"
            blocks.append((tag, 0))
        blocks[-1] = (tag, blocks[-1][1] + 1)
    complete = Counter(tag for tag, size in blocks if size == per_run)
    expected = {f"p{p}-{j}" for p in range(PROCESSES) for j in range(RUNS)}
    assert set(complete) == expected and set(complete.values()) == {1}, complete


async def _check(url: str, kinds: list[str], per_run: int) -> int:
    """Check every run and thread; return how many shared-thread attempts lost."""
    async with SQLiteStore().open(url) as conn:
        runs = await conn.list_runs(limit=100_000)
        by_status = Counter(r.status for r in runs)
        for record in runs:
            state = await conn.load_run(record.id)
            assert state is not None
            seqs = [s.seq for s in state.steps]
            assert seqs == list(range(1, len(seqs) + 1)), f"{record.id}: steps {seqs}"
            if record.status == "success":
                assert [s.kind for s in state.steps] == kinds, record.id
            else:  # a shared-thread attempt that lost the race for the head
                assert record.id.startswith("shared-") and record.status == "failed", record
        for p in range(PROCESSES):
            own = (await conn.load_messages(f"own-{p}")).messages
            assert len(own) == RUNS * per_run
            assert [_tag(m) for m in own[::per_run]] == [f"p{p}-{j}" for j in range(RUNS)]
        _check_shared(list((await conn.load_messages("shared")).messages), per_run)
    assert by_status["success"] == 2 * PROCESSES * RUNS
    return by_status["failed"]


@pytest.mark.timeout(2 * LIMIT)
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_several_processes_write_one_sqlite_file(tmp_path: Path, backend: str) -> None:
    script = tmp_path / "writer.py"
    script.write_text(CHILD)
    kinds, per_run = anyio.run(_reference, f"sqlite:///{tmp_path}/ref.db", backend=backend)
    url = f"sqlite:///{tmp_path}/shared.db"  # created by the racing children
    began = time.perf_counter()
    reports = _run_children(script, url, backend)
    wall = time.perf_counter() - began
    lost = anyio.run(_check, url, kinds, per_run, backend=backend)
    conflicts = sum(r["conflicts"] for r in reports)
    assert lost == conflicts  # each ThreadConflict left exactly one failed run
    print(f"\n{backend}: {PROCESSES} processes x {2 * RUNS} runs in {wall:.1f} s, "
          f"{len(kinds)} steps each, {conflicts} shared-thread conflicts retried")  # fmt: skip
