"""The defaults a newcomer gets: a seeded sampler and bounded arrays (issue 9)."""

from __future__ import annotations

import json

import pytest

from plait import ModelSettings, OutputSpec, RequestParams, UserMessage
from plait_local import LocalProvider

ASK = [UserMessage(content="List some numbers.")]


@pytest.mark.anyio
async def test_a_request_without_a_seed_is_repeatable(provider: LocalProvider) -> None:
    model = provider.model("smollm2")  # no seed anywhere: the option's default applies
    params = RequestParams(settings=ModelSettings(max_tokens=16, temperature=1.0))
    first = await model.request(ASK, params)
    second = await model.request(ASK, params)
    await model.aclose()
    assert first.message.text and first.message.text == second.message.text


@pytest.mark.anyio
async def test_an_unbounded_array_ends_within_the_default_cap(provider: LocalProvider) -> None:
    model = provider.model("smollm2")
    schema = {"type": "array", "items": {"type": "integer", "enum": [1, 2, 3]}}
    params = RequestParams(
        output=OutputSpec("numbers", schema),
        settings=ModelSettings(max_tokens=400, seed=4),  # unbounded, seed 4 repeats to the limit
    )
    response = await model.request(ASK, params)
    await model.aclose()
    assert response.finish_reason != "length"
    assert 0 <= len(json.loads(response.message.text)) <= 16
