"""The run loop and its entry points (``plait.run``, ``arun``, ``stream``, ``iter``, ``start``)."""

from __future__ import annotations

from ._api import RunIterator, aresume, arun, iter, resume, run
from ._checks import guardrail, verifier
from ._handle import EventLog, RunHandle, start
from ._options import RunOptions
from ._result import STATUSES, STOP_REASONS, Result, RunStatus, Step
from ._stream import RunStream, SyncRunStream, stream

__all__ = [
    "STATUSES",
    "STOP_REASONS",
    "EventLog",
    "Result",
    "RunHandle",
    "RunIterator",
    "RunOptions",
    "RunStatus",
    "RunStream",
    "Step",
    "SyncRunStream",
    "aresume",
    "arun",
    "guardrail",
    "iter",
    "resume",
    "run",
    "start",
    "stream",
    "verifier",
]
