"""The python code blocks of docs/inputs.md run as written and print what they say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).parents[2] / "docs" / "inputs.md"


def test_inputs_doc_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 2
    for block in blocks:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, str(DOC), "exec"), {})
        promised = re.findall(r"# (.+)$", block.strip().splitlines()[-1])
        assert promised and out.getvalue().strip() == promised[0]


def test_the_example_is_linked_and_the_error_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "examples/inputs.py" in text and "UnsupportedInput" in text and "fetch_urls" in text
