"""Server-side conversation state for the Responses API: send only what the server lacks.

A Responses model with server state on (the default unless ``store=False`` or
``server_state=False``) stores every response (``store: true``) and writes down on the
assistant message it produced which server copy holds it: ``provider_data`` gets
``response_id``, ``provider`` (the provider's name: another host's ids mean nothing
here), ``call_ids`` (the calls as the server knows them) and ``conversation`` when the
request named one. Messages travel with a run's history, a thread's store and
``Result.messages``, so every later request can find its **anchor**: the last assistant
message whose response this server holds. It then sends ``previous_response_id`` = that
id and only the messages after it (tool outputs, the new user message), never the
history before. The leading system messages are sent as ``instructions`` on every
request: the API does not carry them over from a previous response.

With ``conversation`` (an OpenAI Conversations API id, ``settings.extra``) the server
appends each request's input and output to that conversation; the anchor is then the last
assistant message produced in it, and no ``previous_response_id`` is sent (the API
refuses both together). An id in ``settings.extra["previous_response_id"]`` (the
``previous_response_id=`` run option, or the kernel's id of a thread's last response)
is used only when the history has no assistant message at all (a conversation made
elsewhere, continued with a new task); a history without anchors (another provider's,
or recorded before) is sent whole, without it: never a context the server may not have.

When the server answers that the previous response is gone (expired, deleted, never
stored: ``previous_response_not_found``), the model sends the whole history once without
the id (``Continuation.resend``) and logs a warning; with nothing to resend (the id was
all the run had) the error is raised, with a message that says what to do.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from plait import AssistantMessage, ModelResponse, Rejected, SystemMessage

__all__ = ["STATE_KEYS", "Continuation", "continuation", "expired", "refuse_state"]

PREVIOUS = "previous_response_id"
CONVERSATION = "conversation"
STATE_KEYS = frozenset({PREVIOUS, CONVERSATION})
"""``settings.extra`` keys this module consumes (never copied into the body as they are)."""

log = logging.getLogger("plait_openai.state")


@dataclass(frozen=True, slots=True)
class Continuation:
    """What one Responses request sends of a conversation the server may hold.

    ``messages``: the messages to render as ``input``; ``rest``: every message after the
    leading system messages (what a resend sends); ``trimmed``: messages before
    ``messages`` were left out because the server holds them.
    """

    provider: str
    instructions: str | None
    messages: Sequence[Any]
    rest: Sequence[Any]
    previous_response_id: str | None = None
    conversation: str | None = None
    trimmed: bool = False
    resent: bool = False

    def fields(self, body: dict[str, Any], store: bool | None) -> None:
        """Add the state fields to a request body."""
        if self.instructions is not None:
            body["instructions"] = self.instructions
        if self.conversation is not None:
            body[CONVERSATION] = self.conversation
        elif self.previous_response_id is not None:
            body[PREVIOUS] = self.previous_response_id
        body["store"] = True if store is None else store

    def resend(self) -> Continuation:
        """The whole conversation without the previous response id (it expired).

        Reasoning items are sent back only with their encrypted content: their ids died
        with the response that held them.
        """
        messages = [_without_stored_reasoning(m) for m in self.rest]
        return replace(self, messages=messages, previous_response_id=None, resent=True)

    def remember(self, response: ModelResponse) -> ModelResponse:
        """``response`` with its server copy written down on its message (an anchor)."""
        rid = response.response_id
        if not isinstance(rid, str) or not rid:
            return response
        msg = response.message
        data: dict[str, Any] = {**(msg.provider_data or {}), "response_id": rid}
        data["provider"] = self.provider
        if msg.tool_calls:
            data["call_ids"] = [c.id for c in msg.tool_calls]
        if self.conversation is not None:
            data[CONVERSATION] = self.conversation
        message = msg.model_copy(update={"provider_data": data})
        return response.model_copy(update={"message": message})


def _without_stored_reasoning(message: Any) -> Any:
    if not isinstance(message, AssistantMessage) or not message.thinking:
        return message
    kept = [
        t
        for t in message.thinking
        if not isinstance((t.provider_data or {}).get("item"), Mapping)
        or (t.provider_data or {})["item"].get("encrypted_content")
    ]
    if len(kept) == len(message.thinking):
        return message
    return message.model_copy(update={"thinking": kept})


def _held(message: AssistantMessage, provider: str, conversation: str | None) -> str | None:
    """The id of the server copy of ``message``, when this provider's server holds it
    as it is (its calls not renamed since); for a conversation, the conversation's id."""
    data = message.provider_data
    if not data or data.get("provider") != provider:
        return None
    rid = data.get("response_id")
    if not isinstance(rid, str):
        return None
    calls = data.get("call_ids")
    if calls is not None and calls != [c.id for c in message.tool_calls]:
        return None  # the kernel gave a call a new id: the server knows the old one
    if conversation is not None:
        return rid if data.get(CONVERSATION) == conversation else None
    return rid


def continuation(
    messages: Sequence[Any], extra: Mapping[str, Any], *, provider: str
) -> Continuation:
    """What to send of ``messages`` (see the module docstring)."""
    start = 0
    while start < len(messages) and isinstance(messages[start], SystemMessage):
        start += 1
    instructions = "\n\n".join(m.content for m in messages[:start]) or None
    rest = messages[start:] if start else messages
    conversation = extra.get(CONVERSATION)
    conversation = conversation if isinstance(conversation, str) and conversation else None
    answered = False  # the history holds an assistant message
    for i in range(len(rest) - 1, -1, -1):
        m = rest[i]
        if not isinstance(m, AssistantMessage):
            continue
        answered = True
        rid = _held(m, provider, conversation)
        if rid is not None:
            return Continuation(
                provider,
                instructions,
                rest[i + 1 :],
                rest,
                previous_response_id=None if conversation else rid,
                conversation=conversation,
                trimmed=True,
            )
    given = extra.get(PREVIOUS)
    if conversation is None and not answered and isinstance(given, str) and given:
        return Continuation(provider, instructions, rest, rest, given)
    return Continuation(provider, instructions, rest, rest, conversation=conversation)


def expired(error: Rejected, sent: Continuation) -> bool:
    """The server says the previous response of ``sent`` is gone (not found, expired)."""
    if sent.previous_response_id is None or sent.resent:
        return False
    text = error.message.lower()
    return ("previous response" in text or PREVIOUS in text) and (
        "not found" in text or "invalid" in text or "expired" in text
    )


def fall_back(error: Rejected, sent: Continuation) -> Continuation:
    """The resend after ``expired``; raises ``error`` (reworded) when nothing can be
    resent: the id was all this run had of the conversation."""
    if not sent.trimmed:
        raise Rejected(
            f"the server no longer holds response {sent.previous_response_id!r} (expired, "
            "deleted or never stored) and this run has none of that conversation to resend: "
            "pass its messages as message_history= (or continue a thread) instead of "
            "previous_response_id=",
            provider=error.provider,
            status_code=error.status_code,
        ) from error
    log.warning(
        "%s: the server no longer holds response %r (expired or deleted); resending the "
        "whole conversation (%d messages) without it",
        sent.provider,
        sent.previous_response_id,
        len(sent.rest),
    )
    return sent.resend()


def refuse_state(extra: Mapping[str, Any], *, provider: str, why: str) -> None:
    """A model that cannot continue server-side state refuses the keys that ask it to
    (before anything is sent), rather than ignoring them."""
    asked = sorted(STATE_KEYS.intersection(extra))
    if asked:
        raise Rejected(f"{' and '.join(asked)} given, but {why}", provider=provider)
