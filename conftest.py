"""Shared pytest configuration for the kernel's and the plugins' tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio by default; tests that matter on trio parametrize it."""
    return "asyncio"


@pytest.fixture(scope="session", autouse=True)
def _isolated_from_the_user(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test, nor any process a test starts, touches the user's files or terminal.

    The CLI logs every run to a store under ``XDG_DATA_HOME``: point it at a temporary
    folder. And ``plait run`` reads a task from standard input when that is a pipe, so
    a test runner started with an open pipe that never closes would make subprocesses
    wait: standard input becomes ``/dev/null`` for the session.
    """
    saved_env = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))
    saved_stdin = os.dup(0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    try:
        yield
    finally:
        os.dup2(saved_stdin, 0)
        os.close(saved_stdin)
        if saved_env is None:
            os.environ.pop("XDG_DATA_HOME", None)
        else:
            os.environ["XDG_DATA_HOME"] = saved_env
