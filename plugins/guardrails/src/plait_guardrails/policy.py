"""``ToolPolicyGuardrail``: which tools the model may call, and where their arguments point.

Checked for each call: the tool's name against ``deny_tools`` and ``allow_tools``
(``fnmatch`` patterns); every URL in any string argument (and the whole value of the
``url_args``) against the schemes, host lists and the private-address rule; every
string argument that is a path (the ``path_args``, or a value starting with ``/``,
``~/``, ``./`` or ``../``), normalised so ``..`` cannot climb out, against
``denied_paths`` and ``allowed_paths``. Reasons name the tool, the argument and the host,
never a full argument value.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

from plait import Context, Decision, ToolCall

from .settings import ToolPolicySettings

__all__ = ["ToolPolicy", "ToolPolicyGuardrail"]

_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]{1,15}://[^\s\"'<>`]+")
_PATH_START = ("/", "~/", "./", "../")
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "metadata.google.internal"})


def _arg_strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """``(argument path, string)`` for every string inside the arguments."""
    if isinstance(value, str):
        yield key or "arguments", value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _arg_strings(v, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _arg_strings(v, f"{key}[{i}]")


def _own_name(where: str) -> str:
    """``"options.url"`` -> ``"url"``, ``"urls[0]"`` -> ``"urls"``: the argument's name."""
    return re.sub(r"(\[\d+\])+$", "", where.rsplit(".", 1)[-1])


def _private(host: str) -> bool:
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not ip.is_global or ip.is_multicast


def _under(path: str, pattern: str) -> bool:
    """``path`` is ``pattern`` or inside it (both normalised; ``pattern`` may glob)."""
    pattern = posixpath.normpath(pattern)
    return fnmatchcase(path, pattern) or fnmatchcase(path, pattern.rstrip("/") + "/*")


class ToolPolicy:
    """The checks of ``ToolPolicySettings``; ``violations`` lists what a call breaks."""

    def __init__(self, settings: ToolPolicySettings) -> None:
        self.s = settings

    def violations(self, tool: str, args: Any) -> list[str]:
        """Every rule the call breaks, as reasons (empty: the call is allowed)."""
        problems = self._name(tool)
        for where, text in _arg_strings(args):
            name = _own_name(where)
            urls = [text] if name in self.s.url_args else _URL_IN_TEXT.findall(text)
            problems.extend(p for url in urls if (p := self._url(url)) is not None)
            problems.extend(self._path(where, name, text))
        return problems

    def _name(self, tool: str) -> list[str]:
        if any(fnmatchcase(tool, p) for p in self.s.deny_tools):
            return [f"tool {tool!r} is denied"]
        if self.s.allow_tools and not any(fnmatchcase(tool, p) for p in self.s.allow_tools):
            return [f"tool {tool!r} is not in the allowed tools"]
        return []

    def _url(self, url: str) -> str | None:
        try:
            parts = urlsplit(url.strip())
            host = (parts.hostname or "").rstrip(".").lower()
        except ValueError:
            return "an argument holds a malformed URL"
        scheme = parts.scheme.lower()
        if scheme not in self.s.allowed_schemes:
            return f"URL scheme {scheme!r} is not allowed"
        if not host:
            return "a URL has no host"
        if any(fnmatchcase(host, p.lower()) for p in self.s.denied_hosts):
            return f"host {host!r} is denied"
        listed = any(fnmatchcase(host, p.lower()) for p in self.s.allowed_hosts)
        if self.s.allowed_hosts and not listed:
            return f"host {host!r} is not in the allowed hosts"
        if self.s.block_private_hosts and not listed and _private(host):
            return f"host {host!r} is a local or private address"
        return None

    def _path(self, where: str, name: str, text: str) -> list[str]:
        value = text.strip()
        if name not in self.s.path_args and not value.startswith(_PATH_START):
            return []
        path = posixpath.normpath(value)
        if any(_under(path, p) for p in self.s.denied_paths):
            return [f"argument {where!r} points into a denied path"]
        if self.s.allowed_paths and not any(_under(path, p) for p in self.s.allowed_paths):
            return [f"argument {where!r} is outside the allowed paths"]
        return []


class ToolPolicyGuardrail:
    """A ``plait.Guardrail`` at the ``tool_call`` stage applying a ``ToolPolicy``."""

    name = "tool_policy"
    stage = "tool_call"
    timeout: float | None = None
    parallel = True

    def __init__(self, settings: ToolPolicySettings | None = None) -> None:
        self.settings = settings or ToolPolicySettings()
        self.policy = ToolPolicy(self.settings)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} action={self.settings.action}>"

    async def check(self, subject: Any, ctx: Context[Any]) -> Decision:
        """Allow a call within the policy; otherwise block, retry or ask, saying why."""
        if isinstance(subject, ToolCall):
            tool = subject.name
            try:
                args: Any = subject.parsed_arguments()
            except ValueError:
                args = subject.arguments
        else:  # not a tool call: nothing this policy can vouch for
            tool, args = "?", subject
        problems = self.policy.violations(tool, args)
        if not problems:
            return Decision(action="allow", guardrail=self.name, stage="tool_call")
        return Decision(
            action=self.settings.action,
            reason=f"tool policy refused {tool!r}: " + "; ".join(dict.fromkeys(problems)),
            guardrail=self.name,
            stage="tool_call",
        )
