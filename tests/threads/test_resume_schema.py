"""Resume checks what it resumes with: a tool whose parameters changed under the same name,
or another output type, is refused (``SchemaChanged``) unless ``on_schema_change="accept"``.

A run is recorded with tool v1 and 'crashes' after its first tool result
(``conftest.CrashingStore``); it is then resumed through the plain ``sqlite://`` URL.
"""

from __future__ import annotations

import pickle
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

import plait
from plait import ConfigError, SchemaChanged
from plait._cli import main
from plait._kernel import Kernel
from plait._store._sqlite import SQLiteStore
from plait.testing import FunctionModel, ScriptedModel, Turn, call, complete, make_kernel

CrashKernel = Callable[..., Kernel]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@plait.tool(idempotent=True)
def search(query: str) -> str:
    """Search the catalogue.

    Args:
        query: what to look for
    """
    return f"found {query}"


def _search_v2_added() -> Any:
    @plait.tool(idempotent=True, name="search")
    def search(query: str, limit: int) -> str:
        """Search the catalogue."""
        return f"found {limit} {query}"

    return search


def _search_v2_retyped() -> Any:
    @plait.tool(idempotent=True, name="search")
    def search(query: int) -> str:
        """Search the catalogue."""
        return f"found {query}"

    return search


def _search_reworded() -> Any:
    @plait.tool(idempotent=True, name="search")
    def search(query: str) -> str:
        """Look things up in the catalogue (new wording, same contract).

        Args:
            query: the words to look up
        """
        return f"found {query}"

    return search


class Order(BaseModel):
    id: int


class OrderV2(BaseModel):
    id: str
    total: float


TURNS: list[Any] = [[call("search", query="lamp", id="c1")], "the lamp is in stock"]


async def _record(crash_kernel: CrashKernel, db: str, **options: Any) -> None:
    """Run with ``search`` v1 and 'crash' right after its first tool result was recorded."""
    kernel = crash_kernel("tool_result", 1, "after")
    turns = options.pop("turns", TURNS)
    with pytest.raises(BaseException) as info:
        await plait.arun("find a lamp", model=ScriptedModel(turns), tools=[search],
                         store="crash+" + db, run_id="r1", kernel=kernel, **options)  # fmt: skip
    assert "Crash" in repr(info.value)
    await kernel.aclose()


async def _status(db: str) -> tuple[str, int]:
    async with SQLiteStore().open(db) as conn:
        state = await conn.load_run("r1")
    assert state is not None
    return state.run.status, state.last_seq


@pytest.mark.parametrize(
    ("tool", "how"),
    [
        (_search_v2_added, "added 'limit'"),
        (_search_v2_retyped, "changed 'query'"),
    ],
)
@pytest.mark.anyio
async def test_a_tool_with_changed_parameters_is_refused(
    crash_kernel: CrashKernel, db: str, kernel: Kernel, tool: Callable[[], Any], how: str
) -> None:
    await _record(crash_kernel, db)
    before = await _status(db)
    model = ScriptedModel(TURNS[1:])
    with pytest.raises(SchemaChanged) as info:
        await plait.aresume("r1", store=db, model=model, tools=[tool()], kernel=kernel)
    message = str(info.value)
    assert "run 'r1'" in message and f"tool 'search' changed its parameters ({how})" in message
    assert "on_schema_change='accept'" in message
    assert info.value.run_id == "r1" and len(info.value.changes) == 1
    assert isinstance(info.value, ConfigError)
    assert pickle.loads(pickle.dumps(info.value)).changes == info.value.changes
    assert model.requests == []  # refused before anything ran again
    assert await _status(db) == before  # and nothing was recorded


