"""plait's exception tree.

Every error plait raises is a ``PlaitError``. Lower-level errors (httpx, a provider's
JSON, a plugin's import) are *mapped* into this tree with ``raise Mapped(...) from exc``.

    PlaitError
    ├── ConfigError                  bad configuration: names the file, key, what is allowed
    │   ├── SchemaChanged            resume refused: a tool's or the output's schema changed
    │   ├── ApprovalError            approvals= refused: the run is not paused, the call is
    │   │                            not pending, or an Approval is for another call
    │   └── UnsupportedInput         the model cannot take a part of its input (an image,
    │                                a document, audio, a URL): said before any request
    ├── PluginError                  a plugin failed to load or register (attributed)
    │   ├── PluginNotFound           a required or allow-listed plugin is not installed
    │   ├── PluginImportError        importing the plugin's module raised
    │   ├── PluginValidationError    unknown hook, wrong signature, async hookimpl
    │   ├── PluginRegistrationError  a hook raised or returned something unusable
    │   ├── DuplicateName            two plugins registered the same name (names both)
    │   └── PluginConfigConflict     the plugin switches contradict each other or what is
    │                                installed (required and blocked, an ``owners`` entry)
    ├── PluginErrors                 strict mode: every PluginError of one load, together
    ├── ProviderError                a model request failed (never carries a secret)
    │   ├── RateLimited              429; ``retry_after`` seconds when the server said
    │   ├── QuotaExceeded            402 / insufficient_quota: retrying will not help
    │   ├── Unavailable              503 / 529 / overloaded
    │   ├── ServerError              other 5xx
    │   ├── ConnectionFailed         ``phase`` is "connect" (safe to retry) or "read"
    │   ├── AttemptTimeout           one attempt exceeded its deadline
    │   ├── RequestTimeout           the whole request (all attempts) exceeded its deadline
    │   ├── Rejected                 4xx the request itself is wrong
    │   │   ├── AuthenticationFailed 401 / 403
    │   │   ├── ModelNotFound        404 / unknown model
    │   │   └── ContextWindowExceeded
    │   ├── ProtocolError            the response does not follow the API (bad JSON, cut stream)
    │   │   └── ResponseTooLarge     past a size cap (``cap``: the ``Limits`` field, ``limit``)
    │   └── ContentFiltered          the provider refused to produce content
    ├── ModelNotConfigured           no model could be resolved for a run
    └── RunError                     a run ended in a way the caller asked to be raised
        ├── GuardrailTripped         a guardrail blocked; carries every decision
        ├── LimitExceeded            a limit was hit with on_limit="raise"; carries the partial
        └── RunFailed                the run failed (raise_on_failure=True)

``Retry`` is not an error: a tool raises it to ask the model to try again.
``PluginWarning`` (a ``UserWarning``) reports a plugin failure plait went on without.
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = [
    "ApprovalError",
    "AttemptTimeout",
    "AuthenticationFailed",
    "ConfigError",
    "ConnectionFailed",
    "ContentFiltered",
    "ContextWindowExceeded",
    "DuplicateName",
    "GuardrailTripped",
    "LimitExceeded",
    "ModelNotConfigured",
    "ModelNotFound",
    "PlaitError",
    "PluginConfigConflict",
    "PluginError",
    "PluginErrors",
    "PluginImportError",
    "PluginNotFound",
    "PluginRegistrationError",
    "PluginValidationError",
    "PluginWarning",
    "ProtocolError",
    "ProviderError",
    "QuotaExceeded",
    "RateLimited",
    "Rejected",
    "RequestTimeout",
    "ResponseTooLarge",
    "Retry",
    "RunError",
    "RunFailed",
    "SchemaChanged",
    "ServerError",
    "Unavailable",
    "UnsupportedInput",
]


class PlaitError(Exception):
    """Base class of every error plait raises."""


class ConfigError(PlaitError):
    """The configuration is invalid. The message names the source, the key and what is allowed."""


class ApprovalError(ConfigError, ValueError):
    """``approvals=`` cannot be applied: the run is not paused, a call is not pending, or
    an ``Approval`` was made for another run, tool, call or arguments. Nothing was
    recorded; the run keeps its status. ``run_id`` names the run."""

    def __init__(self, message: str, *, run_id: str) -> None:
        super().__init__(message)
        self.run_id = run_id


class UnsupportedInput(ConfigError):
    """A model cannot take a part of its input (an image for a text-only model, audio on an
    API without audio, a URL the API needs as bytes); raised before any request is sent.
    ``model`` names the model and ``part`` the part's type (``image``, ``document``, ...)."""

    def __init__(self, message: str, *, model: str | None = None, part: str | None = None):
        super().__init__(message)
        self.model = model
        self.part = part


