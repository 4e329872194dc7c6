"""Built-in plugin ``test-models``: the ``test`` provider for tests and examples (no network).

``test:echo`` answers with the last user message; ``test:slow`` does the same after
``delay=`` seconds (default: ``slow_seconds`` in ``[tool.plait.plugin.test-models]``,
else 1), for interrupting a run mid-turn; ``test:scripted`` takes ``turns=[...]`` (see
``plait.testing.ScriptedModel``); ``test:function`` takes ``fn=`` (see
``plait.testing.FunctionModel``). All accept ``chunk_size`` to stream in chunks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .._config import PlaitConfig
from .._contracts import Model, Provider
from .._errors import ModelNotFound
from .._markers import hookimpl

__all__ = ["TestProvider", "plait_register_providers"]


class TestProvider:
    """The ``test`` provider: scripted, function-backed and echo models."""

    __test__ = False  # not a pytest test class
    name = "test"

    def __init__(self, slow_seconds: float = 1.0) -> None:
        self.slow_seconds = float(slow_seconds)

    def model(self, model_id: str, **options: Any) -> Model:
        from ..testing._models import FunctionModel, ScriptedModel, echo, slow_echo

        chunk_size = options.pop("chunk_size", None)
        if model_id == "echo":
            return FunctionModel(echo, chunk_size=chunk_size, name="test:echo")
        if model_id == "slow":
            answer = slow_echo(float(options.pop("delay", self.slow_seconds)))
            return FunctionModel(answer, chunk_size=chunk_size, name="test:slow")
        if model_id == "scripted":
            return ScriptedModel(options.pop("turns", ()), chunk_size=chunk_size)
        if model_id == "function":
            if "fn" not in options:
                raise ModelNotFound("test:function needs fn=...", provider="test")
            return FunctionModel(options.pop("fn"), chunk_size=chunk_size)
        raise ModelNotFound(
            f"unknown test model {model_id!r} (echo, slow, scripted, function)", provider="test"
        )


class _Settings(BaseModel):
    """``[tool.plait.plugin.test-models]``: ``slow_seconds`` is ``test:slow``'s delay."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slow_seconds: float = Field(default=1.0, ge=0)


@hookimpl
def plait_register_providers(config: PlaitConfig) -> Iterable[Provider]:
    settings = config.plugin_settings("test-models", _Settings)
    return [TestProvider(slow_seconds=settings.slow_seconds)]