@pytest.mark.anyio
async def test_accepting_the_change_resumes(
    crash_kernel: CrashKernel, db: str, kernel: Kernel
) -> None:
    await _record(crash_kernel, db)
    events: list[Any] = []
    result = await plait.aresume(
        "r1", store=db, model=ScriptedModel(TURNS[1:]), tools=[_search_v2_added()],
        kernel=kernel, on_schema_change="accept", handlers=[events.append],
    )  # fmt: skip
    assert result.ok and result.output == "the lamp is in stock"
    resumed = next(e for e in events if e.kind == "run.resume")
    assert resumed.data["schemas"] == "accepted"
    assert resumed.data["schema_changes"] == [
        "tool 'search' changed its parameters (added 'limit')"
    ]


@pytest.mark.parametrize("tool", [lambda: search, _search_reworded])
@pytest.mark.anyio
async def test_the_same_contract_resumes(
    crash_kernel: CrashKernel, db: str, kernel: Kernel, tool: Callable[[], Any]
) -> None:
    """Same parameters (the docstring's wording may differ): no refusal."""
    await _record(crash_kernel, db)
    events: list[Any] = []

    @plait.tool
    def extra(x: int) -> int:
        """A tool added since the recording: fine."""
        return x

    result = await plait.aresume(
        "r1", store=db, model=ScriptedModel(TURNS[1:]), tools=[tool(), extra], kernel=kernel,
        handlers=[events.append],
    )  # fmt: skip
    assert result.ok and result.output == "the lamp is in stock"
    assert next(e for e in events if e.kind == "run.resume").data["schemas"] == "unchanged"


@pytest.mark.anyio
async def test_a_changed_output_type_is_refused(
    crash_kernel: CrashKernel, db: str, kernel: Kernel
) -> None:
    await _record(crash_kernel, db, output=Order, turns=[TURNS[0], [complete({"id": 7})]])
    with pytest.raises(SchemaChanged, match=r"output type changed its schema \(was Order, now "
                       r"OrderV2: added 'total'; changed 'id'\)"):  # fmt: skip
        await plait.aresume("r1", store=db, output=OrderV2, model=ScriptedModel([]),
                            tools=[search], kernel=kernel)  # fmt: skip
    same = await plait.aresume("r1", store=db, output=Order, kernel=kernel, tools=[search],
                               model=ScriptedModel([[complete({"id": 7})]]))  # fmt: skip
    assert same.output == Order(id=7)


@pytest.mark.anyio
async def test_text_to_structured_output_is_refused(
    crash_kernel: CrashKernel, db: str, kernel: Kernel
) -> None:
    await _record(crash_kernel, db)
    with pytest.raises(SchemaChanged, match=r"the output type changed its schema \(was str, now "):
        await plait.aresume(
            "r1", store=db, output=Order, model=ScriptedModel([]), tools=[search], kernel=kernel
        )


@pytest.mark.anyio
async def test_an_old_record_without_fingerprints_resumes_unchecked(
    crash_kernel: CrashKernel, db: str, kernel: Kernel
) -> None:
    await _record(crash_kernel, db)
    with sqlite3.connect(db.removeprefix("sqlite:///")) as raw:  # as recorded by an older plait
        raw.execute("UPDATE plait_runs SET options = json_remove(options, '$.schemas')")
    events: list[Any] = []
    result = await plait.aresume(
        "r1", store=db, model=ScriptedModel(TURNS[1:]), tools=[_search_v2_added()],
        kernel=kernel, handlers=[events.append],
    )  # fmt: skip
    assert result.ok
    assert next(e for e in events if e.kind == "run.resume").data["schemas"] == "unrecorded"


@pytest.mark.anyio
async def test_a_finished_run_gives_its_result_whatever_the_tools(db: str, kernel: Kernel) -> None:
    """Nothing of a finished run runs again: its recorded result comes back, no check."""
    first = await plait.arun("find a lamp", model=ScriptedModel(TURNS), tools=[search],
                             store=db, run_id="r1", kernel=kernel)  # fmt: skip
    again = await plait.aresume("r1", store=db, tools=[_search_v2_added()], kernel=kernel)
    assert again.output == first.output == "the lamp is in stock"


