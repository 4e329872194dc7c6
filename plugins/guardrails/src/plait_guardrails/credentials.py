"""Secrets in text: provider key shapes, PEM private keys, JWTs, high-entropy tokens.

Key shapes are anchored on the provider's documented prefix and body alphabet. The
entropy rule is the fallback for tokens no shape knows, tuned against false positives:

* a candidate is a run of base64/base64url characters of ``entropy_min_length`` or
  more (and at most ``_MAX_TOKEN``: longer runs are encoded data, not keys);
* it must mix lower case, upper case and digits (paths and words do not), and not be
  mostly runs of 3+ lower-case letters (camelCase identifiers are);
* hex-only runs (git SHAs, digests), UUIDs, absolute paths and publishable (public)
  Stripe keys are never reported by entropy alone;
* its Shannon entropy must reach ``entropy_threshold`` bits per character, scaled down
  for short tokens, whose entropy cannot reach that of long ones (``_threshold``);
* after a secret-ish assignment (``password=``, ``api_key:``, ``client_secret =``) a
  value of 8+ characters is reported at a lower bar (``_ASSIGNED_MIN_ENTROPY``).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter
from collections.abc import Collection, Iterator
from typing import Literal, get_args

from .findings import Finding, resolve_overlaps

__all__ = ["SECRET_KINDS", "SecretKind", "SecretsDetector", "shannon_entropy"]

SecretKind = Literal[
    "openai_key",
    "anthropic_key",
    "aws_access_key",
    "aws_secret_key",
    "github_token",
    "slack_token",
    "slack_webhook",
    "google_api_key",
    "stripe_key",
    "private_key",
    "jwt",
    "credential",
    "high_entropy",
]
SECRET_KINDS: tuple[SecretKind, ...] = get_args(SecretKind)

_SHAPES: tuple[tuple[SecretKind, re.Pattern[str]], ...] = (
    ("anthropic_key", re.compile(r"\bsk-ant-(?:api|admin|oat)\d{2}-[A-Za-z0-9_-]{20,}")),
    ("openai_key", re.compile(r"\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")),
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b")),
    (
        "aws_secret_key",
        re.compile(
            r"(?i:aws_?secret_?(?:access_?)?key)[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+]{40})(?![\w/+])"
        ),
    ),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_\w{22,255})\b")),
    ("slack_token", re.compile(r"\bxox[abposr]-(?:\d+-)+[A-Za-z0-9-]{8,}")),
    (
        "slack_webhook",
        re.compile(r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_-]{20,}"),
    ),
    ("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])")),
    ("stripe_key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,247}\b")),
    (
        "private_key",
        re.compile(
            r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----"
            r"[\s\S]*?(?:-----END \1-----|\Z)"
        ),
    ),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")),
)
_OPENAI_MARKER = "T3BlbkFJ"  # base64 of "OpenAI", inside every key issued since 2023

_TOKEN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/_=-])")
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|\Z)")
_MAX_TOKEN = 200
_HEX = re.compile(r"[0-9a-fA-F-]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_WORDY = re.compile(r"[a-z]{3,}")
_WORDY_SHARE = 0.5  # camelCase identifiers: long lower-case runs; random keys: short ones
_PUBLIC_PREFIXES = ("pk_live_", "pk_test_")  # publishable keys are public by design
_ASSIGNED = re.compile(
    r"(?i:(?<![A-Za-z0-9])(?:password|passwd|pwd|secret|client_secret|api[_-]?key|apikey|access[_-]?token|"
    r"auth[_-]?token|token|private[_-]?key)\b)[\"']?\s*[:=]\s*[\"']?([^\s\"'`,;<>{}$%]{8,128})"
)
_ASSIGNED_MIN_ENTROPY = 3.0
_PLACEHOLDER = re.compile(r"your|xxxx|\*\*\*|changeme|placeholder|redacted|example|^<", re.I)


def shannon_entropy(token: str) -> float:
    """Bits per character of ``token``'s own character distribution."""
    if not token:
        return 0.0
    n = len(token)
    return -sum(c / n * math.log2(c / n) for c in Counter(token).values())


