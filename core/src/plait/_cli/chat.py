"""``plait chat``: talk with a model turn by turn; each turn sees the ones before.

Reads stdin line by line — typed on a terminal (with a ``> `` prompt) or piped — and
runs one turn per line with the same model, tools, options and instructions. ``/exit``,
``/quit`` or end of input (Ctrl-D) ends the chat; ``!multi`` starts a prompt of several
lines, ended by a line ``!end`` (as in ``llm chat``). Empty lines are skipped.

The conversation is a thread in the store (a new ``cli-...`` thread, ``--thread NAME``,
or ``-c`` for the last conversation), so every turn is logged like a ``plait run``; with
logging off and no thread, the history is kept in memory for the chat's length.

On a terminal each answer is shown live (status line included); piped, only the answers
are printed, one after the other. Ctrl-C ends the chat with exit status 130 (a turn it
interrupts is recorded as cancelled).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from typing import Any, TextIO

from ._flags import add_agent_arguments

__all__ = ["END_MULTI", "EXIT_WORDS", "MULTI", "add_arguments", "read_prompt", "run"]

EXIT_WORDS = frozenset({"/exit", "/quit"})
MULTI, END_MULTI = "!multi", "!end"
PROMPT, MORE = "> ", "... "


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_agent_arguments(parser, output_type=False)


def line_reader(stdin: TextIO, *, tty: bool, prompt: bool) -> Callable[[str], str | None]:
    """``read(prompt)``: the next line without its newline, ``None`` at the end of input.
    From a terminal it is ``input`` (line editing); else a plain read. The prompt is shown
    only when ``prompt`` (stdout is a terminal: never in piped output)."""

    def read(text: str) -> str | None:
        if tty:
            try:
                return input(text if prompt else "")
            except EOFError:
                if prompt:
                    print()  # end the prompt's line
                return None
        line = stdin.readline()
        return line.rstrip("\n") if line else None

    return read


def read_prompt(read: Callable[[str], str | None]) -> str | None:
    """The next prompt: one line, or the lines between ``!multi`` and ``!end``;
    ``""`` for an empty line; ``None`` when the chat ends."""
    line = read(PROMPT)
    if line is None or line.strip() in EXIT_WORDS:
        return None
    if line.strip() != MULTI:
        return line.strip()
    lines: list[str] = []
    while (more := read(MORE)) is not None and more.strip() != END_MULTI:
        lines.append(more)
    return "\n".join(lines).strip()


class Chat:
    """One conversation: the run options, and the history when it is not in a store."""

    def __init__(self, args: argparse.Namespace) -> None:
        from .._kernel import Kernel
        from ._flags import agent_options, parse_options, resolve_model

        self.args = args
        self.tty = sys.stdout.isatty()
        self.kernel = Kernel(strict=True if args.strict else None)
        self.model_options = parse_options(args.option)
        self.model = resolve_model(self.kernel, args.model, self.model_options)
        self.options = agent_options(args, self.kernel, self.model, self.model_options)
        self.history: list[Any] = []
        self.stored = False
        self.first = True

    async def prepare(self) -> None:
        """Find the conversation (a new thread, ``--thread``, ``-c``); greet on a terminal."""
        from ._record import conversation

        found = await conversation(self.args, self.kernel)
        self.options.update(found.options())
        self.stored = found.thread is not None
        if self.tty:
            where = f"thread {found.thread}" if found.thread else "not logged"
            print(f"plait chat with {self.model.name} ({where})")
            print(f"/exit or /quit (or Ctrl-D) ends it; {MULTI} … {END_MULTI}: several lines")

    def _printer(self) -> Any:
        if not self.tty:
            return None
        from ._live import LivePrinter, loads_on_first_use

        loading = self.first and loads_on_first_use(self.model)
        return LivePrinter(sys.stdout, tty=True, header=False, loading=loading)

    async def turn(self, prompt: str) -> Any:
        """Ask one prompt in the conversation; show the answer."""
        from ._show import print_plain, watch

        options = dict(self.options)
        if not self.stored:
            options["message_history"] = self.history
        printer = self._printer()
        result = await watch(prompt, options, printer=printer)
        self.first = False
        self.history = list(result.messages)
        if printer is None:
            print_plain(result, sys.stdout, sys.stderr)
        elif result.status != "success":
            print(f"status: {result.status} ({result.stop_reason}) {result.error or ''}")
        return result

    async def aclose(self) -> None:
        from ._flags import close_model

        try:
            await close_model(self.model, self.model_options)
        finally:
            await self.kernel.aclose()


def _loop(chat: Chat, read: Callable[[str], str | None]) -> int:
    import anyio

    from ._interrupt import recorded_command

    anyio.run(chat.prepare)
    while (prompt := read_prompt(read)) is not None:
        if not prompt:
            continue
        with recorded_command(chat.args) as interrupt:  # Ctrl-C: the turn is cancelled
            anyio.run(chat.turn, prompt)
        if interrupt.status is not None:
            return interrupt.status
    return 0


def run(args: argparse.Namespace) -> int:
    import anyio

    chat = Chat(args)
    tty = sys.stdin.isatty()
    if tty:  # line editing and history for input()
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401
    read = line_reader(sys.stdin, tty=tty, prompt=sys.stdout.isatty())
    try:
        return _loop(chat, read)
    except KeyboardInterrupt:  # at the prompt
        if chat.tty:
            print()
        return 130
    finally:
        anyio.run(chat.aclose)
