"""A throwaway PostgreSQL cluster for tests and benchmarks (part of the product).

``TemporaryCluster`` runs ``initdb`` in a new temporary folder, starts ``postgres`` on
127.0.0.1 and a free port (Unix socket in the same folder), and on exit stops that one
server — by the PID it started, never by name — and removes the folder. Run as root, the
server runs as the ``postgres`` user (PostgreSQL refuses root). The binaries are found on
``PATH``, then under ``/usr/lib/postgresql/<version>/bin``; on Debian,
``apt-get install -y postgresql`` provides them (``make services`` does that).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["TemporaryCluster", "find_pg_bin", "temporary_database"]

_START_TIMEOUT = 60.0


def find_pg_bin() -> Path:
    """The folder holding ``initdb`` and ``postgres``; ``RuntimeError`` saying how to install."""
    found = shutil.which("initdb")
    if found and (Path(found).resolve().parent / "postgres").exists():
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if candidates:
        return candidates[0].parent
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, postgres) not found: "
        "run `make services` (apt-get install -y postgresql)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TemporaryCluster:
    """A private PostgreSQL server; ``url`` points at its ``postgres`` database."""

    def __init__(self, *, fsync: bool = True) -> None:
        self.bin = find_pg_bin()
        self.fsync = fsync
        self.port = 0
        self.folder: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._as_postgres = os.geteuid() == 0
        self._run_as = "postgres" if self._as_postgres else None  # PostgreSQL refuses root

    def _identity(self) -> dict[str, Any]:
        """Popen arguments that drop root for ``postgres`` (no supplementary groups kept)."""
        if self._run_as is None:
            return {}
        return {"user": self._run_as, "group": self._run_as, "extra_groups": []}

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> TemporaryCluster:
        # As root the server runs as ``postgres``, which must reach the folder: /tmp is
        # world-traversable where $TMPDIR may not be.
        base = "/tmp" if self._as_postgres and Path("/tmp").is_dir() else None
        self.folder = Path(tempfile.mkdtemp(prefix="plait-pg-", dir=base))
        data = self.folder / "data"
        if self._as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        initdb = subprocess.run(
            [self.bin / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
             "--no-instructions"],
            capture_output=True, text=True, cwd=self.folder, **self._identity(),
        )  # fmt: skip
        if initdb.returncode:
            self.stop()
            raise RuntimeError(f"initdb failed ({initdb.returncode}):\n{initdb.stderr}")
        self.port = _free_port()
        log = (self.folder / "server.log").open("wb")
        self.process = subprocess.Popen(
            [self.bin / "postgres", "-D", data, "-p", str(self.port), "-k", self.folder,
             "-c", "listen_addresses=127.0.0.1", "-c", f"fsync={'on' if self.fsync else 'off'}",
             "-c", "max_connections=200"],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.folder, **self._identity(),
        )  # fmt: skip
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        assert self.process is not None and self.folder is not None
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.folder / "server.log").read_text(errors="replace")
                raise RuntimeError(f"postgres exited with {self.process.returncode}:\n{log}")
            ready = subprocess.run(
                [self.bin / "pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"postgres did not accept connections within {_START_TIMEOUT:g}s")

    def stop(self) -> None:
        """Stop the server this object started (fast shutdown, then kill) and remove its folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # PostgreSQL's "fast" shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> TemporaryCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextmanager
def temporary_database(cluster_url: str) -> Iterator[str]:
    """A new, empty database on the cluster for the block; dropped afterwards."""
    import psycopg

    name = f"plait_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(cluster_url, autocommit=True) as admin:
        # FILE_COPY: ~5x faster than the default WAL_LOG for a small throwaway database.
        admin.execute(f'CREATE DATABASE "{name}" STRATEGY = FILE_COPY')
    try:
        yield cluster_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(cluster_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
