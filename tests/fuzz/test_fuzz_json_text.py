"""Found by fuzzing, fixed in the kit's ``loads_json`` (plait/_json.py).

JSON text can say what no UTF-8 text holds: a lone surrogate escape (``"\\ud800"``).
Decoded as is, it reaches a delta or a response that later cannot be printed, stored
(UTF-8) or sent back: a ``UnicodeEncodeError`` far from the server that caused it. Every
decoder loads stream events through ``loads_json``, so the fix is there: a lone
surrogate becomes U+FFFD.
"""

from __future__ import annotations

from plait.provider import ProviderError, ServerSentEvent
from plait_openai.chat_stream import StreamParser


def _chat(content_json: str) -> list[ServerSentEvent]:
    chunk = '{"choices": [{"index": 0, "delta": {"content": ' + content_json + "}}]}"
    return [ServerSentEvent(data=chunk), ServerSentEvent(data="[DONE]")]


def test_a_lone_surrogate_never_reaches_a_delta_or_a_response() -> None:
    parser = StreamParser(provider="fuzz")
    try:
        deltas = [d for e in _chat('"a\\ud800b"') for d in parser.feed(e)]
        text = parser.result().message.text
    except ProviderError:
        return  # refusing the event is fine too
    for delta in deltas:
        delta.text.encode("utf-8")
    text.encode("utf-8")
