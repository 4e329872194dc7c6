"""Media in threads: stored once as blobs, sent again when a thread continues or a run
resumes, refused whole when over the store's cap, deleted with the thread."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

import plait
from plait import RecordTooLarge, UserMessage, tool
from plait._cli import main
from plait._kernel import Kernel
from plait._parts import Image, Text
from plait._store._sqlite import SQLiteStore
from plait.store import BlobTooLarge
from plait.testing import ScriptedModel, call

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _sql(db: str, statement: str) -> list[Any]:
    with closing(sqlite3.connect(db.removeprefix("sqlite://"))) as conn, conn:
        return conn.execute(statement).fetchall()


def _images(messages: Any) -> list[Image]:
    """The images of the user messages of a request, in order."""
    found = []
    for m in messages:
        if isinstance(m, UserMessage) and not isinstance(m.content, str):
            found += [p for p in m.content if isinstance(p, Image)]
    return found


@pytest.mark.anyio
async def test_a_continued_thread_sends_the_image_again(db: str, kernel: Kernel) -> None:
    task: list[Any] = [Text("What is in this picture?"), Image.from_bytes(PNG, name="cat.png")]
    await plait.arun(task, model=ScriptedModel(["A cat."]), thread="pics", store=db, kernel=kernel)
    model = ScriptedModel(["Grey."])
    await plait.arun("And its colour?", model=model, thread="pics", store=db, kernel=kernel)
    [sent] = _images(model.requests[0].messages)
    assert sent.data == PNG and sent.blob is None and sent.name == "cat.png"
    again = ScriptedModel(["The same cat."])
    await plait.arun(task, model=again, thread="pics", store=db, kernel=kernel)
    assert [i.data for i in _images(again.requests[0].messages)] == [PNG, PNG]

    stored = [row[0] for row in _sql(db, "SELECT payload FROM plait_messages")]
    stored += [row[0] for row in _sql(db, "SELECT payload FROM plait_steps")]
    stored += [row[0] for row in _sql(db, "SELECT options FROM plait_runs")]
    for b64 in (base64.b64encode(PNG).decode(), base64.urlsafe_b64encode(PNG).decode()):
        assert not any(b64[:100] in text for text in stored)  # no record holds the bytes
    key = Image.from_bytes(PNG).digest()
    assert _sql(db, "SELECT key, size FROM plait_blobs") == [(key, len(PNG))]


@pytest.mark.anyio
async def test_a_resumed_run_sends_the_image_again(
    crash_kernel: Callable[..., Kernel], db: str, kernel: Kernel
) -> None:
    @tool
    def look(q: str) -> str:
        """Looks closer."""
        return q.upper()

    task: list[Any] = [Text("Describe"), Image.from_bytes(PNG)]
    turns: list[Any] = [[call("look", q="ears", id="c1")], "A cat with pointed ears."]
    crashing = crash_kernel("model_response", 1, "after")
    with pytest.raises(BaseException, match="after model_response #1"):
        await plait.arun(
            task, model=ScriptedModel(turns), tools=[look], store="crash+" + db,
            thread="t", run_id="r1", kernel=crashing,
        )  # fmt: skip
    await crashing.aclose()
    model = ScriptedModel(turns[1:])
    result = await plait.arun(resume="r1", model=model, tools=[look], store=db, kernel=kernel)
    assert result.output == "A cat with pointed ears."
    assert [i.data for i in _images(model.requests[0].messages)] == [PNG]


@pytest.mark.anyio
async def test_a_run_killed_before_its_first_step_resumes_with_its_media(
    crash_kernel: Callable[..., Kernel], db: str, kernel: Kernel
) -> None:
    """Nothing but the run's options was recorded: its task's parts come from them (the
    bytes as a blob, not base64 in the options row)."""
    task: list[Any] = [Text("Describe"), Image.from_bytes(PNG)]
    crashing = crash_kernel("model_response", 1, "before")
    with pytest.raises(BaseException, match="before model_response #1"):
        await plait.arun(
            task, model=ScriptedModel(["never"]), store="crash+" + db, run_id="r0",
            kernel=crashing,
        )  # fmt: skip
    await crashing.aclose()
    [options] = [row[0] for row in _sql(db, "SELECT options FROM plait_runs")]
    assert base64.b64encode(PNG).decode()[:100] not in options
    model = ScriptedModel(["A cat."])
    result = await plait.arun(resume="r0", model=model, store=db, kernel=kernel)
    assert result.output == "A cat."
    [first] = model.requests[0].messages[-1:]
    assert isinstance(first, UserMessage) and not isinstance(first.content, str)
    assert [p.text for p in first.content if isinstance(p, Text)] == ["Describe"]
    assert [i.data for i in _images(model.requests[0].messages)] == [PNG]


@pytest.mark.anyio
async def test_a_task_image_over_the_blob_cap_is_refused_before_the_model_is_asked(
    tmp_path: Any, kernel: Kernel
) -> None:
    """The run's options record holds its task's parts: over the cap, the run is refused
    when it is created, before any request, and nothing is written."""
    db = f"sqlite:///{tmp_path}/capped.db"
    task: list[Any] = [Text("Look"), Image.from_bytes(PNG)]
    model = ScriptedModel(["ok"])
    with pytest.raises(BlobTooLarge, match="max_blob_bytes=1024;") as info:
        await plait.arun(
            task, model=model, thread="t", store=f"{db}?max_blob_bytes=1024", kernel=kernel
        )
    assert isinstance(info.value, RecordTooLarge) and info.value.size == len(PNG)
    assert model.requests == []
    assert _sql(db, "SELECT head FROM plait_threads") == [(0,)]
    assert _sql(db, "SELECT key FROM plait_blobs") == []
    assert _sql(db, "SELECT status FROM plait_runs") == []


@pytest.mark.anyio
async def test_a_tool_image_over_the_blob_cap_fails_the_run_and_keeps_earlier_steps(
    tmp_path: Any, kernel: Kernel
) -> None:
    db = f"sqlite:///{tmp_path}/capped.db"

    @tool
    def snap() -> Image:
        """Takes a picture."""
        return Image.from_bytes(PNG)

    model = ScriptedModel([call("snap", id="s1"), "never"])
    with pytest.raises(BlobTooLarge, match="max_blob_bytes=1024;"):
        await plait.arun(
            "Take a picture", model=model, tools=[snap], thread="t",
            store=f"{db}?max_blob_bytes=1024", kernel=kernel,
        )  # fmt: skip
    assert len(model.requests) == 1  # the model is not asked again
    assert _sql(db, "SELECT status FROM plait_runs") == [("failed",)]
    kinds = [row[0] for row in _sql(db, "SELECT kind FROM plait_steps ORDER BY seq")]
    assert kinds[0] == "model_response"  # the step before the refused one is kept
    assert _sql(db, "SELECT key FROM plait_blobs") == []


@pytest.mark.anyio
async def test_deleting_the_thread_deletes_its_blobs(db: str, kernel: Kernel) -> None:
    other = b"\x89PNG\r\n\x1a\n" + bytes(range(255, -1, -1)) * 4
    for name, data in (("a", PNG), ("b", PNG), ("a", other)):
        task: list[Any] = [Text("Look"), Image.from_bytes(data)]
        await plait.arun(task, model=ScriptedModel(["ok"]), thread=name, store=db, kernel=kernel)
    assert len(_sql(db, "SELECT key FROM plait_blobs")) == 2
    async with SQLiteStore().open(db) as conn:
        assert await conn.delete_thread("a") is True
        assert _sql(db, "SELECT size FROM plait_blobs") == [(len(PNG),)]  # b still uses it
        assert [i.data for i in _images((await conn.load_messages("b")).messages)] == [PNG]
        await conn.delete_thread("b")
    assert _sql(db, "SELECT key FROM plait_blobs") == []
    assert _sql(db, "SELECT owner FROM plait_blob_refs") == []


def test_export_inlines_the_bytes(db: str, kernel: Kernel, capsys: Any) -> None:
    task: list[Any] = [Text("Look"), Image.from_bytes(PNG)]
    plait.run(task, model=ScriptedModel(["ok"]), thread="t", store=db, kernel=kernel)
    capsys.readouterr()
    assert main(["threads", "--store", db, "export", "t"]) == 0
    exported = json.loads(capsys.readouterr().out)
    part = exported["messages"][0]["content"][1]
    assert (part["blob"], base64.b64decode(part["data"])) == (None, PNG)


def test_show_json_gives_sizes_and_keys_not_bytes(db: str, kernel: Kernel, capsys: Any) -> None:
    task: list[Any] = [Text("Look"), Image.from_bytes(PNG)]
    plait.run(task, model=ScriptedModel(["ok"]), thread="t", store=db, kernel=kernel)
    capsys.readouterr()
    assert main(["threads", "--store", db, "show", "t", "--json"]) == 0
    out = capsys.readouterr().out
    assert base64.b64encode(PNG).decode()[:100] not in out
    part = json.loads(out)[0]["content"][1]
    assert part["data"] is None and part["bytes"] == len(PNG)
    assert part["blob"] == Image.from_bytes(PNG).digest()


def test_the_example_runs() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "thread_media.py"
    env = {"PYTHONIOENCODING": "utf-8", "PATH": "", "PLAIT_DISABLE_PLUGIN_AUTOLOAD": "1"}
    if "PYTHONPATH" in os.environ:  # a checkout's sources first, as the test run has them
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    proc = subprocess.run(
        [sys.executable, str(example)], capture_output=True, text=True, timeout=90,
        encoding="utf-8", env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "Grey, with green eyes. (the model saw 2 images of 16392 bytes)"
    assert lines[1].startswith("stored: 1 blob of 16392 bytes; largest message: ")
    assert int(lines[1].rsplit(" ", 2)[1]) < 1000  # the message holds a reference, not bytes
    assert lines[2] == "after deleting the thread: 0 blobs"
