"""One redaction policy for everything a run shows: events, tool output, tool-error detail.

``Redactor`` masks text that looks like a secret (``sk-...`` and ``sk-ant-...`` API
keys, ``Bearer`` tokens, AWS access key ids, GitHub tokens) and the values of the
environment variables whose names end in ``_API_KEY``, ``_TOKEN``, ``_SECRET``,
``_PASSWORD`` (and a few more), read once when the policy is built (at run start).

A run's ``redact=`` option is a ``Redactor``, any ``str -> str`` callable, or ``False``
(nothing is redacted); ``policy_from`` turns it into one function. Redaction is one
compiled regular expression per policy: a string without a secret costs one scan.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "DEFAULT_PATTERNS",
    "ENV_SUFFIXES",
    "MASK",
    "DefaultPolicy",
    "Redactor",
    "StreamRedactor",
    "TextPolicy",
    "policy_from",
    "redact_data",
]

TextPolicy = Callable[[str], str]
"""A redaction policy reduced to what the kernel calls: text in, redacted text out."""

MASK = "[REDACTED]"

DEFAULT_PATTERNS: tuple[str, ...] = (
    r"\bsk-[A-Za-z0-9_\-]{16,}",  # OpenAI (sk-, sk-proj-) and Anthropic (sk-ant-) keys
    r"\bBearer\s+[A-Za-z0-9\-._~+/]{8,}=*",  # bearer tokens in headers or logs
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key ids
    r"\bgh[opsur]_[A-Za-z0-9]{30,}\b",  # GitHub tokens
    r"\bxox[abprs]-[A-Za-z0-9\-]{10,}",  # Slack tokens
)
"""What secrets look like, whatever variable they came from."""

DEFAULT_PREFILTER = r"sk-|Bearer|AKIA|ASIA|gh[opsur]_|xox"
"""A match of ``DEFAULT_PATTERNS`` contains one of these: a cheap test before the regex."""

ENV_SUFFIXES: tuple[str, ...] = (
    "_API_KEY",
    "_TOKEN",
    "_SECRET",
    "_PASSWORD",
    "_SECRET_KEY",
    "_ACCESS_KEY",
)
"""Environment variables whose values are secrets (by the end of their name)."""

MIN_SECRET_LENGTH = 6
"""Shorter environment values are not masked: ``"1"`` or ``"true"`` are not secrets."""


_NONE: frozenset[str] = frozenset()


class Redactor:
    """A redaction policy: patterns, literal secrets and environment secrets, one mask.

    ``Redactor()`` is the default policy. ``patterns`` replaces the default patterns;
    ``secrets`` adds literal values; ``env=False`` skips the environment (or pass a
    mapping to read instead of ``os.environ``); ``env_names`` are variables whose values
    are secrets whatever their names end with (the kernel passes the ``api_key_env`` of
    every configured provider profile). Call it (or ``redact``) with text to get
    the text with every secret replaced by ``mask``. The environment is read and the
    expression compiled when the policy first redacts, so a run that never needs it
    never pays for it.
    """

    __slots__ = (
        "_env",
        "_firsts",
        "_literals",
        "_longest",
        "_names",
        "_patterns",
        "_prefilter",
        "_regex",
        "_secrets",
        "_suffixes",
        "mask",
    )

    def __init__(
        self,
        *,
        patterns: Iterable[str] = DEFAULT_PATTERNS,
        secrets: Iterable[str] = (),
        env: bool | Mapping[str, str] = True,
        env_suffixes: Iterable[str] = ENV_SUFFIXES,
        env_names: Iterable[str] = (),
        mask: str = MASK,
    ) -> None:
        self.mask = mask
        self._names = tuple(env_names)
        self._patterns = tuple(patterns)
        self._secrets = frozenset(s for s in secrets if s) if secrets else _NONE
        self._env = env
        self._suffixes = tuple(env_suffixes)
        self._regex: re.Pattern[str] | None = None
        self._prefilter: re.Pattern[str] | None = None
        self._literals: list[str] = []
        self._firsts: frozenset[str] = _NONE
        self._longest = 0

    def _compile(self) -> re.Pattern[str]:
        values = set(self._secrets)
        if self._env is not False:
            environ = os.environ if self._env is True else self._env
            values.update(env_secrets(environ, self._suffixes))
            named = (environ.get(name, "") for name in self._names)
            values.update(v for v in named if len(v) >= MIN_SECRET_LENGTH)
        # longest first: a secret that contains another is masked whole
        literal = sorted(values, key=len, reverse=True)
        self._literals = literal
        self._firsts = frozenset(v[0] for v in literal)
        self._longest = len(literal[0]) if literal else 0
        escaped = [re.escape(v) for v in literal]
        parts = escaped + list(self._patterns)
        if self._patterns == DEFAULT_PATTERNS:
            # literal prefixes only: several times cheaper than the patterns on clean text
            self._prefilter = re.compile("|".join([*escaped, DEFAULT_PREFILTER]))
        regex = re.compile("|".join(parts) if parts else r"(?!x)x")
        self._regex = regex
        return regex

    def redact(self, text: str) -> str:
        """``text`` with every secret masked (the same object when nothing matched)."""
        regex = self._regex or self._compile()
        if (self._prefilter or regex).search(text) is None:
            return text
        return regex.sub(self.mask, text)

    __call__ = redact

    def split_point(self, text: str) -> int:
        """How much of ``text`` (the start of a stream) can be shown without a secret
        being cut in two: everything but a tail that is, or may grow into, a secret."""
        regex = self._regex or self._compile()
        n = len(text)
        cut = n
        if (self._prefilter or regex).search(text) is not None:
            for m in regex.finditer(text):
                if m.end() == n:  # may still be growing
                    cut = m.start()
        tail = text[-self._longest + 1 :] if self._longest > 1 else ""
        for lit in self._literals if not self._firsts.isdisjoint(tail) else ():
            # the start of a literal still arriving
            p = text.find(lit[0], max(0, n - len(lit) + 1))
            while p != -1 and p < cut:
                if lit.startswith(text[p:]):
                    cut = p
                    break
                p = text.find(lit[0], p + 1)
        if self._patterns == DEFAULT_PATTERNS:
            cut = min(cut, _pattern_tail(text))
        elif cut == n:  # unknown patterns: hold back the word still arriving
            while cut > 0 and text[cut - 1] not in _BOUNDARY:
                cut -= 1
        return cut

    def __repr__(self) -> str:  # never shows the secrets it knows
        return f"Redactor(mask={self.mask!r})"


_BOUNDARY = frozenset(" \t\r\n\"',;:{}[]()<>=|")
"""Where streamed text may be cut for a policy whose patterns are unknown."""

_TOKEN = frozenset(string.ascii_letters + string.digits + "-._~+/=")
"""The characters of a default-pattern secret (after its ``Bearer``, if any)."""

_PREFIXES = ("sk-", "Bearer", "AKIA", "ASIA", "ghp_", "gho_", "ghs_", "ghu_", "ghr_", "xox")
"""How a default-pattern secret starts."""


def _pattern_tail(text: str) -> int:
    """Where the tail of ``text`` that may grow into a default-pattern secret starts."""
    n = len(text)
    i = n
    while i > 0 and text[i - 1] in _TOKEN:
        i -= 1
    start = n
    for j in range(i, n):
        if text[j] not in "sBAgx" or (j > i and (text[j - 1].isalnum() or text[j - 1] == "_")):
            continue  # a secret starts at a word boundary, with one of these letters
        rest = text[j : j + 6]
        if any(p.startswith(rest) or rest.startswith(p) for p in _PREFIXES):
            start = j
            break
    k = i
    while k > 0 and text[k - 1].isspace():
        k -= 1
    if k < i and text[:k].endswith("Bearer"):  # "Bearer " and its token still arriving
        start = min(start, k - 6)
    return start


MAX_PENDING = 4096
"""Characters a stream may hold back looking for a boundary before it lets them go."""


class StreamRedactor:
    """Redacts a stream of text pieces (deltas) so a secret split across pieces is caught.

    ``feed`` returns the redacted text that is safe to show now and holds back the rest
    (the word still arriving, and with a ``Redactor`` anything a secret may still span);
    ``flush`` returns what is left when the stream ends.
    """

    __slots__ = ("pending", "policy")

    def __init__(self, policy: TextPolicy) -> None:
        self.policy = policy
        self.pending = ""

    def feed(self, text: str) -> str:
        raw = self.pending + text
        if isinstance(self.policy, Redactor):
            cut = self.policy.split_point(raw)
        else:  # an unknown policy: hold back the word still arriving
            cut = len(raw)
            while cut > 0 and raw[cut - 1] not in _BOUNDARY:
                cut -= 1
        if cut == 0:
            if len(raw) < MAX_PENDING:
                self.pending = raw
                return ""
            cut = len(raw)
        self.pending = raw[cut:]
        return self.policy(raw[:cut])

    def flush(self) -> str:
        raw, self.pending = self.pending, ""
        return self.policy(raw) if raw else ""


def env_secrets(environ: Mapping[str, str], suffixes: tuple[str, ...]) -> list[str]:
    """The values of the variables in ``environ`` whose names mark them as secrets."""
    # names first: only the few secret-looking variables have their values decoded
    values = [environ[name] for name in environ if name.endswith(suffixes)]
    return [v for v in values if len(v) >= MIN_SECRET_LENGTH]


class DefaultPolicy:
    """One kernel's default ``Redactor``, made again only when the environment changed.

    A ``Redactor`` reads the environment and compiles its expression when it first
    redacts (about 0.3 ms); sharing one across a kernel's runs makes the answers of a
    plain run cheap to redact. The environment is compared (one C-level dict comparison
    of ``os.environ``'s raw data) at every run start, so a key set or changed between
    runs is still masked.
    """

    __slots__ = ("_names", "_redactor", "_seen")

    def __init__(self, env_names: Sequence[str] = ()) -> None:
        self._names = tuple(env_names)
        self._redactor: Redactor | None = None
        self._seen: object = None

    def get(self) -> Redactor:
        """The policy for a run starting now."""
        data: Mapping[Any, Any] = getattr(os.environ, "_data", os.environ)
        if self._redactor is None or self._seen != data:
            self._seen = dict(data)
            self._redactor = Redactor(env_names=self._names) if self._names else Redactor()
        return self._redactor


def policy_from(option: Any, env_names: Sequence[str] = ()) -> TextPolicy | None:
    """The ``redact=`` option as a function (``None`` when redaction is off).

    ``None`` or ``True`` → the default ``Redactor()`` (also masking the values of
    ``env_names``); ``False`` → off; a ``Redactor`` or any ``str -> str`` callable is
    used as it is.
    """
    if option is None or option is True:
        return Redactor(env_names=env_names) if env_names else Redactor()
    if option is False:
        return None
    if callable(option):
        return option  # type: ignore[no-any-return]
    raise TypeError(f"redact= takes a Redactor, a str -> str callable or False, not {option!r}")


def redact_data(data: Any, policy: TextPolicy) -> Any:
    """``data`` (an event's JSON-like payload) with every string passed through ``policy``.

    Containers are copied only when something inside them changed.
    """
    if isinstance(data, str):
        return policy(data)
    if isinstance(data, dict):
        out: dict[Any, Any] | None = None
        for key, value in data.items():
            new = redact_data(value, policy)
            if new is not value:
                if out is None:
                    out = dict(data)
                out[key] = new
        return data if out is None else out
    if isinstance(data, list | tuple):
        items = [redact_data(v, policy) for v in data]
        if all(a is b for a, b in zip(items, data, strict=True)):
            return data
        return items if isinstance(data, list) else tuple(items)
    return data
