"""The provider contract, without a network: ``ProviderChecks`` and ``ModelConformance``.

``ProviderChecks`` tests the ``Provider`` object (its name, ``models()`` ids, ``model()``)
and how the kernel resolves and lists it; ``ProviderConformance`` (HTTP) inherits it.
``ModelConformance`` adds the ``Model`` contract for a model that answers in-process
(an echo model, a local runtime, a rule engine): request and stream shapes, a stream that
ends with ``ResponseDone``, early stop, cancellation, concurrency, an idempotent
``aclose`` and errors inside the kernel's ``ProviderError`` tree.

``models()`` returns model ids **without** the provider prefix: provider ``echo`` lists
``"default"``, and plait shows it as ``echo:default``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import aclosing
from typing import Any

import anyio
import pytest

from plait._contracts import Model, Provider, RequestParams
from plait._errors import ModelNotFound, ProviderError
from plait._markers import hookimpl
from plait._messages import (
    AssistantMessage,
    ModelResponse,
    ResponseDone,
    SystemMessage,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    Usage,
    UserMessage,
)

from ._plugins import make_kernel

__all__ = ["ModelConformance", "ProviderChecks"]

MESSAGES = (SystemMessage(content="Be brief."), UserMessage(content="Hello, conformance?"))
UNKNOWN_ID = "no-such-model-plait-conformance"


class _ProviderPlugin:
    """A plugin object registering one provider, as an installed plugin's hooks would."""

    def __init__(self, provider: Provider) -> None:
        self._provider = provider

    @hookimpl
    def plait_register_providers(self) -> Iterable[Provider]:
        return [self._provider]


def _listed(provider: Provider) -> list[str] | None:
    lister = getattr(provider, "models", None)
    return None if lister is None else list(lister())


@pytest.mark.anyio
class ProviderChecks:
    """Checks of the ``Provider`` object; give a ``provider`` fixture returning it."""

    @pytest.fixture
    def provider(self) -> Provider:
        raise NotImplementedError("provide a provider fixture returning your Provider")

    async def test_provider_fits_the_contract(self, provider: Provider) -> None:
        assert isinstance(provider, Provider), "a Provider needs name and model()"
        name = provider.name
        assert isinstance(name, str) and name, "Provider.name must be a non-empty string"
        assert ":" not in name, f"Provider.name {name!r} is a prefix: it cannot contain ':'"

    async def test_models_lists_bare_ids(self, provider: Provider) -> None:
        ids = _listed(provider)
        if ids is None:
            return  # models() is optional
        prefix = f"{provider.name}:"
        for model_id in ids:
            assert isinstance(model_id, str) and model_id, f"models() gave {model_id!r}"
            assert not model_id.startswith(prefix), (
                f"models() must return ids without the provider prefix: {model_id!r} should "
                f"be {model_id.removeprefix(prefix)!r} (plait shows it as {model_id!r})"
            )
        assert len(set(ids)) == len(ids), f"models() lists an id twice: {ids}"
        assert _listed(provider) == ids, "models() must be stable (cheap, no I/O)"

    async def test_listed_models_resolve_to_models(self, provider: Provider) -> None:
        for model_id in _listed(provider) or []:
            model = provider.model(model_id)
            try:
                assert isinstance(model, Model), f"model({model_id!r}) is not a Model"
                assert isinstance(model.name, str) and model.name
            finally:
                await model.aclose()

    async def test_unknown_model_is_a_model_or_model_not_found(self, provider: Provider) -> None:
        try:
            model = provider.model(UNKNOWN_ID)
        except ModelNotFound:
            return
        try:
            assert isinstance(model, Model), "model() must return a Model or raise ModelNotFound"
        finally:
            await model.aclose()

    async def test_kernel_resolves_and_lists_it(self, provider: Provider) -> None:
        from .._cli.models import collect

        kernel = make_kernel(_ProviderPlugin(provider), builtins=False)
        name = provider.name
        assert kernel.providers()[name] is provider
        ids = _listed(provider) or []
        (row,) = [r for r in collect(kernel) if r["provider"] == name]
        assert row["models"] == sorted(f"{name}:{i}" for i in ids)
        if ids:
            model = kernel.model(f"{name}:{ids[0]}")
            assert isinstance(model, Model)
        await kernel.aclose()


