"""The kernel knows no provider plugin by name: defaults, keys and APIs are declared by
the plugins (``Provider.default_model``, ``Model.server_state_key``, profiles' ``api``).

Comments and docstrings may name one to explain an example; code may not.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "core" / "src"
PLUGIN_NAMES = re.compile(r"openai|OPENAI|smollm")


def _docstrings(source: str) -> set[tuple[int, int]]:
    """Start positions of string statements (module, class, function, attribute docs)."""
    return {
        (node.lineno, node.col_offset)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def mentions_in_code(source: str) -> list[tuple[int, str]]:
    """``(line, token)`` for each token outside comments and docstrings naming a plugin."""
    docs = _docstrings(source)
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT or (tok.type == tokenize.STRING and tok.start in docs):
            continue
        if PLUGIN_NAMES.search(tok.string):
            found.append((tok.start[0], tok.string))
    return found


def test_the_check_sees_code_and_skips_comments_and_docstrings() -> None:
    source = (
        '"""Module doc: openai:gpt-4o-mini is an example."""\n'
        "def f():\n"
        '    """Uses OPENAI_API_KEY, for example."""\n'
        "    # local:smollm2 in a comment\n"
        '    return "openai:gpt-4o-mini", OPENAI_KEY, f"{x}smollm2"\n'
        "X = 1\n"
        '"""An attribute doc naming openai."""\n'
    )
    assert [line for line, _ in mentions_in_code(source)] == [5, 5, 5]


def test_core_code_names_no_provider_plugin() -> None:
    found = []
    for path in sorted(CORE.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".py":
            hits = mentions_in_code(text)
        else:
            hits = [
                (n, line)
                for n, line in enumerate(text.splitlines(), 1)
                if PLUGIN_NAMES.search(line)
            ]
        found += [f"{path.relative_to(CORE)}:{line}: {token}" for line, token in hits]
    assert found == []
