"""The run options ``previous_response_id=`` and ``conversation=`` (server-side state).

They reach a model in ``settings.extra`` under the keys it declares
(``Model.server_state_key``, ``Model.conversation_key``); a model that declares none
refuses them before anything is sent, and a handoff to a model that does not declare a
key does not carry it over.
"""

from __future__ import annotations

import pytest

import plait
from plait import ModelSettings
from plait._run._persist import carry_server_state
from plait.testing import ScriptedModel, call, make_kernel


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def stateful(turns: list[object]) -> ScriptedModel:
    model = ScriptedModel(turns)  # type: ignore[arg-type]
    model.server_state_key = "prev"  # type: ignore[attr-defined]
    model.conversation_key = "conv"  # type: ignore[attr-defined]
    return model


@pytest.mark.anyio
async def test_the_options_reach_the_model_under_its_keys() -> None:
    model = stateful(["one", "two"])
    await plait.arun("a", model=model, previous_response_id="resp_1", kernel=make_kernel())
    await plait.arun("b", model=model, conversation="conv_1", kernel=make_kernel())
    first, second = (r.params.settings.extra for r in model.requests)
    assert first == {"prev": "resp_1"}
    assert second == {"conv": "conv_1"}


@pytest.mark.anyio
async def test_a_model_without_server_state_refuses_them() -> None:
    model = ScriptedModel(["never asked"])
    with pytest.raises(ValueError, match="previous_response_id= given, but model 'test:scr"):
        await plait.arun("a", model=model, previous_response_id="x", kernel=make_kernel())
    with pytest.raises(ValueError, match="conversation= given, but model 'test:scripted'"):
        await plait.arun("a", model=model, conversation="x", kernel=make_kernel())
    assert model.requests == []


@pytest.mark.anyio
async def test_bad_values_are_refused() -> None:
    model = stateful(["never asked"])
    with pytest.raises(ValueError, match="not both"):
        await plait.arun(
            "a", model=model, previous_response_id="r", conversation="c", kernel=make_kernel()
        )
    with pytest.raises(TypeError, match="non-empty str"):
        await plait.arun("a", model=model, previous_response_id="", kernel=make_kernel())
    assert model.requests == []


def test_a_handoff_drops_the_keys_the_new_model_does_not_declare() -> None:
    settings = ModelSettings(extra={"prev": "resp_1", "conv": "c", "other": 1})
    plain = ScriptedModel([])
    assert carry_server_state(settings, stateful([]), plain).extra == {"other": 1}
    assert carry_server_state(settings, stateful([]), stateful([])) is settings
    assert carry_server_state(settings, plain, plain) is settings


@pytest.mark.anyio
async def test_a_handoff_to_a_plain_model_does_not_pass_the_id_on() -> None:
    plain = ScriptedModel(["Done."])
    billing: plait.Agent[str] = plait.Agent("billing", instructions="Bill.", model=plain)
    first = stateful([call("transfer_to_billing", id="h1")])
    result = await plait.arun(
        "Refund me.",
        model=first,
        handoffs=[billing],
        previous_response_id="resp_0",
        kernel=make_kernel(),
    )
    assert result.output == "Done."
    assert first.requests[0].params.settings.extra == {"prev": "resp_0"}
    assert "prev" not in plain.requests[0].params.settings.extra
