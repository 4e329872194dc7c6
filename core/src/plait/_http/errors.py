"""Map HTTP failures of a model API into plait's provider error tree.

    status / body code                          → error
    429 (``retry-after-ms``, ``retry-after``)   → RateLimited(retry_after=seconds)
    402, ``insufficient_quota``                 → QuotaExceeded (even when sent with 429)
    401, 403                                    → AuthenticationFailed
    404, ``model_not_found``                    → ModelNotFound
    context-length codes and messages           → ContextWindowExceeded
    408                                         → AttemptTimeout
    other 4xx                                   → Rejected
    503, 529, ``overloaded``                    → Unavailable
    other 5xx                                   → ServerError
    httpx.ConnectError                          → ConnectionFailed(phase="connect")
    httpx.ReadError / RemoteProtocolError       → ConnectionFailed(phase="read")
    httpx timeouts                              → AttemptTimeout

Messages keep the server's explanation but never a secret: every string given in
``secrets`` is replaced, key-like tokens are masked, and URLs lose their credentials
and query string. A transport failure names the URL it was talking to.
Request headers are never read.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from plait._errors import (
    AttemptTimeout,
    AuthenticationFailed,
    ConnectionFailed,
    ContentFiltered,
    ContextWindowExceeded,
    ModelNotFound,
    ProtocolError,
    ProviderError,
    QuotaExceeded,
    RateLimited,
    Rejected,
    ServerError,
    Unavailable,
)
from plait._json import loads_json

__all__ = [
    "error_from_payload",
    "error_from_response",
    "map_transport_error",
    "parse_retry_after",
    "scrub",
]

_KEYLIKE = re.compile(
    r"\b(?:sk|pk|rk|key|gsk|xai|csk|sess)[-_][A-Za-z0-9_\-*.]{6,}"
    r"|\bBearer\s+\S+"
    r"|\b[A-Za-z0-9_\-]{40,}\b"
)
_URL_QUERY = re.compile(r"(https?://[^\s?#]+)\?[^\s#]*")
_URL_USERINFO = re.compile(r"(https?://)[^\s/?#@]+@")
_CONTEXT_CODES = frozenset(
    {"context_length_exceeded", "string_above_max_length", "request_too_large"}
)
_CONTEXT_WORDS = ("context length", "context window", "prompt is too long", "too many tokens")
_QUOTA_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached", "billing_error"})
_MAX_MESSAGE = 500


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given secrets, key-like tokens and URL query strings removed."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[REDACTED]")
    text = _URL_USERINFO.sub(r"\1[REDACTED]@", text)
    text = _URL_QUERY.sub(r"\1?[REDACTED]", text)
    return _KEYLIKE.sub("[REDACTED]", text)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None and not isinstance(headers, httpx.Headers):
        lowered = {k.lower(): v for k, v in headers.items()}
        value = lowered.get(name)
    return value


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait as the server asked: ``retry-after-ms``, then ``retry-after``
    (seconds or an HTTP date). ``None`` when absent or unreadable; never negative."""
    ms = _header(headers, "retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = _header(headers, "retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _decode_body(body: bytes) -> Any:
    """The JSON of an error body, ``None`` when it is not JSON or nested too deeply."""
    try:
        return loads_json(body)
    except ProtocolError:
        return None


def _error_fields(payload: Any) -> tuple[str, str, str]:
    """(message, type, code) from the common error shapes of OpenAI-style and Anthropic APIs."""
    if not isinstance(payload, Mapping):
        return "", "", ""
    inner = payload.get("error")
    if isinstance(inner, Mapping):
        payload = inner
    elif isinstance(inner, str):
        return inner, "", ""
    message = payload.get("message") or payload.get("detail") or ""
    kind = payload.get("type") or ""
    code = payload.get("code") or ""
    return str(message), str(kind), str(code)


def _classify(status: int | None, kind: str, code: str, message: str) -> type[ProviderError]:
    words = f"{kind} {code}".lower()
    text = message.lower()
    if code in _QUOTA_CODES or kind in _QUOTA_CODES or status == 402:
        return QuotaExceeded
    if code in _CONTEXT_CODES or (
        status in (None, 400, 413, 422) and any(w in text for w in _CONTEXT_WORDS)
    ):
        return ContextWindowExceeded
    if status == 429 or "rate_limit" in words:
        return RateLimited
    if status in (401, 403) or "authentication" in words or "permission" in words:
        return AuthenticationFailed
    if "invalid_api_key" in words:
        return AuthenticationFailed
    if status == 404 or "not_found" in words:
        return ModelNotFound
    if "content_filter" in words or "content_policy" in words:
        return ContentFiltered
    if status == 408:
        return AttemptTimeout
    if status in (503, 529) or "overloaded" in words:
        return Unavailable
    if status is not None and 400 <= status < 500:
        return Rejected
    if "invalid" in words:  # invalid_request_error, invalid_value, invalid_prompt, ...
        return Rejected
    return ServerError


def _build(
    cls: type[ProviderError],
    message: str,
    *,
    provider: str,
    status: int | None,
    retry_after: float | None,
    secrets: Iterable[str],
) -> ProviderError:
    text = scrub(message.strip(), secrets)[:_MAX_MESSAGE] or _default_message(cls, status)
    if cls is RateLimited:
        return RateLimited(text, retry_after=retry_after, provider=provider, status_code=status)
    return cls(text, provider=provider, status_code=status)


def _default_message(cls: type[ProviderError], status: int | None) -> str:
    if status is not None:
        phrase = httpx.codes.get_reason_phrase(status)
        return phrase.lower() if phrase else f"HTTP error {status}"
    return cls.__doc__.split("\n")[0] if cls.__doc__ else cls.__name__


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    provider: str,
    secrets: Iterable[str] = (),
) -> ProviderError:
    """The error for a non-2xx HTTP response (``body`` is the raw response body)."""
    payload = _decode_body(body)
    message, kind, code = _error_fields(payload)
    if payload is None and body:
        message = body[:_MAX_MESSAGE].decode("utf-8", errors="replace")
    cls = _classify(status, kind, code, message)
    retry_after = parse_retry_after(headers) if cls is RateLimited else None
    return _build(
        cls, message, provider=provider, status=status, retry_after=retry_after, secrets=secrets
    )


