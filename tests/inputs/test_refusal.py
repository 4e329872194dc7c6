"""A model that cannot take a part says so before any request: the kernel reads the
model's ``input_modalities`` and raises ``plait.UnsupportedInput`` naming both."""

from __future__ import annotations

from typing import Any

import pytest

import plait
from plait import Audio, Image, UnsupportedInput
from plait.testing import FunctionModel, ScriptedModel, call

from ._wire import PNG, WAV, Capture


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_the_local_model_refuses_an_image_before_any_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from plait_local import LocalModel, LocalProvider

    asked: list[Any] = []

    async def never(self: Any, *args: Any) -> Any:  # pragma: no cover - must not be reached
        asked.append(args)
        raise AssertionError("the model was asked")

    monkeypatch.setattr(LocalModel, "request", never)
    monkeypatch.setattr(LocalModel, "stream", never)
    model = LocalProvider(n_threads=1).model("smollm2")
    with pytest.raises(UnsupportedInput) as info:
        plait.run(["What is this?", Image.from_bytes(PNG)], model=model)
    assert info.value.model == "local:smollm2" and info.value.part == "image"
    assert "local:smollm2" in str(info.value) and "cannot take image input" in str(info.value)
    assert asked == []
    assert model._engine._llama is None  # nothing was even loaded


def test_the_local_prompt_refuses_media_it_is_handed_anyway() -> None:
    from plait import RequestParams, Text, UserMessage
    from plait_local._grammar import plan
    from plait_local._prompt import render

    params = RequestParams()
    with pytest.raises(UnsupportedInput):
        render([UserMessage(content=[Text("hi"), Image.from_bytes(PNG)])], params, plan(params))
    text = render([UserMessage(content=[Text("hi"), Text("there")])], params, plan(params))
    assert "hi\n\nthere" in text


@pytest.mark.parametrize(
    ("api", "model_id", "part", "kind"),
    [
        ("responses", "gpt-4.1", Audio.from_bytes(WAV), "audio"),
        ("anthropic", "claude-sonnet-4-5", Audio.from_bytes(WAV), "audio"),
        ("chat", "gpt-3.5-turbo", Image.from_bytes(PNG), "image"),
        ("chat", "gpt-4o", Audio.from_bytes(WAV), "audio"),
    ],
)
def test_hosted_models_refuse_what_their_api_cannot_take(
    api: str, model_id: str, part: Any, kind: str
) -> None:
    capture = Capture(api)
    with pytest.raises(UnsupportedInput, match=f"cannot take {kind} input") as info:
        plait.run(["Listen", part], model=capture.model(model_id))
    assert info.value.part == kind
    assert capture.bodies == []  # no request was sent


def test_another_hosts_model_is_unknown_unless_declared() -> None:
    from plait_openai.provider import OpenAIProvider

    provider = OpenAIProvider("lab", api="chat", base_url="http://127.0.0.1:9/v1")
    assert provider.model("llava").input_modalities is None  # the server decides
    declared = provider.model("llava", input_modalities=["text"])
    with pytest.raises(UnsupportedInput):
        plait.run(["Look", Image.from_bytes(PNG)], model=declared)
    with pytest.raises(plait.ConfigError, match="input_modalities"):
        provider.model("llava", input_modalities=["text", "smell"])


def test_a_thread_that_holds_an_image_is_refused_by_a_text_only_model(tmp_path: Any) -> None:
    store = f"sqlite:///{tmp_path}/t.db"
    thread = plait.Thread("shelf", store=store)
    plait.run(
        ["What is this?", Image.from_bytes(PNG)],
        model=FunctionModel(lambda m, p: "A cat."),
        thread=thread,
    )
    text_only = FunctionModel(lambda m, p: "?", input_modalities={"text"})
    with pytest.raises(UnsupportedInput):
        plait.run("And its colour?", model=text_only, thread=thread)
    assert text_only.requests == []


@pytest.mark.anyio
async def test_refused_before_any_request_async() -> None:
    model = FunctionModel(lambda m, p: "?", input_modalities={"text", "image"})
    with pytest.raises(UnsupportedInput, match="cannot take audio input"):
        await plait.arun("Listen", attachments=[Audio.from_bytes(WAV)], model=model)
    assert model.requests == []


def test_a_handoff_to_a_text_only_model_is_checked_before_it_is_asked() -> None:
    reader = ScriptedModel(["?"], input_modalities={"text"})
    writer = plait.Agent("writer", model=reader)
    looker = ScriptedModel([call("transfer_to_writer", id="h1")])
    with pytest.raises(UnsupportedInput, match="cannot take image input"):
        plait.run(["Describe and write", Image.from_bytes(PNG)], model=looker, handoffs=[writer])
    assert len(looker.requests) == 1 and reader.requests == []
