"""Run llama-cpp-python's OpenAI-compatible server on loopback, for plait-openai's tests.

``running_server`` starts ``python -m llama_cpp.server`` (from the test environment's own
interpreter: the root ``dev`` group installs ``llama-cpp-python[server]``) on 127.0.0.1
and a free port, with one thread and ``OMP_WAIT_POLICY=PASSIVE``, waits until
``GET /v1/models`` answers, and on exit stops exactly the process it started (terminate,
then kill) and checks that nothing it started is left running or listening.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["LlamaServer", "ServerStartError", "running_server"]

HOST = "127.0.0.1"
MODEL_ALIAS = "smollm2"
_PORT_ATTEMPTS = 3  # a free port can be taken between probing it and the server binding it


class ServerStartError(RuntimeError):
    """The server exited or did not answer before the deadline (the message has its log)."""


@dataclass(frozen=True, slots=True)
class LlamaServer:
    """A running server: its API root (``.../v1``), process id and start-up time."""

    base_url: str
    pid: int
    port: int
    startup_seconds: float


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _command(model_path: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model_path),
        "--model_alias",
        MODEL_ALIAS,
        "--host",
        HOST,
        "--port",
        str(port),
        "--n_threads",
        "1",
        "--n_threads_batch",
        "1",
        "--n_ctx",
        "2048",
    ]


def _log_tail(log_path: Path, chars: int = 3000) -> str:
    try:
        return log_path.read_text(errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def _wait_ready(proc: subprocess.Popen[bytes], base_url: str, deadline: float) -> None:
    """Poll ``/models`` until it answers 200; raise if the process dies or time runs out."""
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServerStartError(f"the server exited with status {proc.returncode}")
            try:
                if client.get(f"{base_url}/models").status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.1)
    raise ServerStartError("the server did not answer GET /v1/models in time")


def _children(pid: int) -> list[int]:
    """Child processes of ``pid`` (Linux ``/proc``; empty elsewhere)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        return s.connect_ex((HOST, port)) == 0


def _stop(proc: subprocess.Popen[bytes], port: int, *, listened: bool = True) -> None:
    """Terminate, then kill, the started process; assert that nothing is left behind.

    The port is checked only when the server had listened on it: a start that failed
    because another process holds the port must not be blamed on that process.
    """
    children = _children(proc.pid)
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    leftovers = [c for c in children if _alive(c)]
    assert proc.returncode is not None, "the llama.cpp server is still running"
    assert not leftovers, f"the llama.cpp server left processes behind: {leftovers}"
    if listened:
        assert not _port_open(port), f"something still listens on {HOST}:{port}"


def _start(model_path: Path, log_path: Path, timeout: float) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}  # idle OpenMP threads must not spin
    with log_path.open("wb") as log:  # one attempt's log
        proc = subprocess.Popen(
            _command(model_path, port),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        _wait_ready(proc, f"http://{HOST}:{port}/v1", time.monotonic() + timeout)
    except BaseException:
        _stop(proc, port, listened=False)
        raise
    return proc, port


def _start_on_a_free_port(
    model_path: Path, log_path: Path, timeout: float
) -> tuple[subprocess.Popen[bytes], int]:
    for attempt in range(1, _PORT_ATTEMPTS + 1):
        try:
            return _start(model_path, log_path, timeout)
        except ServerStartError as exc:
            log = _log_tail(log_path)
            if attempt == _PORT_ATTEMPTS or "address already in use" not in log.lower():
                raise ServerStartError(f"{exc}; log {log_path}:\n{log}") from None
    raise AssertionError("unreachable")


@contextmanager
def running_server(
    model_path: Path, log_path: Path, *, timeout: float = 60.0
) -> Iterator[LlamaServer]:
    """A llama.cpp server for ``model_path``, logging to ``log_path``, stopped on exit."""
    started = time.monotonic()
    proc, port = _start_on_a_free_port(model_path, log_path, timeout)
    server = LlamaServer(f"http://{HOST}:{port}/v1", proc.pid, port, time.monotonic() - started)
    try:
        yield server
    finally:
        _stop(proc, port)
