"""What a listener gets, it cannot change for others (issue 12, rule 4).

Event data is sealed before any listener sees it: handlers, stream consumers and a
background handle's log share one read-only copy, separate from what the run holds; the
approver gets a frozen request; the tool gets its own arguments.
"""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import plait
from plait._events import ReadOnlyDict, ReadOnlyList, seal
from plait.testing import ScriptedModel, call, make_kernel


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _pay(received: list[dict[str, Any]], *, requires_approval: bool = False) -> Any:
    @plait.tool(requires_approval=requires_approval)
    def pay(amount: int, to: list[str]) -> str:
        """Pay the accounts."""
        received.append({"amount": amount, "to": list(to)})
        to.append("mallory")  # a tool changing its own arguments changes nothing else
        return "paid"

    return pay


def _script() -> ScriptedModel:
    return ScriptedModel([call("pay", amount=5, to=["bob"], id="c1"), "done"])


def _tamper(event: plait.Event) -> None:
    """A handler that tries every way of changing what others see."""
    if event.kind != "tool.start":
        return
    args = event.data["arguments"]
    for attempt in (
        lambda: args.__setitem__("amount", 9999),
        lambda: args["to"].append("eve"),
        lambda: args.update(amount=1),
        lambda: event.data.pop("arguments"),
        lambda: args["to"].__setitem__(0, "eve"),
    ):
        with pytest.raises(TypeError, match="read-only"):
            attempt()
    raise RuntimeError("tampered")  # reported as a plugin.error, the run goes on


@pytest.mark.anyio
@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
async def test_a_handler_cannot_change_what_the_tool_or_other_handlers_get(
    asynchronous: bool,
) -> None:
    received: list[dict[str, Any]] = []
    seen: list[plait.Event] = []

    async def tamper_async(event: plait.Event) -> None:
        _tamper(event)

    handler = tamper_async if asynchronous else _tamper
    result = await plait.arun(
        "pay bob",
        model=_script(),
        tools=[_pay(received)],
        handlers=[handler, seen.append],
        kernel=make_kernel(),
    )
    assert result.status == "success"
    assert received == [{"amount": 5, "to": ["bob"]}]
    start = next(e for e in seen if e.kind == "tool.start")
    assert start.data["arguments"] == {"amount": 5, "to": ["bob"]}  # not the tool's change
    errors = [e for e in seen if e.kind == "plugin.error"]
    assert errors and "RuntimeError" in errors[0].data["error"]


@pytest.mark.anyio
async def test_the_approver_approves_what_the_tool_receives_whatever_listeners_do() -> None:
    received: list[dict[str, Any]] = []
    requests: list[plait.ApprovalRequest] = []

    def approve(request: plait.ApprovalRequest) -> plait.Approval:
        requests.append(request)
        request.args["amount"] = 9999  # a fresh copy each time: changes nothing
        with pytest.raises(AttributeError):
            request.arguments = "{}"  # type: ignore[misc]
        return request.approve()

    await plait.arun(
        "pay bob",
        model=_script(),
        tools=[_pay(received, requires_approval=True)],
        handlers=[_tamper],
        approve=approve,
        kernel=make_kernel(),
    )
    assert received == [{"amount": 5, "to": ["bob"]}]
    assert json.loads(requests[0].arguments) == {"amount": 5, "to": ["bob"]}


@pytest.mark.anyio
async def test_stream_consumers_get_read_only_data() -> None:
    received: list[dict[str, Any]] = []
    async with plait.stream(
        "pay bob", model=_script(), tools=[_pay(received)], kernel=make_kernel()
    ) as s:
        async for event in s:
            assert isinstance(event.data, ReadOnlyDict)
            with pytest.raises(TypeError):
                event.data["injected"] = True  # type: ignore[index]
            if event.kind == "tool.start":
                with pytest.raises(TypeError):
                    event.data["arguments"]["amount"] = 1
        result = await s.result()
    assert result.status == "success"
    assert received == [{"amount": 5, "to": ["bob"]}]


def test_sealed_data_still_serialises_copies_and_pickles() -> None:
    data = seal({"a": [1, {"b": "x"}], "t": (1, 2), "n": None})
    assert json.loads(json.dumps(data)) == {"a": [1, {"b": "x"}], "t": [1, 2], "n": None}
    assert pickle.loads(pickle.dumps(data)) == data
    deep = copy.deepcopy(data)
    assert deep == data and isinstance(deep, ReadOnlyDict)
    mutable = dict(data)
    mutable["a"] = []  # a plain copy is the caller's to change
    assert data["a"] == [1, {"b": "x"}]


def test_seal_redacts_and_cuts_strings() -> None:
    sealed = seal({"k": ["secret sk-1", "x" * 50]}, lambda s: s.replace("sk-1", "***"), 10)
    assert sealed["k"][0] == "secret ***"
    assert sealed["k"][1].startswith("x" * 10) and "40 more characters" in sealed["k"][1]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _all_read_only(value: Any) -> bool:
    if isinstance(value, dict):
        return type(value) is ReadOnlyDict and all(_all_read_only(v) for v in value.values())
    if isinstance(value, list):
        return type(value) is ReadOnlyList and all(_all_read_only(v) for v in value)
    return True


@settings(max_examples=200, deadline=None, derandomize=True)
@given(value=st.dictionaries(st.text(), json_values, max_size=5))
def test_sealing_keeps_the_value_and_leaves_nothing_mutable(value: dict[str, Any]) -> None:
    original = copy.deepcopy(value)
    sealed = seal(value)
    assert sealed == original
    assert _all_read_only(sealed)
    assert seal(sealed) is sealed  # sealed once
    for v in sealed.values():  # the caller's containers are not shared with listeners
        assert not isinstance(v, dict | list) or all(v is not w for w in value.values())


@pytest.mark.anyio
async def test_event_strings_are_cut_at_the_cap_and_the_result_is_not() -> None:
    long = "x" * 5000
    seen: list[plait.Event] = []
    result = await plait.arun(
        "go", model=ScriptedModel([long]), kernel=make_kernel(), handlers=[seen.append],
        limits=plait.Limits(event_chars=1000),
    )  # fmt: skip
    (response,) = [e for e in seen if e.kind == "model.response"]
    assert response.data["text"].startswith("x" * 1000)
    assert "4000 more characters" in response.data["text"]
    assert len(response.data["text"]) < 1100
    assert result.output == long  # the caller's data is whole
