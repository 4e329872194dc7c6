"""The live view's lines: tool failures, the status line (loading, thinking), plurals."""

from __future__ import annotations

import io

from plait._cli._live import LivePrinter, loads_on_first_use
from plait._cli._show import plural, print_plain, usage_line
from plait._events import Event
from plait._messages import Usage


def _event(kind: str, **data: object) -> Event:
    return Event(kind=kind, run_id="r", seq=0, ts=0.0, data=dict(data))


def test_a_failed_tool_shows_its_message_else_the_error_type() -> None:
    out = io.StringIO()
    printer = LivePrinter(out)
    printer.show(_event("tool.start", id="c1", name="explode", arguments={}))
    printer.show(_event("tool.end", id="c1", ok=False, error="RuntimeError",
                        message="RuntimeError: boom"))  # fmt: skip
    printer.show(_event("tool.end", id="c1", ok=False, error="RuntimeError"))
    assert out.getvalue().splitlines()[1:] == [
        "← explode failed: RuntimeError: boom",
        "← explode failed: RuntimeError",
    ]


def test_the_status_line_says_loading_model_then_thinking() -> None:
    out = io.StringIO()
    printer = LivePrinter(out, tty=True, loading=True)
    printer.show(_event("model.request", turn=1))
    printer.tick()
    assert "loading model… 0s" in out.getvalue()
    printer.show(_event("text.delta", text="Hi"))
    printer.show(_event("model.response", turn=1, text="Hi"))
    printer.show(_event("tool.start", id="c1", name="search", arguments={}))
    printer.tick()
    assert out.getvalue().endswith("running search… 0s")
    printer.show(_event("model.request", turn=2))
    printer.tick()
    assert out.getvalue().endswith("thinking… 0s")
    printer.show(_event("tool_call.delta", index=0, id="c2", name="complete", arguments=""))
    printer.tick()
    assert out.getvalue().endswith("calling complete… 0s")


def test_no_status_line_off_a_terminal() -> None:
    out = io.StringIO()
    printer = LivePrinter(out, tty=False, loading=True)
    printer.show(_event("model.request", turn=1))
    printer.tick()
    assert out.getvalue() == ""


def test_only_a_model_loaded_in_process_says_loading() -> None:
    from plait_local import LocalProvider

    class Hosted:
        name = "acme:big"

    local = LocalProvider().model("smollm2")  # no I/O: loaded by the first request
    assert loads_on_first_use(local)  # it declares loads_on_first_request
    assert not loads_on_first_use(Hosted())  # the contract's default


def test_plurals() -> None:
    assert [plural(n, "request") for n in (0, 1, 2)] == ["0 requests", "1 request", "2 requests"]
    assert plural(1, "tool call") == "1 tool call"

    class Result:
        usage = Usage(input_tokens=1, output_tokens=0, requests=1, tool_calls=1)
        duration = 0.5

    assert usage_line(Result()) == "usage: 1 request, 1 tool call, 1 token (1 in, 0 out); 0.50s"


def test_plain_output_of_a_structured_result_is_one_json_line() -> None:
    class Result:
        def __init__(self) -> None:
            self.output = {"city": "Paris"}
            self.status = "success"

    out, err = io.StringIO(), io.StringIO()
    print_plain(Result(), out, err)
    assert out.getvalue() == '{"city": "Paris"}\n' and err.getvalue() == ""