@pytest.mark.anyio
async def test_a_bad_on_schema_change_is_refused(db: str, kernel: Kernel) -> None:
    await plait.arun("x", model=ScriptedModel(["y"]), store=db, run_id="r1", kernel=kernel)
    with pytest.raises(ValueError, match="on_schema_change must be 'refuse' or 'accept'"):
        await plait.aresume("r1", store=db, kernel=kernel, on_schema_change="yes")


@pytest.mark.anyio
async def test_an_interrupted_run_stays_cancelled_when_refused(db: str) -> None:
    """The refusal comes before an interrupted run is reopened: it stays resumable as it was."""
    asked = anyio.Event()

    def answer(messages: list[Any], params: Any) -> Any:
        if any(m.role == "tool" for m in messages):
            asked.set()
            return Turn(text="too late", delay=600)
        return call("search", query="lamp", id="c1")

    async def go() -> None:
        await plait.arun("find a lamp", model=FunctionModel(answer), tools=[search],
                         store=db, run_id="r1", kernel=make_kernel())  # fmt: skip

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(go)
            await asked.wait()
            tg.cancel_scope.cancel()
    before = await _status(db)
    assert before[0] == "cancelled"
    with pytest.raises(SchemaChanged):
        await plait.aresume("r1", store=db, model=ScriptedModel([]), tools=[_search_v2_added()],
                            kernel=make_kernel())  # fmt: skip
    assert await _status(db) == before
    result = await plait.aresume("r1", store=db, model=ScriptedModel(TURNS[1:]), tools=[search],
                                 kernel=make_kernel())  # fmt: skip
    assert result.ok and result.output == "the lamp is in stock"


TOOL_MODULE_V2 = '''
from plait import tool

@tool(idempotent=True)
def search(query: str, limit: int) -> str:
    """Search the catalogue."""
    return f"found {limit} {query}"
'''


def test_the_cli_refuses_unless_told_to_accept(
    db: str, tmp_path: Path, capsys: Any, monkeypatch: Any, crash_kernel: CrashKernel
) -> None:
    (tmp_path / "schema_tools_v2.py").write_text(TOOL_MODULE_V2)
    monkeypatch.syspath_prepend(str(tmp_path))
    kernel = crash_kernel("tool_result", 1, "after")
    with pytest.raises(BaseException, match="after tool_result"):
        plait.run("find a lamp", model=ScriptedModel(TURNS), tools=[search], kernel=kernel,
                  store="crash+" + db, run_id="r1")  # fmt: skip
    argv = ["runs", "--store", db, "resume", "r1", "--tool", "schema_tools_v2:search",
            "--model", "test:echo"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("plait: error: run 'r1' was recorded with other schemas")
    assert "tool 'search' changed its parameters (added 'limit')" in err
    assert "(hint: pass --on-schema-change accept" in err
    assert main([*argv, "--on-schema-change", "accept"]) == 0
    assert capsys.readouterr().out.startswith("run r1: success")


def test_parameters_named_like_annotations_are_part_of_the_contract() -> None:
    """``title`` / ``description`` are left out as annotations, never as parameter names."""
    from plait._run._schemas import fingerprint

    def schema(*names: str, note: str = "") -> dict[str, Any]:
        props = {n: {"type": "string", "title": n.upper(), "description": note} for n in names}
        return {"type": "object", "title": note, "properties": props, "required": list(names)}

    assert fingerprint(schema("title", note="a")) == fingerprint(schema("title", note="b"))
    assert fingerprint(schema("title"))["sha"] != fingerprint(schema("description"))["sha"]
    assert fingerprint(schema("title", "description"))["properties"].keys() == {
        "title",
        "description",
    }
    enum_a = {"type": "string", "enum": [{"title": "x"}]}
    enum_b = {"type": "string", "enum": [{"title": "y"}]}
    assert fingerprint(enum_a) != fingerprint(enum_b)  # values are data, kept as they are