class ModelNotConfigured(PlaitError):
    """No model could be resolved for a run; the message says how to configure one."""


# --- plugins ---------------------------------------------------------------------------


class PluginError(PlaitError):
    """A plugin failed; ``plugin``, ``distribution`` and ``version`` attribute the failure."""

    kind = "plugin error"

    def __init__(
        self,
        message: str,
        *,
        plugin: str,
        distribution: str | None = None,
        version: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.plugin = plugin
        self.distribution = distribution
        self.version = version

    def __reduce__(self) -> Any:
        return (_rebuild_plugin_error, (type(self), self.message, self._attribution()))

    def _attribution(self) -> dict[str, Any]:
        return {"plugin": self.plugin, "distribution": self.distribution, "version": self.version}

    @property
    def source(self) -> str:
        """``plugin (distribution version)`` — who is to blame, as one string."""
        if self.distribution is None:
            return self.plugin
        version = f" {self.version}" if self.version else ""
        return f"{self.plugin} ({self.distribution}{version})"

    def __str__(self) -> str:
        return f"plugin {self.source}: {self.kind}: {self.message}"


def _rebuild_plugin_error(cls: type[PluginError], message: str, kw: dict[str, Any]) -> PluginError:
    return cls(message, **kw)


class PluginNotFound(PluginError):
    """A plugin named in ``PLAIT_PLUGINS``, config or ``required`` is not installed (usage)."""

    kind = "not found"


class PluginImportError(PluginError):
    """Importing the plugin's entry point raised: a defect of the plugin."""

    kind = "import error"


class PluginValidationError(PluginError):
    """The plugin's hook implementations do not match the hook specifications."""

    kind = "validation error"


class PluginRegistrationError(PluginError):
    """A registration hook raised or returned objects that do not fit the contract."""

    kind = "registration error"


class DuplicateName(PluginError):
    """Two plugins registered an object of the same kind under the same name."""

    kind = "duplicate name"


class PluginConfigConflict(PluginError):
    """The switches contradict each other or what is installed (e.g. a plugin both
    required and blocked, or an ``owners`` entry its plugin does not register)."""

    kind = "configuration conflict"


class PluginWarning(UserWarning):
    """A plugin failed to load or register, and plait goes on without it (lenient mode).

    Issued with ``warnings.warn`` once per failure, when the kernel records it (a kernel
    loads each plugin and calls each registration hook once, so later runs on the same
    kernel do not repeat it). A warning, not a log record, because the failure is the
    caller's to fix (block the plugin, fix or uninstall it), as with pytest's and
    pluggy's own warnings: it shows without any logging set up, and
    ``-W error::plait.PluginWarning`` (or ``filterwarnings``) turns it into an error.
    ``error`` is the ``PluginError`` (also in ``Kernel.plugins()``).
    """

    def __init__(self, error: PluginError) -> None:
        super().__init__(str(error))
        self.error = error

    def __reduce__(self) -> Any:
        return (type(self), (self.error,))


class PluginErrors(PlaitError):
    """Strict mode: all plugin failures of one load, raised together."""

    def __init__(self, errors: list[PluginError]) -> None:
        self.errors = list(errors)
        lines = "\n".join(f"  - {e}" for e in self.errors)
        failed = sum(not isinstance(e, (PluginNotFound, PluginConfigConflict)) for e in errors)
        what = [
            f"{failed} plugin(s) failed to load" if failed else "",
            f"{len(errors) - failed} configuration problem(s)" if len(errors) > failed else "",
        ]
        super().__init__(f"{' and '.join(w for w in what if w)}:\n{lines}")

    def __reduce__(self) -> Any:
        return (type(self), (self.errors,))


# --- providers -------------------------------------------------------------------------


class ProviderError(PlaitError):
    """A model request failed. Carries the provider name and HTTP status, never a secret.

    ``retryable`` is the kernel's default retry decision for this class; ``partial`` keeps
    whatever text had arrived before a stream broke.
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status_code: int | None = None,
        partial: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status_code = status_code
        self.partial = partial

    def _fields(self) -> dict[str, Any]:
        return {"provider": self.provider, "status_code": self.status_code, "partial": self.partial}

    def __reduce__(self) -> Any:
        return (_rebuild_provider_error, (type(self), self.message, self._fields()))

    def __str__(self) -> str:
        where = f"{self.provider}: " if self.provider else ""
        status = f" (HTTP {self.status_code})" if self.status_code else ""
        return f"{where}{self.message}{status}"


def _rebuild_provider_error(
    cls: type[ProviderError], message: str, kw: dict[str, Any]
) -> ProviderError:
    return cls(message, **kw)


class RateLimited(ProviderError):
    """429: too many requests. ``retry_after`` is the server's hint in seconds, if any."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after

    def _fields(self) -> dict[str, Any]:
        return {**super()._fields(), "retry_after": self.retry_after}


class QuotaExceeded(ProviderError):
    """402 or ``insufficient_quota``: the account is out of credit; retrying will not help."""


class Unavailable(ProviderError):
    """503 / 529 / overloaded: the service is temporarily unable to answer."""

    retryable = True


class ServerError(ProviderError):
    """Any other 5xx response."""

    retryable = True


class ConnectionFailed(ProviderError):
    """The connection failed: ``phase="connect"`` is safe to retry; ``"read"`` not after output."""

    retryable = True

    def __init__(
        self, message: str, *, phase: Literal["connect", "read"] = "connect", **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.phase = phase

    def _fields(self) -> dict[str, Any]:
        return {**super()._fields(), "phase": self.phase}


class AttemptTimeout(ProviderError):
    """One attempt exceeded its deadline (request or first-event deadline)."""

    retryable = True


class RequestTimeout(ProviderError):
    """The request, across all its attempts, exceeded its overall deadline."""


class Rejected(ProviderError):
    """4xx: the request itself is wrong; never retried."""


class AuthenticationFailed(Rejected):
    """401 / 403: the credentials are missing, wrong or not allowed."""


class ModelNotFound(Rejected):
    """404 or an unknown model name."""


class ContextWindowExceeded(Rejected):
    """The conversation no longer fits the model's context window."""


class ProtocolError(ProviderError):
    """The response broke the API's protocol: bad JSON, a stream cut before its end, no choices."""


class ResponseTooLarge(ProtocolError):
    """The response went past one of the run's size caps: a body, one stream event, JSON
    nesting, or the answer's streamed output. ``cap`` names the ``plait.Limits`` field
    (``response_bytes``, ``stream_event_bytes``, ``json_depth``, ``output_chars``) and
    ``limit`` is its value; raise that field to allow more.

    Not retried (``retryable`` is false, like every ``ProtocolError``): asked again, the
    model or server would most likely run as long again, at the same cost.
    """

    def __init__(self, message: str, *, cap: str, limit: int, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.cap = cap
        self.limit = limit

    def _fields(self) -> dict[str, Any]:
        return {**super()._fields(), "cap": self.cap, "limit": self.limit}


class ContentFiltered(ProviderError):
    """The provider's content filter refused to produce an answer."""


# --- runs ------------------------------------------------------------------------------


class RunError(PlaitError):
    """A run ended in a way the caller asked to be raised. ``result`` is the (partial) Result."""

    def __init__(self, message: str, *, result: Any = None) -> None:
        super().__init__(message)
        self.result = result

    def __reduce__(self) -> Any:
        return (_rebuild_run_error, (type(self), str(self), self.result))


def _rebuild_run_error(cls: type[RunError], message: str, result: Any) -> RunError:
    return cls(message, result=result)


class GuardrailTripped(RunError):
    """A guardrail blocked the run. ``result.guardrails`` holds every decision."""


class LimitExceeded(RunError):
    """A limit (turns, tool calls, tokens, time) was hit with ``on_limit="raise"``."""


class RunFailed(RunError):
    """The run ended with status failed and ``raise_on_failure=True``."""


class SchemaChanged(ConfigError):
    """Resume refused: a tool's parameters or the output type changed since the run was
    recorded. ``run_id`` names the run, ``changes`` what changed (one line each). Pass
    ``on_schema_change="accept"`` (``plait runs resume --on-schema-change accept``) to
    resume anyway. Raised before anything of the run is done again.
    """

    def __init__(self, run_id: str, changes: tuple[str, ...]) -> None:
        self.run_id = run_id
        self.changes = tuple(changes)
        super().__init__(
            f"run {run_id!r} was recorded with other schemas than it is resumed with: "
            f"{'; '.join(self.changes)}. Recorded calls were made against the old "
            "schemas; pass on_schema_change='accept' to resume anyway"
        )

    def __reduce__(self) -> Any:
        return (type(self), (self.run_id, self.changes))


class Retry(Exception):
    """Raised by a tool to send ``message`` back to the model and let it try again."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
