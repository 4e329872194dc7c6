"""An error leaving ``plait.stream``'s block is the typed plait error, never a group
(issue 12, rule 6): what ``s.result()`` raised is what the caller catches."""

from __future__ import annotations

from typing import Any

import pytest

import plait
from plait.testing import FunctionModel, make_kernel


async def _down(messages: Any, params: Any) -> str:
    raise plait.AuthenticationFailed("bad key", provider="test")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.anyio
async def test_result_s_error_leaves_the_block_unwrapped() -> None:
    with pytest.raises(plait.AuthenticationFailed):
        async with plait.stream("hi", model=FunctionModel(_down), kernel=make_kernel()) as s:
            await s.result()


@pytest.mark.anyio
async def test_an_error_of_the_callers_own_leaves_unwrapped() -> None:
    with pytest.raises(LookupError, match="mine"):
        async with plait.stream("hi", model=FunctionModel(_down), kernel=make_kernel()):
            raise LookupError("mine")


def test_the_sync_form_raises_the_same_error() -> None:
    with (
        pytest.raises(plait.AuthenticationFailed),
        plait.stream("hi", model=FunctionModel(_down), kernel=make_kernel()) as s,
    ):
        s.result()
