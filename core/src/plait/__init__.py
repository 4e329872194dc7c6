"""plait: a small, fast run kernel for AI agents, extended through pluggy hooks.

This is the door for application authors. Plugin authors have their own kits:
``plait.provider`` (provider plugins), ``plait.store`` (store plugins) and
``plait.testing`` (test helpers and conformance suites). Everything behind an
underscore is private.

Importing plait is cheap and has no side effects: public names are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

if TYPE_CHECKING:  # what type checkers see; tests/test_public_api.py checks it against _EXPORTS
    from ._agent import Agent as Agent
    from ._approval import Approval as Approval
    from ._approval import ApprovalDecision as ApprovalDecision
    from ._approval import ApprovalRequest as ApprovalRequest
    from ._approval import approve as approve
    from ._approval import deny as deny
    from ._approval import edit as edit
    from ._config import PlaitConfig as PlaitConfig
    from ._config import ProviderProfile as ProviderProfile
    from ._config import load_config as load_config
    from ._context import Context as Context
    from ._contracts import Completion as Completion
    from ._contracts import Decision as Decision
    from ._contracts import EventHandler as EventHandler
    from ._contracts import Executor as Executor
    from ._contracts import Guardrail as Guardrail
    from ._contracts import LiveToolset as LiveToolset
    from ._contracts import Model as Model
    from ._contracts import OutputSpec as OutputSpec
    from ._contracts import Provider as Provider
    from ._contracts import RequestParams as RequestParams
    from ._contracts import Store as Store
    from ._contracts import Tool as Tool
    from ._contracts import Toolset as Toolset
    from ._contracts import ToolSpec as ToolSpec
    from ._contracts import Verdict as Verdict
    from ._contracts import Verifier as Verifier
    from ._errors import ApprovalError as ApprovalError
    from ._errors import AttemptTimeout as AttemptTimeout
    from ._errors import AuthenticationFailed as AuthenticationFailed
    from ._errors import ConfigError as ConfigError
    from ._errors import ConnectionFailed as ConnectionFailed
    from ._errors import ContentFiltered as ContentFiltered
    from ._errors import ContextWindowExceeded as ContextWindowExceeded
    from ._errors import DuplicateName as DuplicateName
    from ._errors import GuardrailTripped as GuardrailTripped
    from ._errors import LimitExceeded as LimitExceeded
    from ._errors import ModelNotConfigured as ModelNotConfigured
    from ._errors import ModelNotFound as ModelNotFound
    from ._errors import PlaitError as PlaitError
    from ._errors import PluginConfigConflict as PluginConfigConflict
    from ._errors import PluginError as PluginError
    from ._errors import PluginErrors as PluginErrors
    from ._errors import PluginImportError as PluginImportError
    from ._errors import PluginNotFound as PluginNotFound
    from ._errors import PluginRegistrationError as PluginRegistrationError
    from ._errors import PluginValidationError as PluginValidationError
    from ._errors import PluginWarning as PluginWarning
    from ._errors import ProtocolError as ProtocolError
    from ._errors import ProviderError as ProviderError
    from ._errors import QuotaExceeded as QuotaExceeded
    from ._errors import RateLimited as RateLimited
    from ._errors import Rejected as Rejected
    from ._errors import RequestTimeout as RequestTimeout
    from ._errors import ResponseTooLarge as ResponseTooLarge
    from ._errors import Retry as Retry
    from ._errors import RunError as RunError
    from ._errors import RunFailed as RunFailed
    from ._errors import SchemaChanged as SchemaChanged
    from ._errors import ServerError as ServerError
    from ._errors import Unavailable as Unavailable
    from ._errors import UnsupportedInput as UnsupportedInput
    from ._events import Event as Event
    from ._handoff import Handoff as Handoff
    from ._handoff import handoff as handoff
    from ._jobs import Job as Job
    from ._jobs import JobRefused as JobRefused
    from ._jobs import arun_each as arun_each
    from ._jobs import arun_job as arun_job
    from ._jobs import run_each as run_each
    from ._jobs import run_job as run_job
    from ._kernel import Kernel as Kernel
    from ._markers import hookimpl as hookimpl
    from ._messages import AssistantMessage as AssistantMessage
    from ._messages import Message as Message
    from ._messages import ModelResponse as ModelResponse
    from ._messages import ResponseDone as ResponseDone
    from ._messages import SystemMessage as SystemMessage
    from ._messages import TextDelta as TextDelta
    from ._messages import Thinking as Thinking
    from ._messages import ThinkingDelta as ThinkingDelta
    from ._messages import ToolCall as ToolCall
    from ._messages import ToolCallDelta as ToolCallDelta
    from ._messages import ToolResultMessage as ToolResultMessage
    from ._messages import Usage as Usage
    from ._messages import UserMessage as UserMessage
    from ._parts import Audio as Audio
    from ._parts import Document as Document
    from ._parts import Image as Image
    from ._parts import Part as Part
    from ._parts import Text as Text
    from ._redact import Redactor as Redactor
    from ._repeat import Repeater as Repeater
    from ._repeat import RepeatStats as RepeatStats
    from ._repeat import repeat as repeat
    from ._retry import RetryPolicy as RetryPolicy
    from ._run import Result as Result
    from ._run import RunHandle as RunHandle
    from ._run import RunIterator as RunIterator
    from ._run import RunStream as RunStream
    from ._run import Step as Step
    from ._run import aresume as aresume
    from ._run import arun as arun
    from ._run import guardrail as guardrail
    from ._run import iter as iter
    from ._run import resume as resume
    from ._run import run as run
    from ._run import start as start
    from ._run import stream as stream
    from ._run import verifier as verifier
    from ._run._pause import apending_approvals as apending_approvals
    from ._run._pause import pending_approvals as pending_approvals
    from ._run._planning import Plan as Plan
    from ._run._planning import PlanStep as PlanStep
    from ._settings import Limits as Limits
    from ._settings import ModelSettings as ModelSettings
    from ._store._errors import BlobTooLarge as BlobTooLarge
    from ._store._errors import DuplicateRun as DuplicateRun
    from ._store._errors import RecordTooLarge as RecordTooLarge
    from ._store._errors import SchemaTooNew as SchemaTooNew
    from ._store._errors import StepConflict as StepConflict
    from ._store._errors import StoreBusy as StoreBusy
    from ._store._errors import StoreCorrupted as StoreCorrupted
    from ._store._errors import StoreError as StoreError
    from ._store._errors import StoreFull as StoreFull
    from ._store._errors import ThreadConflict as ThreadConflict
    from ._tasks import GraphResult as GraphResult
    from ._tasks import Task as Task
    from ._tasks import TaskOutcome as TaskOutcome
    from ._tasks import TasksStream as TasksStream
    from ._tasks import arun_tasks as arun_tasks
    from ._tasks import run_tasks as run_tasks
    from ._tasks import stream_tasks as stream_tasks
    from ._team import Team as Team
    from ._team import TeamHandle as TeamHandle
    from ._team import TeamIterator as TeamIterator
    from ._team import TeamResult as TeamResult
    from ._team import TeamStream as TeamStream
    from ._thread import Thread as Thread
    from ._tool import tool as tool

__version__ = "0.1.0"

# The one list of this door's names: name -> private module under plait that defines it.
_EXPORTS: dict[str, str] = {
    "Agent": "_agent",
    "Approval": "_approval",
    "ApprovalDecision": "_approval",
    "ApprovalError": "_errors",
    "ApprovalRequest": "_approval",
    "AssistantMessage": "_messages",
    "AttemptTimeout": "_errors",
    "Audio": "_parts",
    "AuthenticationFailed": "_errors",
    "BlobTooLarge": "_store._errors",
    "Completion": "_contracts",
    "ConfigError": "_errors",
    "ConnectionFailed": "_errors",
    "ContentFiltered": "_errors",
    "Context": "_context",
    "ContextWindowExceeded": "_errors",
    "Decision": "_contracts",
    "Document": "_parts",
    "DuplicateName": "_errors",
    "DuplicateRun": "_store._errors",
    "Event": "_events",
    "EventHandler": "_contracts",
    "Executor": "_contracts",
    "GraphResult": "_tasks",
    "Guardrail": "_contracts",
    "GuardrailTripped": "_errors",
    "Handoff": "_handoff",
    "Image": "_parts",
    "Job": "_jobs",
    "JobRefused": "_jobs",
    "Kernel": "_kernel",
    "LimitExceeded": "_errors",
    "Limits": "_settings",
    "LiveToolset": "_contracts",
    "Message": "_messages",
    "Model": "_contracts",
    "ModelNotConfigured": "_errors",
    "ModelNotFound": "_errors",
    "ModelResponse": "_messages",
    "ModelSettings": "_settings",
    "OutputSpec": "_contracts",
    "Part": "_parts",
    "PlaitConfig": "_config",
    "PlaitError": "_errors",
    "Plan": "_run._planning",
    "PlanStep": "_run._planning",
    "PluginConfigConflict": "_errors",
    "PluginError": "_errors",
    "PluginErrors": "_errors",
    "PluginImportError": "_errors",
    "PluginNotFound": "_errors",
    "PluginRegistrationError": "_errors",
    "PluginValidationError": "_errors",
    "PluginWarning": "_errors",
    "ProtocolError": "_errors",
    "Provider": "_contracts",
    "ProviderError": "_errors",
    "ProviderProfile": "_config",
    "QuotaExceeded": "_errors",
    "RateLimited": "_errors",
    "RecordTooLarge": "_store._errors",
    "Redactor": "_redact",
    "Rejected": "_errors",
    "RepeatStats": "_repeat",
    "Repeater": "_repeat",
    "RequestParams": "_contracts",
    "RequestTimeout": "_errors",
    "ResponseDone": "_messages",
    "ResponseTooLarge": "_errors",
    "Result": "_run",
    "Retry": "_errors",
    "RetryPolicy": "_retry",
    "RunError": "_errors",
    "RunFailed": "_errors",
    "RunHandle": "_run",
    "RunIterator": "_run",
    "RunStream": "_run",
    "SchemaChanged": "_errors",
    "SchemaTooNew": "_store._errors",
    "ServerError": "_errors",
    "Step": "_run",
    "StepConflict": "_store._errors",
    "Store": "_contracts",
    "StoreBusy": "_store._errors",
    "StoreCorrupted": "_store._errors",
    "StoreError": "_store._errors",
    "StoreFull": "_store._errors",
    "SystemMessage": "_messages",
    "Task": "_tasks",
    "TaskOutcome": "_tasks",
    "TasksStream": "_tasks",
    "Team": "_team",
    "TeamHandle": "_team",
    "TeamIterator": "_team",
    "TeamResult": "_team",
    "TeamStream": "_team",
    "Text": "_parts",
    "TextDelta": "_messages",
    "Thinking": "_messages",
    "ThinkingDelta": "_messages",
    "Thread": "_thread",
    "ThreadConflict": "_store._errors",
    "Tool": "_contracts",
    "ToolCall": "_messages",
    "ToolCallDelta": "_messages",
    "ToolResultMessage": "_messages",
    "ToolSpec": "_contracts",
    "Toolset": "_contracts",
    "Unavailable": "_errors",
    "UnsupportedInput": "_errors",
    "Usage": "_messages",
    "UserMessage": "_messages",
    "Verdict": "_contracts",
    "Verifier": "_contracts",
    "apending_approvals": "_run._pause",
    "approve": "_approval",
    "aresume": "_run",
    "arun": "_run",
    "arun_each": "_jobs",
    "arun_job": "_jobs",
    "arun_tasks": "_tasks",
    "deny": "_approval",
    "edit": "_approval",
    "guardrail": "_run",
    "handoff": "_handoff",
    "hookimpl": "_markers",
    "iter": "_run",
    "load_config": "_config",
    "pending_approvals": "_run._pause",
    "repeat": "_repeat",
    "resume": "_run",
    "run": "_run",
    "run_each": "_jobs",
    "run_job": "_jobs",
    "run_tasks": "_tasks",
    "start": "_run",
    "stream": "_run",
    "stream_tasks": "_tasks",
    "tool": "_tool",
    "verifier": "_run",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
