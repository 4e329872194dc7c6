"""plait: a small, fast run kernel for AI agents, extended through pluggy hooks.

Importing plait is cheap and has no side effects: public names are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._config import PlaitConfig, ProviderProfile
    from ._context import Context
    from ._contracts import (
        Completion,
        Decision,
        EventHandler,
        Executor,
        Guardrail,
        Model,
        OutputSpec,
        Provider,
        RequestParams,
        Store,
        Tool,
        Toolset,
        ToolSpec,
        Verdict,
        Verifier,
    )
    from ._errors import (
        AttemptTimeout,
        AuthenticationFailed,
        ConfigError,
        ConnectionFailed,
        ContentFiltered,
        ContextWindowExceeded,
        DuplicateName,
        GuardrailTripped,
        LimitExceeded,
        ModelNotConfigured,
        ModelNotFound,
        PlaitError,
        PluginError,
        PluginErrors,
        PluginImportError,
        PluginNotFound,
        PluginRegistrationError,
        PluginValidationError,
        ProtocolError,
        ProviderError,
        QuotaExceeded,
        RateLimited,
        Rejected,
        RequestTimeout,
        Retry,
        RunError,
        RunFailed,
        ServerError,
        Unavailable,
    )
    from ._events import Event
    from ._markers import hookimpl
    from ._messages import (
        AssistantMessage,
        Message,
        ModelResponse,
        ResponseDone,
        SystemMessage,
        TextDelta,
        Thinking,
        ThinkingDelta,
        ToolCall,
        ToolCallDelta,
        ToolResultMessage,
        Usage,
        UserMessage,
    )
    from ._settings import Limits, ModelSettings

__version__ = "0.1.0"

# name -> private module that defines it; resolved on first attribute access (PEP 562).
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("PlaitConfig", "ProviderProfile"), "_config"),
    "Context": "_context",
    **dict.fromkeys(
        (
            "Completion", "Decision", "EventHandler", "Executor", "Guardrail", "Model",
            "OutputSpec", "Provider", "RequestParams", "Store", "Tool", "ToolSpec", "Toolset",
            "Verdict", "Verifier",
        ),
        "_contracts",
    ),
    **dict.fromkeys(
        (
            "AttemptTimeout", "AuthenticationFailed", "ConfigError", "ConnectionFailed",
            "ContentFiltered", "ContextWindowExceeded", "DuplicateName", "GuardrailTripped",
            "LimitExceeded", "ModelNotConfigured", "ModelNotFound", "PlaitError", "PluginError",
            "PluginErrors", "PluginImportError", "PluginNotFound", "PluginRegistrationError",
            "PluginValidationError", "ProtocolError", "ProviderError", "QuotaExceeded",
            "RateLimited", "Rejected", "RequestTimeout", "Retry", "RunError", "RunFailed",
            "ServerError", "Unavailable",
        ),
        "_errors",
    ),
    "Event": "_events",
    "hookimpl": "_markers",
    **dict.fromkeys(
        (
            "AssistantMessage", "Message", "ModelResponse", "ResponseDone", "SystemMessage",
            "TextDelta", "Thinking", "ThinkingDelta", "ToolCall", "ToolCallDelta",
            "ToolResultMessage", "Usage", "UserMessage",
        ),
        "_messages",
    ),
    **dict.fromkeys(("Limits", "ModelSettings"), "_settings"),
}

__all__ = [
    "AssistantMessage",
    "AttemptTimeout",
    "AuthenticationFailed",
    "Completion",
    "ConfigError",
    "ConnectionFailed",
    "ContentFiltered",
    "Context",
    "ContextWindowExceeded",
    "Decision",
    "DuplicateName",
    "Event",
    "EventHandler",
    "Executor",
    "Guardrail",
    "GuardrailTripped",
    "LimitExceeded",
    "Limits",
    "Message",
    "Model",
    "ModelNotConfigured",
    "ModelNotFound",
    "ModelResponse",
    "ModelSettings",
    "OutputSpec",
    "PlaitConfig",
    "PlaitError",
    "PluginError",
    "PluginErrors",
    "PluginImportError",
    "PluginNotFound",
    "PluginRegistrationError",
    "PluginValidationError",
    "ProtocolError",
    "Provider",
    "ProviderError",
    "ProviderProfile",
    "QuotaExceeded",
    "RateLimited",
    "Rejected",
    "RequestParams",
    "RequestTimeout",
    "ResponseDone",
    "Retry",
    "RunError",
    "RunFailed",
    "ServerError",
    "Store",
    "SystemMessage",
    "TextDelta",
    "Thinking",
    "ThinkingDelta",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolResultMessage",
    "ToolSpec",
    "Toolset",
    "Unavailable",
    "Usage",
    "UserMessage",
    "Verdict",
    "Verifier",
    "hookimpl",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'plait' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"plait.{module}"), name)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
