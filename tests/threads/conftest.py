"""Fixtures for the thread and resume tests: a store URL, and a store that 'crashes'.

``crash_kernel(kind, nth, when)`` gives a kernel whose ``crash+sqlite://`` store raises
``Crash`` (a ``BaseException``, like a process dying) around the ``nth`` step of
``kind``: ``before`` it is written, or ``after`` it committed. The same file is then
opened through plain ``sqlite://`` to resume.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from plait import hookimpl
from plait._kernel import Kernel
from plait._store._connection import SqlConnection
from plait._store._sqlite import _connect as sqlite_connect
from plait._store._sqlite import map_sqlite_error
from plait._store._url import parse_sqlite_url
from plait.testing import make_kernel


class Crash(BaseException):
    """The process 'died' here."""


class CrashingConnection(SqlConnection):
    """A real SQLite connection (a subclass, not a wrapper: Python 3.12's Protocol
    ``isinstance`` does not see methods a ``__getattr__`` would forward) that crashes."""

    def __init__(self, url: str, kind: str, nth: int, when: str) -> None:
        target = parse_sqlite_url(url)
        super().__init__(
            url,
            lambda: sqlite_connect(target),
            lambda exc: map_sqlite_error(exc, target),
            label=target.label,
        )
        self.kind, self.nth, self.when = kind, nth, when
        self.seen = 0

    async def append_step(self, run_id: str, step: Any, **kwargs: Any) -> Any:
        hit = step.kind == self.kind
        if hit:
            self.seen += 1
        if hit and self.seen == self.nth and self.when == "before":
            raise Crash(f"before {step.kind} #{self.nth}")
        record = await super().append_step(run_id, step, **kwargs)
        if hit and self.seen == self.nth and self.when == "after":
            raise Crash(f"after {step.kind} #{self.nth}")
        return record


class CrashingStore:
    scheme = "crash+sqlite"

    def __init__(self, kind: str, nth: int, when: str) -> None:
        self.args = (kind, nth, when)

    def open(self, url: str) -> Any:
        return CrashingConnection(url[len("crash+") :], *self.args)


class CrashPlugin:
    def __init__(self, store: CrashingStore) -> None:
        self.store = store

    @hookimpl
    def plait_register_stores(self, config: Any) -> Iterable[Any]:
        return [self.store]


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A SQLite store URL in the test's folder."""
    return f"sqlite:///{tmp_path}/plait.db"


@pytest.fixture
def kernel() -> Kernel:
    return make_kernel()


@pytest.fixture
def crash_kernel() -> Callable[[str, int, str], Kernel]:
    def build(kind: str, nth: int = 1, when: str = "after") -> Kernel:
        return make_kernel(CrashPlugin(CrashingStore(kind, nth, when)))

    return build
