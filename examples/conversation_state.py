"""Server-side conversation state, offline: an OpenAI Responses model continues from the
server's copy of the conversation (``previous_response_id``) instead of resending it.

A loopback server on 127.0.0.1 plays OpenAI's part and records what it receives:
1. a tool-calling run: the second request sends only the tool's output;
2. a second run on the same thread: only the new question (and the instructions, which
   the API never carries over);
3. the server has lost a response: the whole history is sent once without the id.

Run it:  python examples/conversation_state.py
"""

from __future__ import annotations

import tempfile
from typing import Any

import anyio

import plait
from plait.testing import LoopbackServer, Reply, make_kernel
from plait_openai.provider import OpenAIProvider


def answer(response_id: str, *output: dict[str, Any]) -> Reply:
    """A Responses API answer with the given output items."""
    usage = {"input_tokens": 10, "output_tokens": 3, "total_tokens": 13}
    body = {"id": response_id, "status": "completed", "output": list(output), "usage": usage}
    return Reply.json(body)


def said(text: str) -> dict[str, Any]:
    content = [{"type": "output_text", "text": text}]
    return {"type": "message", "role": "assistant", "content": content}


def calls(name: str, arguments: str, call_id: str) -> dict[str, Any]:
    return {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments}


GONE = Reply.json(
    {
        "error": {
            "message": "Previous response with id 'resp_3' not found.",
            "type": "invalid_request_error",
            "param": "previous_response_id",
            "code": "previous_response_not_found",
        }
    },
    status=400,
)


def weather(city: str) -> str:
    """The weather in a city."""
    return f"{city}: 18°C and sunny"


def sent(request: Any) -> str:
    """What one request carried: the previous response, the kinds of its input items and
    the instructions (sent every time: the API does not carry them over)."""
    body = request.json()
    kinds = [item.get("type") or item["role"] for item in body["input"]]
    previous = body.get("previous_response_id")
    return f"previous={previous} input={kinds} instructions={body.get('instructions')!r}"


async def main(folder: str) -> None:
    replies = [
        answer("resp_1", calls("weather", '{"city": "Oslo"}', "call_1")),
        answer("resp_2", said("It is 18°C and sunny in Oslo.")),
        answer("resp_3", said("Take sunglasses.")),
        GONE,  # the third run: the server no longer holds resp_3 (expired, deleted)
        answer("resp_5", said("You asked about Oslo.")),
    ]
    store = f"sqlite:///{folder}/plait.db"
    kernel = make_kernel()
    async with LoopbackServer(replies) as server:
        model = OpenAIProvider("openai-responses", api="responses").model(
            "gpt-4.1", base_url=server.base_url, api_key="sk-example-0123456789"
        )
        options: dict[str, Any] = {
            "model": model,
            "instructions": "Be brief.",
            "thread": "trip",
            "store": store,
            "kernel": kernel,
        }
        await plait.arun("Weather in Oslo?", tools=[weather], **options)
        await plait.arun("What should I pack?", **options)
        last = await plait.arun("Which city did I ask about?", **options)
        await model.aclose()
    for number, request in enumerate(server.requests, 1):
        print(f"request {number}: {sent(request)}")
    print(f"after the fallback: {last.output} ({len(server.requests)} requests)")


with tempfile.TemporaryDirectory() as folder:
    anyio.run(main, folder)
