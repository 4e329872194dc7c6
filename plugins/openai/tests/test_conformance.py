"""plait-openai passes plait's provider conformance suite, for both of its APIs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from plait import Model
from plait.testing import CONFORMANCE_KEY, ProviderConformance, WireAdapter
from plait_openai.provider import OpenAIProvider
from plait_openai.testing import ChatWire, ResponsesWire


class TestChatConformance(ProviderConformance):
    @pytest.fixture
    def provider(self) -> OpenAIProvider:
        return OpenAIProvider("openai", api="chat")

    @pytest.fixture
    def make_model(self, provider: OpenAIProvider) -> Callable[[str], Model]:
        return lambda base_url: provider.model(
            "gpt-test", base_url=f"{base_url}/v1", api_key=CONFORMANCE_KEY
        )

    @pytest.fixture
    def wire(self) -> WireAdapter:
        return ChatWire()


class TestResponsesConformance(ProviderConformance):
    @pytest.fixture
    def provider(self) -> OpenAIProvider:
        return OpenAIProvider("openai-responses", api="responses")

    @pytest.fixture
    def make_model(self, provider: OpenAIProvider) -> Callable[[str], Model]:
        return lambda base_url: provider.model(
            "gpt-test", base_url=f"{base_url}/v1", api_key=CONFORMANCE_KEY
        )

    @pytest.fixture
    def wire(self) -> WireAdapter:
        return ResponsesWire()