def _mixed(token: str) -> bool:
    lower = upper = digit = False
    for ch in token:
        lower = lower or ch.islower()
        upper = upper or ch.isupper()
        digit = digit or ch.isdigit()
    return lower and upper and digit


def _wordy(token: str) -> bool:
    """Mostly made of lower-case runs of 3+ letters: ``ThisIsAClassNameFactory2``."""
    return sum(len(w) for w in _WORDY.findall(token)) >= _WORDY_SHARE * len(token)


def _looks_random(body: str) -> bool:
    """A key's body, not a word chain like ``sk-learn-style-estimators``."""
    return _OPENAI_MARKER in body or _mixed(body)


def _overlap(a: Finding, b: Finding) -> bool:
    return a.start < b.end and b.start < a.end


def _jwt_header_ok(token: str) -> bool:
    head = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and "alg" in header


class SecretsDetector:
    """Finds the enabled ``kinds`` of secrets (see the module docstring for the rules)."""

    def __init__(
        self,
        kinds: Collection[SecretKind] = SECRET_KINDS,
        entropy_min_length: int = 20,
        entropy_threshold: float = 4.0,
    ) -> None:
        self.kinds = frozenset(kinds)
        self.entropy_min_length = entropy_min_length
        self.entropy_threshold = entropy_threshold
        self._shapes = tuple((k, p) for k, p in _SHAPES if k in self.kinds)

    def find(self, text: str) -> list[Finding]:
        """Every enabled kind of secret in ``text``, by position, without overlaps."""
        shaped = resolve_overlaps(self._shaped(text))
        guessed: list[Finding] = []
        if "credential" in self.kinds:
            guessed.extend(self._assigned(text))
        if "high_entropy" in self.kinds:
            guessed.extend(self._random_tokens(text))
        # a known shape names the secret better than a guess covering the same text
        guessed = [g for g in guessed if not any(_overlap(g, f) for f in shaped)]
        return resolve_overlaps([*shaped, *guessed])

    def _shaped(self, text: str) -> Iterator[Finding]:
        for kind, pattern in self._shapes:
            for m in pattern.finditer(text):
                value = m.group()
                if kind == "openai_key" and not _looks_random(value[3:]):
                    continue
                if kind == "jwt" and not _jwt_header_ok(value):
                    continue
                start, end = m.span(1) if pattern.groups and kind != "private_key" else m.span()
                yield Finding(kind, start, end)

    def _assigned(self, text: str) -> Iterator[Finding]:
        for m in _ASSIGNED.finditer(text):
            value = m.group(1)
            if _PLACEHOLDER.search(value) or value.isalpha():
                continue
            if shannon_entropy(value) >= _ASSIGNED_MIN_ENTROPY:
                yield Finding("credential", m.start(1), m.end(1))

    def _threshold(self, length: int) -> float:
        # a token of n characters has at most log2(n) bits per character: ask short
        # tokens for a share of that ceiling rather than the long-token threshold
        return min(self.entropy_threshold, 0.85 * math.log2(length))

    def _random_tokens(self, text: str) -> Iterator[Finding]:
        pem = [m.span() for m in _PEM_BLOCK.finditer(text)] if "-----BEGIN" in text else []
        for m in _TOKEN.finditer(text):
            if any(a <= m.start() < b for a, b in pem):
                continue  # certificates and public keys: their private kin have a shape
            token = m.group().strip("=")
            if not self.entropy_min_length <= len(token) <= _MAX_TOKEN:
                continue
            if _HEX.fullmatch(token) or _UUID.search(token) or not _mixed(token):
                continue
            if token[0] == "/" or token.startswith(_PUBLIC_PREFIXES) or _wordy(token):
                continue  # an absolute path (a URL's path too), a public key, an identifier
            if text[max(0, m.start() - 7) : m.start()].endswith("base64,"):
                continue  # a data: URI carries content, not a key
            if shannon_entropy(token) >= self._threshold(len(token)):
                yield Finding("high_entropy", m.start(), m.end())
