"""Built-in plugin ``test-models``: the ``test`` provider for tests and examples (no network).

``test:echo`` answers with the last user message; ``test:scripted`` takes
``turns=[...]`` (see ``plait.testing.ScriptedModel``); ``test:function`` takes ``fn=``
(see ``plait.testing.FunctionModel``). Both accept ``chunk_size`` to stream in chunks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._config import PlaitConfig
from .._contracts import Model, Provider
from .._errors import ModelNotFound
from .._markers import hookimpl

__all__ = ["TestProvider", "plait_register_providers"]


class TestProvider:
    """The ``test`` provider: scripted, function-backed and echo models."""

    __test__ = False  # not a pytest test class
    name = "test"

    def model(self, model_id: str, **options: Any) -> Model:
        from ..testing._models import FunctionModel, ScriptedModel, echo

        chunk_size = options.pop("chunk_size", None)
        if model_id == "echo":
            return FunctionModel(echo, chunk_size=chunk_size, name="test:echo")
        if model_id == "scripted":
            return ScriptedModel(options.pop("turns", ()), chunk_size=chunk_size)
        if model_id == "function":
            if "fn" not in options:
                raise ModelNotFound("test:function needs fn=...", provider="test")
            return FunctionModel(options.pop("fn"), chunk_size=chunk_size)
        raise ModelNotFound(
            f"unknown test model {model_id!r} (echo, scripted, function)", provider="test"
        )


@hookimpl
def plait_register_providers(config: PlaitConfig) -> Iterable[Provider]:
    return [TestProvider()]
