"""The kernel's HTTP layer for provider plugins: SSE decoding, error mapping, client pools,
bounded body reads.

Imported only by provider plugins (it imports httpx); ``import plait`` never loads it.
"""

from __future__ import annotations

from .body import read_body
from .client import DEFAULT_LIMITS, DEFAULT_TIMEOUT, ClientPool
from .errors import (
    error_from_payload,
    error_from_response,
    map_transport_error,
    parse_retry_after,
    scrub,
)
from .sse import ServerSentEvent, SSEDecoder, aiter_sse

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "ClientPool",
    "SSEDecoder",
    "ServerSentEvent",
    "aiter_sse",
    "error_from_payload",
    "error_from_response",
    "map_transport_error",
    "parse_retry_after",
    "read_body",
    "scrub",
]
