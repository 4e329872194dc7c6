"""Personal data in text: emails, phone numbers, payment cards, IBANs, national ids.

Numbers are reported only when they pass their check digits or allocation rules
(``checksums``): a 16-digit order number that fails Luhn, an IBAN with a wrong mod-97,
an SSN in the never-issued 9xx area are not personal data. Phone numbers are matched by
Google's libphonenumber (``phonenumbers``) at its ``VALID`` leniency: a number must be
dialable in one of the configured regions (or written with ``+`` and a country code).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Literal, get_args

from .checksums import (
    IBAN_LENGTHS,
    card_brand,
    es_dni_valid,
    iban_valid,
    luhn_valid,
    uk_nino_valid,
    us_ssn_valid,
)
from .findings import Finding, resolve_overlaps

__all__ = ["PII_KINDS", "PIIDetector", "PIIKind"]

PIIKind = Literal["email", "phone", "card", "iban", "us_ssn", "uk_nino", "es_dni"]
PII_KINDS: tuple[PIIKind, ...] = get_args(PIIKind)

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,24})(?![\w-])"
)
# "icon@2x.png" is a file name, not an address
_FILE_SUFFIXES = frozenset(
    {"png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "js", "css", "ts", "py", "md"}
)
_CARD = re.compile(r"(?<![\d.,-])\d(?:[ -]?\d){11,18}(?![\d-])")
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,32}")
_SSN = re.compile(r"(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])")
_SSN_LABELLED = re.compile(
    r"\b(?:ssn|social security(?: number| no\.?| #)?)\b\D{0,20}?(?<!\d)(\d{9})(?!\d)", re.I
)
_NINO = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2}) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])(?![A-Za-z0-9])")
_DNI = re.compile(r"(?<![A-Za-z0-9])([XYZ]\d{7}|\d{8})-?([A-Z])(?![A-Za-z0-9])")
_DIGITS_FOR_A_PHONE = 7


def _emails(text: str) -> Iterator[Finding]:
    for m in _EMAIL.finditer(text):
        if m.group(1).lower() not in _FILE_SUFFIXES:
            yield Finding("email", m.start(), m.end())


def _cards(text: str) -> Iterator[Finding]:
    for m in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", m.group())
        if luhn_valid(digits) and card_brand(digits) is not None:
            yield Finding("card", m.start(), m.end())


def _iban_end(text: str, start: int, stop: int, length: int) -> int | None:
    """Where the IBAN starting at ``start`` ends after ``length`` characters (spaces skipped)."""
    count = 0
    for i in range(start, stop):
        if text[i] != " ":
            count += 1
            if count == length:
                return i + 1
    return None


def _ibans(text: str) -> Iterator[Finding]:
    for m in _IBAN.finditer(text):
        length = IBAN_LENGTHS.get(m.group()[:2])
        end = None if length is None else _iban_end(text, m.start(), m.end(), length)
        if end is None or text[end : end + 1].isalnum():
            continue
        if iban_valid(text[m.start() : end].replace(" ", "")):
            yield Finding("iban", m.start(), end)


def _ssns(text: str) -> Iterator[Finding]:
    for m in _SSN.finditer(text):
        if us_ssn_valid(m.group(1) + m.group(3) + m.group(4)):
            yield Finding("us_ssn", m.start(), m.end())
    for m in _SSN_LABELLED.finditer(text):
        if us_ssn_valid(m.group(1)):
            yield Finding("us_ssn", m.start(1), m.end(1))


def _ninos(text: str) -> Iterator[Finding]:
    for m in _NINO.finditer(text):
        if uk_nino_valid("".join(m.groups())):
            yield Finding("uk_nino", m.start(), m.end())


def _dnis(text: str) -> Iterator[Finding]:
    for m in _DNI.finditer(text):
        if es_dni_valid(m.group(1) + m.group(2)):
            yield Finding("es_dni", m.start(), m.end())


class PIIDetector:
    """Finds the enabled ``kinds`` of personal data; phones for ``phone_regions``."""

    def __init__(
        self, kinds: Collection[PIIKind] = PII_KINDS, phone_regions: Sequence[str] = ("US", "GB")
    ) -> None:
        self.kinds = frozenset(kinds)
        self.phone_regions = tuple(phone_regions)
        finders: dict[str, Callable[[str], Iterator[Finding]]] = {
            "email": _emails,
            "card": _cards,
            "iban": _ibans,
            "us_ssn": _ssns,
            "uk_nino": _ninos,
            "es_dni": _dnis,
            "phone": self._phones,
        }
        self._finders = tuple(f for kind, f in finders.items() if kind in self.kinds)

    def find(self, text: str) -> list[Finding]:
        """Every enabled kind of personal data in ``text``, by position, without overlaps."""
        found: list[Finding] = []
        for finder in self._finders:
            found.extend(finder(text))
        return resolve_overlaps(found)

    def _phones(self, text: str) -> Iterator[Finding]:
        if sum(ch.isdigit() for ch in text) < _DIGITS_FOR_A_PHONE:
            return
        import phonenumbers  # ~0.3 s on first use: only once a text could hold a number

        seen: set[tuple[int, int]] = set()
        for region in self.phone_regions:
            matcher = phonenumbers.PhoneNumberMatcher(
                text, region, leniency=phonenumbers.Leniency.VALID
            )
            for m in matcher:
                if (m.start, m.end) not in seen:
                    seen.add((m.start, m.end))
                    yield Finding("phone", m.start, m.end)
