"""Anthropic error objects → plait's provider error tree (through ``plait.provider``).

Anthropic names its errors by ``type``; inside a 200 stream an ``error`` event carries
the same object the HTTP response would have had, so each type is given the status it
is documented with and mapped exactly as that response would be.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from plait.provider import ProviderError, error_from_payload

__all__ = ["STATUS_OF_TYPE", "error_from_event"]

STATUS_OF_TYPE: Mapping[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
"""The HTTP status Anthropic documents for each error ``type``."""


def error_from_event(
    payload: Mapping[str, Any],
    *,
    provider: str,
    partial: str | None = None,
    secrets: Iterable[str] = (),
) -> ProviderError:
    """The error for an ``error`` event of a stream; ``partial`` is the text seen before it."""
    inner = payload.get("error")
    kind = inner.get("type") if isinstance(inner, Mapping) else None
    status = STATUS_OF_TYPE.get(kind) if isinstance(kind, str) else None
    error = error_from_payload(payload, provider=provider, status=status, secrets=secrets)
    error.partial = partial
    return error
