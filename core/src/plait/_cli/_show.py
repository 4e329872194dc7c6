"""Running one task for ``plait run`` / ``plait chat`` and showing what it gives.

Three ways to show it:

* on a terminal, the live view (``LivePrinter``: text as it arrives, tool calls, a status
  line), then a summary: status, the output unless the answer was just shown, usage;
* piped (stdout is not a terminal): only the answer, once — the text, or for a
  structured output its JSON on one line — and nothing else on stdout; a result that is
  not a success adds one line on stderr;
* ``--json``: every event as one JSON line, then ``{"result": ...}``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ._live import LivePrinter

__all__ = [
    "answer_text",
    "plural",
    "print_plain",
    "print_summary",
    "result_to_json",
    "usage_line",
    "watch",
]


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 request``, ``2 requests``; ``many`` for an irregular plural."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def result_to_json(result: Any) -> dict[str, Any]:
    """The result as plain JSON values (messages left out; they are in the events)."""
    from pydantic_core import to_jsonable_python

    data: dict[str, Any] = to_jsonable_python(result, fallback=str)
    data.pop("messages", None)
    data.pop("new_messages", None)
    return data


def answer_text(output: Any) -> str | None:
    """The output as the text a pipe gets: a string as is, anything else as JSON."""
    if output is None:
        return None
    if isinstance(output, str):
        return output
    from pydantic_core import to_jsonable_python

    return json.dumps(to_jsonable_python(output, fallback=str))


def usage_line(result: Any) -> str:
    """``usage: 1 request, 2 tool calls, 150 tokens (120 in, 30 out); 0.42s``."""
    usage = result.usage
    tokens = usage.input_tokens + usage.output_tokens
    return (
        f"usage: {plural(usage.requests, 'request')}, {plural(usage.tool_calls, 'tool call')}, "
        f"{plural(tokens, 'token')} ({usage.input_tokens} in, {usage.output_tokens} out); "
        f"{result.duration:.2f}s"
    )


def print_summary(result: Any, out: TextIO, *, shown: str = "") -> None:
    """After the live view: status, the output (unless it is the text ``shown``), usage."""
    output = answer_text(result.output)
    out.write(f"\nstatus: {result.status} ({result.stop_reason})\n")
    if output is not None and output.strip() != shown.strip():
        if not isinstance(result.output, str):
            output = json.dumps(json.loads(output), indent=2)
        out.write(f"output: {output}\n")
    out.write(usage_line(result) + "\n")
    if result.error:
        out.write(f"error: {result.error}\n")
    out.flush()


def print_plain(result: Any, out: TextIO, err: TextIO) -> None:
    """Only the answer on ``out``; a result that is not a success: one line on ``err``."""
    text = answer_text(result.output)
    if text is not None:
        out.write(text if text.endswith("\n") else text + "\n")
        out.flush()
    if result.status != "success":
        detail = f": {result.error}" if result.error else ""
        err.write(f"plait: {result.status} ({result.stop_reason}){detail}\n")


async def watch(
    task: str | None,
    options: dict[str, Any],
    *,
    printer: LivePrinter | None,
    json_lines: bool = False,
) -> Any:
    """Run ``task``: events to ``printer`` (with its status line on a terminal), as JSON
    lines, or nowhere (then the run is not watched and asks the model unstreamed unless
    its settings say otherwise)."""
    import plait

    if printer is None and not json_lines:
        return await plait.arun(task, **options)
    try:
        return await _stream(task, options, printer)
    except BaseExceptionGroup as group:  # the status line's task group wraps the error
        raise _only(group) from None
    finally:
        if printer is not None:
            printer.finish()


def _only(group: BaseExceptionGroup[BaseException]) -> BaseException:
    while isinstance(group, BaseExceptionGroup) and len(group.exceptions) == 1:
        group = group.exceptions[0]  # type: ignore[assignment]
    return group


async def _stream(task: str | None, options: dict[str, Any], printer: LivePrinter | None) -> Any:
    import anyio

    import plait

    async with anyio.create_task_group() as tg:
        if printer is not None and printer.tty:

            async def spin() -> None:
                while True:
                    await anyio.sleep(0.12)
                    printer.tick()

            tg.start_soon(spin)
        async with plait.stream(task, **options) as stream:
            async for event in stream:
                if printer is None:
                    print(event.to_json(), flush=True)
                else:
                    printer.show(event)
            result = await stream.result()
        tg.cancel_scope.cancel()
    return result
