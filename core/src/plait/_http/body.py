"""Reading a response body with its size bounded.

``httpx``'s ``response.content``, ``aread()`` and a non-streamed ``client.post`` buffer
the whole (decompressed) body, however large: a server that answers without end, or a
small gzip that inflates to gigabytes, fills the memory. ``read_body`` reads the
decompressed bytes piece by piece and stops once they pass the cap.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import cast

import httpx

from .._errors import ResponseTooLarge
from .._settings import current_limits

__all__ = ["read_body"]


def too_large(what: str, size: str, cap: str, limit: int) -> ResponseTooLarge:
    """The error for ``what`` (a response body, a stream event) past ``Limits.<cap>``."""
    return ResponseTooLarge(
        f"{what} is larger than {limit:,} {size} (Limits.{cap})", cap=cap, limit=limit
    )


async def read_body(
    response: httpx.Response,
    *,
    max_bytes: int | None = None,
    truncate: bool = False,
    provider: str | None = None,
) -> bytes:
    """The decompressed body of ``response`` (opened with ``stream=True``), at most
    ``max_bytes`` of it (default: the run's ``Limits.response_bytes``, see
    ``current_limits``).

    A longer body raises ``ResponseTooLarge`` (``cap="response_bytes"``) as soon as the
    bytes read pass the cap, without reading the rest; with ``truncate=True`` its first
    ``max_bytes`` are returned instead (an error body: its status says what went wrong,
    its text only explains). A body read already (``client.post``) is only checked.
    Transport failures are httpx's own (map them with
    ``map_transport_error``). The response is not closed: leave that to its
    ``async with`` or ``aclose``.
    """
    limit = current_limits().response_bytes if max_bytes is None else max_bytes
    parts: list[bytes] = []
    size = 0
    chunks = cast("AsyncGenerator[bytes, None]", response.aiter_bytes())
    async with aclosing(chunks):
        async for chunk in chunks:
            size += len(chunk)
            parts.append(chunk)
            if size > limit:
                if truncate:
                    return b"".join(parts)[:limit]
                error = too_large("the response body", "bytes", "response_bytes", limit)
                error.provider = provider
                raise error
    return parts[0] if len(parts) == 1 else b"".join(parts)
