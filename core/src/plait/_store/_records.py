"""What a store keeps: threads, runs and their steps, as pydantic records.

Everything is stored as JSON text with a version number beside it (never pickle):
messages with the pydantic models of ``plait._messages``, step payloads as plain JSON
objects. Decoding a row that is not valid JSON, or whose version is newer than this code
reads, raises ``StoreCorrupted`` naming the row.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .._messages import Message
from ._errors import StoreCorrupted, StoreError

__all__ = [
    "DEFAULT_MAX_BLOB_BYTES",
    "DEFAULT_MAX_RECORD_BYTES",
    "MESSAGE_VERSION",
    "NewStep",
    "PAYLOAD_VERSION",
    "RunRecord",
    "STEP_KINDS",
    "StepRecord",
    "StoredRun",
    "StoredRunStatus",
    "StoredStepKind",
    "ThreadExport",
    "ThreadHistory",
    "ThreadRecord",
    "decode_message",
    "decode_payload",
    "encode_json",
    "encode_message",
]

PAYLOAD_VERSION = 1
"""Version of the step-payload envelope written by this code; newer rows are refused."""
MESSAGE_VERSION = 1
"""Version of the message encoding (``plait._messages`` models as JSON)."""
DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024
"""The largest JSON record a store writes by default (16 MiB): one message, one step's
payload with its messages, one run's options (store URL option ``max_record_bytes``);
media bytes are not part of it: they are kept apart, as blobs."""
DEFAULT_MAX_BLOB_BYTES = 64 * 1024 * 1024
"""The largest media part (image, document, audio) a store keeps by default (64 MiB;
store URL option ``max_blob_bytes``)."""

StoredStepKind = Literal["model_response", "tool_started", "tool_result", "check", "completion"]
STEP_KINDS: frozenset[str] = frozenset(StoredStepKind.__args__)  # type: ignore[attr-defined]

StoredRunStatus = Literal[
    "running", "success", "failed", "skipped", "incomplete", "cancelled", "blocked", "paused"
]
"""``running`` until the run ends; then one of the statuses of ``Result.status``."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ThreadRecord(_Record):
    """A conversation. ``id`` is the name the user chose; ``head`` counts its messages."""

    id: str
    head: int = 0
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: float
    updated_at: float


class ThreadHistory(_Record):
    """A thread's messages and the head they were read at (pass it back when appending)."""

    thread_id: str
    head: int
    messages: list[Message]


class RunRecord(_Record):
    """One run: which thread and agent, its status, and the options needed to resume it."""

    id: str
    thread_id: str | None = None
    parent_run_id: str | None = None
    agent: str | None = None
    status: StoredRunStatus = "running"
    options: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    started_at: float
    ended_at: float | None = None
    updated_at: float


class NewStep(_Record):
    """A step to record: what completed, as a JSON object.

    ``idempotency_key`` identifies a side-effecting tool call (the same key on its
    ``tool_started`` and ``tool_result`` steps) so a resumed run can tell whether the call
    was made and whether its result was recorded.
    """

    kind: StoredStepKind
    payload: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = None


class StepRecord(_Record):
    """A recorded step: ``seq`` is its position in the run, from 1, without gaps."""

    run_id: str
    seq: int
    kind: StoredStepKind
    payload: dict[str, Any]
    idempotency_key: str | None = None
    created_at: float
    v: int = PAYLOAD_VERSION


class StoredRun(_Record):
    """A run and its steps in order: everything ``resume`` needs."""

    run: RunRecord
    steps: list[StepRecord]

    @property
    def last_seq(self) -> int:
        """The sequence number of the last recorded step (0 when none)."""
        return self.steps[-1].seq if self.steps else 0

    def recorded(
        self, idempotency_key: str, kind: StoredStepKind = "tool_result"
    ) -> StepRecord | None:
        """The step of ``kind`` recorded under ``idempotency_key``, if any."""
        for step in self.steps:
            if step.idempotency_key == idempotency_key and step.kind == kind:
                return step
        return None

    def unfinished_calls(self) -> list[StepRecord]:
        """``tool_started`` steps without a ``tool_result`` of the same key: outcome unknown."""
        done = {s.idempotency_key for s in self.steps if s.kind == "tool_result"}
        return [s for s in self.steps if s.kind == "tool_started" and s.idempotency_key not in done]


class ThreadExport(_Record):
    """A thread with its messages and runs, as one JSON document (``plait threads export``).

    Self-contained: media parts hold their bytes inline (base64), not blob references.
    """

    v: int = 1
    thread: ThreadRecord
    messages: list[Message]
    runs: list[StoredRun]


@functools.cache
def _message_adapter() -> TypeAdapter[Message]:
    # Built on first use, not at import: keeps ``import plait`` cheap.
    return TypeAdapter(Message)


def encode_json(value: Any, what: str) -> str:
    """``value`` as compact JSON text; ``StoreError`` naming ``what`` if it is not JSON."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{what} is not JSON-serialisable: {exc}") from None


def encode_message(message: Message) -> str:
    """A message as JSON text (the pydantic model's own serialisation)."""
    return _message_adapter().dump_json(message).decode()


def decode_message(raw: str, version: int, where: str) -> Message:
    """Rebuild a stored message; ``StoreCorrupted`` naming ``where`` when it cannot be read."""
    if version != MESSAGE_VERSION:
        raise StoreCorrupted(
            f"{where}: unknown message version {version} (this plait reads {MESSAGE_VERSION})"
        )
    try:
        return _message_adapter().validate_json(raw)
    except ValidationError as exc:
        raise StoreCorrupted(f"{where}: stored message is invalid: {_first_error(exc)}") from None


def decode_payload(raw: str, version: int, where: str) -> dict[str, Any]:
    """Rebuild a stored JSON object; ``StoreCorrupted`` naming ``where`` when it cannot be read."""
    if not 1 <= version <= PAYLOAD_VERSION:
        raise StoreCorrupted(
            f"{where}: unknown payload version {version} (this plait reads 1 to {PAYLOAD_VERSION})"
        )
    try:
        value = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise StoreCorrupted(f"{where}: payload is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise StoreCorrupted(f"{where}: payload is a JSON {type(value).__name__}, not an object")
    return value


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
    return f"{loc}: {err['msg']}"
