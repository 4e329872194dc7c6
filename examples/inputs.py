"""Non-text input: a task with an image, a tool that returns a document, and a text-only
model that says so before any request. Offline: test models stand in for a vision model.

Run it:  python examples/inputs.py
"""

from __future__ import annotations

import plait
from plait.testing import FunctionModel, ScriptedModel, call

# the first bytes of a PNG file (plait tells the media type from them)
PICTURE = b"\x89PNG\r\n\x1a\n" + bytes(56)
INVOICE = b"%PDF-1.4\n% invoice 2024-117: 3 chairs, 240 EUR\n%%EOF\n"


def fetch_invoice(number: str) -> list[object]:
    """The invoice with this number, as a PDF.

    Args:
        number: the invoice number, e.g. "2024-117"
    """
    return [f"Invoice {number}:", plait.Document.from_bytes(INVOICE, name=f"{number}.pdf")]


def describe(messages: list[plait.Message], params: plait.RequestParams) -> str:
    """A stand-in vision model: it says what it was shown."""
    task = messages[-1]
    assert isinstance(task, plait.UserMessage)
    return f"I was shown: {task.text}"


def main() -> None:
    # A real run would pass model="openai:gpt-4o" or "anthropic:claude-sonnet-4-5".
    vision = FunctionModel(describe, input_modalities={"text", "image", "document"})

    # 1. a task that is a list of parts (a str item is text)
    picture = plait.Image.from_bytes(PICTURE)
    result = plait.run(["What is in this picture?", picture], model=vision)
    print(result.output)

    # 2. the same with attachments= (appended after the text)
    result = plait.run("What is in this picture?", attachments=[picture], model=vision)
    assert result.output.startswith("I was shown: What is in this picture?")

    # 3. a tool returns a document: its text goes in content, the PDF in parts
    model = ScriptedModel(
        [call("fetch_invoice", number="2024-117"), "3 chairs for 240 EUR."],
        input_modalities={"text", "image", "document"},
    )
    result = plait.run("What did invoice 2024-117 bill?", model=model, tools=[fetch_invoice])
    tool_result = model.requests[1].messages[-1]
    assert isinstance(tool_result, plait.ToolResultMessage)
    parts = [f"{p.type} {p.media_type}" for p in tool_result.parts]
    print(f"tool result: {tool_result.content!r} + {parts}")
    print(result.output)

    # 4. a text-only model refuses the image before any request is sent
    text_only = FunctionModel(describe, name="test:text-only", input_modalities={"text"})
    try:
        plait.run(["What is in this picture?", picture], model=text_only)
    except plait.UnsupportedInput as err:
        print(f"refused: {err.part} for {err.model}; requests sent: {len(text_only.requests)}")


if __name__ == "__main__":
    main()
