"""Hook implementations only: each returns objects, none does I/O."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import plait


@plait.hookimpl
def plait_register_tools(config: plait.PlaitConfig) -> Iterable[Any]:
    from .tools import WordCount

    settings = config.plugin.get("skeleton", {})
    return [WordCount(max_chars=int(settings.get("max_chars", 10_000)))]


@plait.hookimpl
def plait_register_verifiers() -> Iterable[Any]:
    from .tools import NonEmptySummary

    return [NonEmptySummary()]
