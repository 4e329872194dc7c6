"""HTTP status and error bodies map onto plait's provider error tree, without secrets."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from plait._errors import (
    AttemptTimeout,
    AuthenticationFailed,
    ConnectionFailed,
    ContextWindowExceeded,
    ModelNotFound,
    ProviderError,
    QuotaExceeded,
    RateLimited,
    Rejected,
    ServerError,
    Unavailable,
)
from plait._http.errors import (
    error_from_payload,
    error_from_response,
    map_transport_error,
    parse_retry_after,
)

KEY = "sk-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def openai_body(message: str, kind: str = "", code: str | None = None) -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "code": code}}).encode()


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (429, openai_body("Rate limit reached", "requests", "rate_limit_exceeded"), RateLimited),
        (
            429,
            openai_body("You exceeded your quota", "insufficient_quota", "insufficient_quota"),
            QuotaExceeded,
        ),
        (402, b'{"error": {"message": "Payment required"}}', QuotaExceeded),
        (
            401,
            openai_body("Incorrect API key", "invalid_request_error", "invalid_api_key"),
            AuthenticationFailed,
        ),
        (403, b"forbidden", AuthenticationFailed),
        (
            404,
            openai_body("The model `x` does not exist", "invalid_request_error", "model_not_found"),
            ModelNotFound,
        ),
        (
            400,
            openai_body(
                "maximum context length is 8192 tokens",
                "invalid_request_error",
                "context_length_exceeded",
            ),
            ContextWindowExceeded,
        ),
        (
            400,
            b'{"type":"error","error":{"type":"invalid_request_error",'
            b'"message":"prompt is too long: 210000 tokens"}}',
            ContextWindowExceeded,
        ),
        (400, openai_body("bad", "invalid_request_error"), Rejected),
        (422, b'{"detail": "unprocessable"}', Rejected),
        (408, b"", AttemptTimeout),
        (500, b"<html>oops</html>", ServerError),
        (502, b"", ServerError),
        (504, b"", ServerError),
        (503, b"", Unavailable),
        (
            529,
            b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
            Unavailable,
        ),
        (
            500,
            b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
            Unavailable,
        ),
    ],
)
def test_status_and_body_map_to_the_error_tree(status: int, body: bytes, expected: type) -> None:
    err = error_from_response(status, {}, body, provider="openai")
    assert type(err) is expected
    assert err.status_code == status
    assert err.provider == "openai"
    assert str(err).startswith("openai: ")


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (429, True),
        (500, True),
        (503, True),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (422, False),
        (402, False),
    ],
)
def test_retryable_flags(status: int, retryable: bool) -> None:
    assert error_from_response(status, {}, b"", provider="p").retryable is retryable


def test_retry_after_seconds_milliseconds_and_date() -> None:
    assert parse_retry_after({"Retry-After": "7"}) == 7.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    now = datetime(2026, 1, 1, tzinfo=UTC)
    date = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=now.timestamp()) == pytest.approx(30)
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after": "-5"}) == 0.0
    assert parse_retry_after({}) is None
    err = error_from_response(429, httpx.Headers({"Retry-After-Ms": "250"}), b"", provider="p")
    assert isinstance(err, RateLimited)
    assert err.retry_after == 0.25


def test_error_in_a_stream_maps_like_the_http_status() -> None:
    cases = [
        ({"error": {"type": "rate_limit_error", "message": "slow down"}}, 429),
        ({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, 529),
        (
            {
                "error": {
                    "message": "quota",
                    "type": "insufficient_quota",
                    "code": "insufficient_quota",
                }
            },
            429,
        ),
        ({"error": {"type": "authentication_error", "message": "bad key"}}, 401),
        ({"error": {"type": "not_found_error", "message": "no model"}}, 404),
        ({"error": {"type": "api_error", "message": "internal"}}, 500),
        ({"type": "error", "code": "context_length_exceeded", "message": "too long"}, 400),
        ({"error": {"code": 502, "message": "upstream"}}, 502),
    ]
    for payload, status in cases:
        in_stream = error_from_payload(payload, provider="p")
        as_http = error_from_response(status, {}, json.dumps(payload).encode(), provider="p")
        assert type(in_stream) is type(as_http), payload


def test_transport_errors() -> None:
    request = httpx.Request("POST", "http://127.0.0.1:1/v1/chat/completions?key=" + KEY)
    connect = map_transport_error(httpx.ConnectError("refused", request=request), provider="p")
    assert isinstance(connect, ConnectionFailed)
    assert connect.phase == "connect"
    assert connect.retryable
    reset = map_transport_error(httpx.ReadError("reset by peer"), provider="p")
    assert isinstance(reset, ConnectionFailed)
    assert reset.phase == "read"
    closed = map_transport_error(httpx.RemoteProtocolError("peer closed"), provider="p")
    assert isinstance(closed, ConnectionFailed)
    assert closed.phase == "read"
    for exc in (httpx.ReadTimeout("t"), httpx.ConnectTimeout("t"), httpx.PoolTimeout("t")):
        assert isinstance(map_transport_error(exc, provider="p"), AttemptTimeout)


def _all_errors() -> list[ProviderError]:
    headers = {"authorization": f"Bearer {KEY}", "retry-after": "3"}
    leaky = openai_body(f"Incorrect API key provided: {KEY}. See https://x.test/a?api_key={KEY}")
    errors: list[ProviderError] = [
        error_from_response(status, headers, leaky, provider="openai", secrets=[KEY])
        for status in (400, 401, 402, 403, 404, 408, 422, 429, 500, 503, 529)
    ]
    errors += [error_from_response(401, headers, leaky, provider="openai")]  # masked by shape alone
    errors.append(error_from_payload(json.loads(leaky), provider="openai", secrets=[KEY]))
    url = f"https://api.test/v1?key={KEY}"
    errors += [
        map_transport_error(cls(f"failed for {url}"), provider="openai", secrets=[KEY])
        for cls in (
            httpx.ConnectError,
            httpx.ReadError,
            httpx.ReadTimeout,
            httpx.RemoteProtocolError,
        )
    ]
    return errors


def test_errors_are_picklable_and_never_carry_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    for err in _all_errors():
        clone = pickle.loads(pickle.dumps(err))
        assert type(clone) is type(err)
        assert str(clone) == str(err)
        assert getattr(clone, "retry_after", None) == getattr(err, "retry_after", None)
        for text in (str(err), repr(err), str(pickle.dumps(err)), repr(err.__dict__)):
            assert KEY not in text
            assert KEY[8:] not in text