class ModelConformance(ProviderChecks):
    """The in-process model suite. Fixtures: ``provider``, ``model_id`` (a model that answers
    text), optionally ``failing_model_id`` (a model whose every request fails)."""

    @pytest.fixture
    def provider(self) -> Provider:
        raise NotImplementedError("provide a provider fixture returning your Provider")

    @pytest.fixture
    def model_id(self) -> str:
        raise NotImplementedError("provide a model_id fixture: an id your provider answers")

    @pytest.fixture
    def failing_model_id(self) -> str | None:
        return None

    @pytest.fixture
    async def model(self, provider: Provider, model_id: str) -> AsyncIterator[Model]:
        model = provider.model(model_id)
        try:
            yield model
        finally:
            await model.aclose()

    async def test_model_fits_the_contract(self, model: Model) -> None:
        assert isinstance(model, Model), "a Model needs name, request(), stream(), aclose()"
        assert isinstance(model.name, str) and model.name

    async def test_request_returns_one_response(self, model: Model) -> None:
        response = await model.request(MESSAGES, RequestParams())
        assert isinstance(response, ModelResponse), f"request() returned {response!r}"
        assert isinstance(response.message, AssistantMessage)
        assert isinstance(response.usage, Usage)

    async def test_stream_ends_with_response_done(self, model: Model) -> None:
        events = [e async for e in model.stream(MESSAGES, RequestParams())]
        kinds = (TextDelta, ThinkingDelta, ToolCallDelta, ResponseDone)
        assert events and all(isinstance(e, kinds) for e in events), f"stream gave {events}"
        assert isinstance(events[-1], ResponseDone), "the last event must be ResponseDone"
        assert sum(isinstance(e, ResponseDone) for e in events) == 1
        deltas = "".join(e.text for e in events if isinstance(e, TextDelta))
        if deltas:
            assert deltas == events[-1].response.message.text, "deltas must add up to the text"

    async def test_stream_stopped_early_leaves_the_model_usable(self, model: Model) -> None:
        async with aclosing(model.stream(MESSAGES, RequestParams())) as events:  # type: ignore[type-var]
            async for _ in events:
                break
        assert isinstance(await model.request(MESSAGES, RequestParams()), ModelResponse)

    async def test_cancellation_leaves_the_model_usable(self, model: Model) -> None:
        with anyio.CancelScope() as scope:
            scope.cancel()
            await model.request(MESSAGES, RequestParams())
        with anyio.move_on_after(0):
            async for _ in model.stream(MESSAGES, RequestParams()):
                pass
        assert isinstance(await model.request(MESSAGES, RequestParams()), ModelResponse)

    async def test_concurrent_requests(self, model: Model) -> None:
        answers: list[Any] = []

        async def one() -> None:
            answers.append(await model.request(MESSAGES, RequestParams()))

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for _ in range(10):
                    tg.start_soon(one)
        assert len(answers) == 10 and all(isinstance(a, ModelResponse) for a in answers)

    async def test_aclose_is_idempotent(self, provider: Provider, model_id: str) -> None:
        unused = provider.model(model_id)
        await unused.aclose()
        await unused.aclose()
        used = provider.model(model_id)
        await used.request(MESSAGES, RequestParams())
        await used.aclose()
        await used.aclose()

    async def test_errors_are_provider_errors(
        self, provider: Provider, failing_model_id: str | None
    ) -> None:
        if failing_model_id is None:
            pytest.skip("no failing_model_id fixture given")
        model = provider.model(failing_model_id)
        try:
            with pytest.raises(ProviderError):
                await model.request(MESSAGES, RequestParams())
            with pytest.raises(ProviderError):
                async for _ in model.stream(MESSAGES, RequestParams()):
                    pass
        finally:
            await model.aclose()
