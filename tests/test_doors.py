"""Plugins (their tests too), examples and the docs' code use only the public doors.

The doors are ``plait``, ``plait.provider``, ``plait.store`` and ``plait.testing``; a
plugin that reaches behind an underscore is a door the kernel forgot. A plugin's test
suite is held to the same rule: it must be writable by a third party, who has only the
doors. Imports are read with ``ast``, so ``import plait._x as y`` and imports inside
functions count too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(?:python|py)\n(.*?)^```", re.M | re.S)

# Files (relative to the repository root) still allowed a private import, each with the
# reason it cannot go through a door yet. Keep it empty: a new entry is a door to add.
ALLOWED: dict[str, str] = {}


def private_imports(source: str) -> list[str]:
    """Every import of a private plait module (or private name of plait) in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        if any(_private(module) for module in modules):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def _private(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "plait" and any(part.startswith("_") for part in parts[1:])


def _import_line(line: str) -> list[str]:
    if not re.match(r"\s*(from|import)\s", line):
        return []
    try:
        return private_imports(line.strip())
    except SyntaxError:  # a multi-line import's first line: close it to read the module
        return private_imports(line.strip().rstrip("(") + " x") if "(" in line else []


def sources() -> list[tuple[str, str]]:
    """``(where, python source)`` for plugin sources and tests, examples and doc blocks."""
    found = []
    files = [
        *ROOT.glob("plugins/*/src/**/*.py"),
        *ROOT.glob("plugins/*/tests/**/*.py"),
        *ROOT.glob("examples/**/*.py"),
    ]
    for path in sorted(files):
        where = str(path.relative_to(ROOT))
        if "build" not in path.relative_to(ROOT).parts and where not in ALLOWED:
            found.append((where, path.read_text()))
    for path in sorted([*ROOT.glob("docs/**/*.md"), ROOT / "README.md"]):
        text = path.read_text()
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{path.relative_to(ROOT)}:{line}", match.group(1)))
    return found


def test_sources_are_found() -> None:
    where = [w for w, _ in sources()]
    assert any(w.startswith("plugins/openai/src/") for w in where)
    assert any(w.startswith("plugins/openai/tests/") for w in where)
    assert any(w.startswith("plugins/anthropic/tests/") for w in where)
    assert any(w.startswith("examples/") for w in where)
    assert any(w.startswith("docs/plugins/providers.md:") for w in where)
    assert any(w.startswith("README.md:") for w in where)


@pytest.mark.parametrize(
    "source",
    [
        "import plait._x as y",
        "from plait._http import ClientPool",
        "from plait.testing._loopback import Reply",
        "from plait import _kernel",
        "def f():\n    from plait._store._sqlite import SQLiteStore",
    ],
)
def test_a_private_import_is_found(source: str) -> None:
    assert private_imports(source)


@pytest.mark.parametrize(
    "source",
    ["import plait", "from plait.provider import ClientPool", "from plait.testing import Reply"],
)
def test_a_door_import_is_not_flagged(source: str) -> None:
    assert private_imports(source) == []


def test_a_private_import_in_a_fragment_is_found() -> None:
    assert _import_line("from plait._http import (")
    assert _import_line("    import plait._kernel")
    assert _import_line("def plait_configure(config: PlaitConfig) -> None") == []


def test_plugins_examples_and_docs_use_only_the_doors() -> None:
    offences = []
    for where, source in sources():
        try:
            lines = private_imports(source)
        except SyntaxError:  # a fragment (hooks.md shows bare signatures): read its imports
            lines = [hit for line in source.splitlines() for hit in _import_line(line)]
        offences += [f"{where}: {line}" for line in lines]
    assert offences == []


def test_the_allow_list_names_real_files_with_reasons() -> None:
    for where, reason in ALLOWED.items():
        assert (ROOT / where).is_file(), where
        assert reason.strip(), where
