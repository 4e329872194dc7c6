"""Store throughput: steps appended per second, SQLite and PostgreSQL, medians over repeats.

    python tests/bench/bench_store.py [--steps 500] [--repeats 5] [--json]
                                      [--postgres-url URL | --no-postgres]

Each repeat opens a fresh store, creates one run, and appends ``--steps`` steps one
transaction each (``append_step``, a ~1 KB JSON payload), timing only the appends. The
"+ message" cases also append one assistant message to the run's thread in the same
transaction (compare-and-set on the head), as the run loop does for a model response.
PostgreSQL runs on a throwaway local cluster with fsync on, unless ``--postgres-url``
names a server.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any

import anyio

from plait._messages import AssistantMessage
from plait._store._sqlite import SQLiteStore
from plait.store import NewStep

PAYLOAD = {"text": "x" * 900, "usage": {"input_tokens": 812, "output_tokens": 64}, "n": 0}


async def _append(conn: Any, steps: int, with_message: bool) -> float:
    run_id = uuid.uuid4().hex
    await conn.create_run(run_id, thread_id=run_id if with_message else None)
    head = 0
    start = time.perf_counter()
    for i in range(steps):
        step = NewStep(kind="model_response", payload={**PAYLOAD, "n": i})
        if with_message:
            reply = AssistantMessage(text=f"turn {i}")
            await conn.append_step(run_id, step, messages=[reply], expected_head=head)
            head += 1
        else:
            await conn.append_step(run_id, step)
    return steps / (time.perf_counter() - start)


def _one(store: Any, url: str, steps: int, with_message: bool) -> float:
    async def main() -> float:
        async with store.open(url) as conn:
            await conn.list_threads()  # connect and migrate outside the timing
            return await _append(conn, steps, with_message)

    return anyio.run(main)


@contextmanager
def _sqlite_url(query: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="plait-bench-") as folder:
        yield f"sqlite:///{Path(folder)}/plait.db{query}"


def _cases(postgres: Callable[[], AbstractContextManager[str]] | None) -> dict[str, Any]:
    cases: dict[str, Any] = {
        "sqlite file, synchronous=full": (SQLiteStore(), lambda: _sqlite_url("")),
        "sqlite file, synchronous=normal": (
            SQLiteStore(),
            lambda: _sqlite_url("?synchronous=normal"),
        ),
        "sqlite :memory:": (SQLiteStore(), lambda: _null("sqlite:///:memory:")),
    }
    if postgres is not None:
        from plait_postgres.store import PostgresStore

        cases["postgresql (local, fsync on)"] = (PostgresStore(), postgres)
    return cases


@contextmanager
def _null(url: str) -> Iterator[str]:
    yield url


def measure(
    steps: int, repeats: int, postgres: Callable[[], AbstractContextManager[str]] | None
) -> dict[str, float]:
    """Median steps/s per case, interleaved so machine load hits every case alike."""
    cases = _cases(postgres)
    samples: dict[str, list[float]] = {}
    for _ in range(repeats):
        for name, (store, make_url) in cases.items():
            for with_message in (False, True):
                label = f"{name}{' + message' if with_message else ''}"
                with make_url() as url:
                    samples.setdefault(label, []).append(_one(store, url, steps, with_message))
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--postgres-url", help="a server to use instead of a throwaway cluster")
    group.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        postgres = None if args.no_postgres else _postgres(stack, args.postgres_url)
        medians = measure(args.steps, args.repeats, postgres)
    if args.json:
        print(json.dumps(medians))
    else:
        print(f"steps appended per second (median of {args.repeats}, {args.steps} steps each)")
        for name, value in medians.items():
            print(f"  {name:<48} {value:>9,.0f}")
    return medians


def _postgres(stack: ExitStack, url: str | None) -> Callable[[], AbstractContextManager[str]]:
    from plait_postgres.testing import TemporaryCluster, temporary_database

    server = url or stack.enter_context(TemporaryCluster(fsync=True)).url
    return lambda: temporary_database(server)


if __name__ == "__main__":
    main()
