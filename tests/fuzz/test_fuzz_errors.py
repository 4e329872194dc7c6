"""Fuzz the kernel's error-body decoders: ``error_from_response`` and ``error_from_payload``.

Any status, headers and body give a ``ProviderError`` (returned, never raised), with a
string message, that pickles; nothing else escapes.
"""

from __future__ import annotations

import json
import pickle
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from plait.provider import ProviderError, error_from_payload, error_from_response

from ._strategies import JSON, KEYS, TEXT, mutated, recorded_errors
from .conftest import fuzz_settings

RECORDED = st.deferred(lambda: st.sampled_from(recorded_errors()))


@st.composite
def error_bodies(draw: st.DrawFn) -> bytes:
    """Recorded error bodies (JSON ones mutated), random JSON, or random bytes."""
    _status, raw = draw(RECORDED)
    try:
        payload = json.loads(raw)
    except ValueError:
        return draw(st.sampled_from([raw, raw[: len(raw) // 2]]))
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.binary(max_size=64))
    if kind == 1:
        return json.dumps(draw(JSON)).encode()
    return json.dumps(draw(mutated(st.just(payload)))).encode()


HEADERS = st.dictionaries(
    st.sampled_from(["retry-after", "Retry-After", "retry-after-ms", "x-other"]),
    st.one_of(
        TEXT,
        st.sampled_from(["1", "-5", "1e308", "nan", "inf", "Wed, 21 Oct 2015 07:28:00 GMT"]),
        st.integers().map(str),
    ),
    max_size=3,
)
STATUS = st.one_of(
    st.sampled_from([400, 401, 402, 404, 408, 413, 429, 500, 503, 529]), st.integers(100, 999)
)


def _typed(error: Any) -> None:
    assert isinstance(error, ProviderError)
    assert isinstance(str(error), str)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert "sk-fuzz-secret-1234" not in str(error)
    if getattr(error, "retry_after", None) is not None:
        assert error.retry_after >= 0  # type: ignore[attr-defined]


@fuzz_settings(200)
@given(status=STATUS, headers=HEADERS, body=error_bodies())
def test_error_from_response(status: int, headers: dict[str, str], body: bytes) -> None:
    _typed(
        error_from_response(
            status, headers, body, provider="fuzz", secrets=("sk-fuzz-secret-1234",)
        )
    )


PAYLOADS = st.one_of(
    st.dictionaries(st.sampled_from([*KEYS, "message", "detail"]), JSON, max_size=4),
    st.builds(
        lambda inner: {"error": inner},
        st.dictionaries(st.sampled_from(["message", "type", "code", "param"]), JSON),
    ),
)


@fuzz_settings(150)
@given(payload=PAYLOADS, status=st.none() | STATUS)
def test_error_from_payload(payload: dict[str, Any], status: int | None) -> None:
    _typed(
        error_from_payload(
            payload, provider="fuzz", status=status, secrets=("sk-fuzz-secret-1234",)
        )
    )
