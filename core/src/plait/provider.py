"""The kit for provider plugins: everything a ``Provider`` and its ``Model`` need.

The contracts (``Provider``, ``Model``) and what a model is given (``RequestParams``,
``ToolSpec``, ``OutputSpec``, ``ModelSettings``, messages); what it returns
(``ModelResponse``, or stream events ending with ``ResponseDone``); the errors it
raises; the kernel's HTTP helpers (``ClientPool``, SSE decoding, error mapping, the
bounded ``read_body``; they import httpx), ``loads_json`` (JSON with its depth bounded),
``current_deadline`` and ``current_limits`` (the run's size caps); ``hookimpl`` and
``PlaitConfig`` for the plugin's hooks. See docs/plugins/providers.md.

Names are loaded on first use, so importing this module does not import httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

if TYPE_CHECKING:  # what type checkers see; tests/test_public_api.py checks it against _EXPORTS
    from ._config import PlaitConfig as PlaitConfig
    from ._config import ProviderProfile as ProviderProfile
    from ._contracts import DefaultModel as DefaultModel
    from ._contracts import Model as Model
    from ._contracts import OutputSpec as OutputSpec
    from ._contracts import Provider as Provider
    from ._contracts import RequestParams as RequestParams
    from ._contracts import ToolSpec as ToolSpec
    from ._errors import AuthenticationFailed as AuthenticationFailed
    from ._errors import ConfigError as ConfigError
    from ._errors import ConnectionFailed as ConnectionFailed
    from ._errors import ContentFiltered as ContentFiltered
    from ._errors import ContextWindowExceeded as ContextWindowExceeded
    from ._errors import ModelNotFound as ModelNotFound
    from ._errors import PlaitError as PlaitError
    from ._errors import ProtocolError as ProtocolError
    from ._errors import ProviderError as ProviderError
    from ._errors import QuotaExceeded as QuotaExceeded
    from ._errors import RateLimited as RateLimited
    from ._errors import Rejected as Rejected
    from ._errors import RequestTimeout as RequestTimeout
    from ._errors import ResponseTooLarge as ResponseTooLarge
    from ._errors import ServerError as ServerError
    from ._errors import Unavailable as Unavailable
    from ._errors import UnsupportedInput as UnsupportedInput
    from ._http import DEFAULT_LIMITS as DEFAULT_LIMITS
    from ._http import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
    from ._http import ClientPool as ClientPool
    from ._http import ServerSentEvent as ServerSentEvent
    from ._http import SSEDecoder as SSEDecoder
    from ._http import aiter_sse as aiter_sse
    from ._http import error_from_payload as error_from_payload
    from ._http import error_from_response as error_from_response
    from ._http import map_transport_error as map_transport_error
    from ._http import parse_retry_after as parse_retry_after
    from ._http import read_body as read_body
    from ._http import scrub as scrub
    from ._json import loads_json as loads_json
    from ._markers import hookimpl as hookimpl
    from ._messages import AssistantMessage as AssistantMessage
    from ._messages import FinishReason as FinishReason
    from ._messages import Message as Message
    from ._messages import ModelResponse as ModelResponse
    from ._messages import ResponseDone as ResponseDone
    from ._messages import StreamEvent as StreamEvent
    from ._messages import SystemMessage as SystemMessage
    from ._messages import TextDelta as TextDelta
    from ._messages import Thinking as Thinking
    from ._messages import ThinkingDelta as ThinkingDelta
    from ._messages import ToolCall as ToolCall
    from ._messages import ToolCallDelta as ToolCallDelta
    from ._messages import ToolResultMessage as ToolResultMessage
    from ._messages import Usage as Usage
    from ._messages import UserMessage as UserMessage
    from ._retry import current_deadline as current_deadline
    from ._settings import ModelSettings as ModelSettings
    from ._settings import current_limits as current_limits

# The one list of this door's names: name -> private module under plait that defines it.
_EXPORTS: dict[str, str] = {
    "AssistantMessage": "_messages",
    "AuthenticationFailed": "_errors",
    "ClientPool": "_http",
    "ConfigError": "_errors",
    "ConnectionFailed": "_errors",
    "ContentFiltered": "_errors",
    "ContextWindowExceeded": "_errors",
    "DEFAULT_LIMITS": "_http",
    "DEFAULT_TIMEOUT": "_http",
    "DefaultModel": "_contracts",
    "FinishReason": "_messages",
    "Message": "_messages",
    "Model": "_contracts",
    "ModelNotFound": "_errors",
    "ModelResponse": "_messages",
    "ModelSettings": "_settings",
    "OutputSpec": "_contracts",
    "PlaitConfig": "_config",
    "PlaitError": "_errors",
    "ProtocolError": "_errors",
    "Provider": "_contracts",
    "ProviderError": "_errors",
    "ProviderProfile": "_config",
    "QuotaExceeded": "_errors",
    "RateLimited": "_errors",
    "Rejected": "_errors",
    "RequestParams": "_contracts",
    "RequestTimeout": "_errors",
    "ResponseDone": "_messages",
    "ResponseTooLarge": "_errors",
    "SSEDecoder": "_http",
    "ServerError": "_errors",
    "ServerSentEvent": "_http",
    "StreamEvent": "_messages",
    "SystemMessage": "_messages",
    "TextDelta": "_messages",
    "Thinking": "_messages",
    "ThinkingDelta": "_messages",
    "ToolCall": "_messages",
    "ToolCallDelta": "_messages",
    "ToolResultMessage": "_messages",
    "ToolSpec": "_contracts",
    "Unavailable": "_errors",
    "UnsupportedInput": "_errors",
    "Usage": "_messages",
    "UserMessage": "_messages",
    "aiter_sse": "_http",
    "current_deadline": "_retry",
    "current_limits": "_settings",
    "error_from_payload": "_http",
    "error_from_response": "_http",
    "hookimpl": "_markers",
    "loads_json": "_json",
    "map_transport_error": "_http",
    "parse_retry_after": "_http",
    "read_body": "_http",
    "scrub": "_http",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