def error_from_payload(
    payload: Mapping[str, Any],
    *,
    provider: str,
    status: int | None = None,
    secrets: Iterable[str] = (),
) -> ProviderError:
    """The error for an error object inside a (200) stream: the same class its HTTP status
    would give. A numeric ``code`` (some OpenAI-compatible hosts) stands in for the status."""
    message, kind, code = _error_fields(payload)
    if status is None and len(code) == 3 and code.isascii() and code.isdigit():
        status = int(code)  # ASCII only: ``"²".isdigit()`` is true, and ``int`` refuses it
    cls = _classify(status, kind, code, message)
    return _build(cls, message, provider=provider, status=status, retry_after=None, secrets=secrets)


def _url(exc: httpx.TransportError) -> str | None:
    """The failed request's URL without credentials: no userinfo, query or fragment."""
    try:
        url = exc.request.url
    except RuntimeError:  # raised without a request
        return None
    return str(url.copy_with(username=None, password=None, query=None, fragment=None))


def _os_reason(exc: BaseException) -> str | None:
    """``[Errno 111] Connection refused``: the operating system's reason, found in the
    causes (httpx and anyio wrap it in "All connection attempts failed")."""
    todo: list[BaseException] = [exc]
    for _ in range(16):  # bounded: chains and groups come from outside
        if not todo:
            break
        err = todo.pop(0)
        if isinstance(err, OSError) and err.errno is not None and err.strerror:
            # the system's wording ("Connection refused"), not asyncio's "Connect call failed"
            why = os.strerror(err.errno) if err.errno > 0 else err.strerror
            return f"[Errno {err.errno}] {why}"
        todo.extend(getattr(err, "exceptions", ()))
        if (cause := err.__cause__ or err.__context__) is not None:
            todo.append(cause)
    return None


def map_transport_error(
    exc: httpx.TransportError, *, provider: str, secrets: Iterable[str] = ()
) -> ProviderError:
    """The error for an httpx transport failure (raise it ``from exc``).

    The message names the URL (without credentials) and why: ``cannot connect to
    http://127.0.0.1:9/v1/chat/completions: [Errno 111] Connection refused``.
    """
    detail = scrub(str(exc), secrets)[:_MAX_MESSAGE]
    what = type(exc).__name__
    message = f"{what}: {detail}" if detail else what
    url = _url(exc)
    safe = None if url is None else scrub(url, secrets)
    at = "" if safe is None else f" talking to {safe}"
    if isinstance(exc, httpx.TimeoutException):
        return AttemptTimeout(f"timed out{at} ({message})", provider=provider)
    if isinstance(exc, httpx.ConnectError):
        if safe is None:
            return ConnectionFailed(f"cannot connect ({message})", provider=provider)
        reason = _os_reason(exc) or message
        return ConnectionFailed(f"cannot connect to {safe}: {reason}", provider=provider)
    if isinstance(exc, (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)):
        return ConnectionFailed(
            f"connection broken{at} ({message})", phase="read", provider=provider
        )
    return ConnectionFailed(f"transport error{at} ({message})", phase="connect", provider=provider)
