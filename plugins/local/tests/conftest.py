"""Fixtures for plait-local's tests: one provider (and so one loaded model) per session.

The tests run the real SmolLM2-135M model on one thread with short ``max_tokens``; they
assert shapes and validity, never what the model's words mean.
"""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest

from plait_local import LocalProvider


@pytest.fixture(scope="session")
def provider() -> Iterator[LocalProvider]:
    """A provider shared by the session, so the model file is verified and loaded once."""
    shared = LocalProvider(n_threads=1)
    yield shared
    anyio.run(shared.aclose)


@pytest.fixture(scope="session")
def smollm2(provider: LocalProvider) -> object:
    """The default model, ``local:smollm2``, seeded answers, one thread."""
    return provider.model("smollm2")
