"""Check digits and allocation rules that tell a real identifier from a look-alike.

Each function takes the identifier without separators and answers whether it could have
been issued. They are the published algorithms (ISO/IEC 7812 Luhn, ISO 13616 mod-97, the
SSA's and HMRC's allocation rules, Spain's DNI letter), written out here instead of
pulling a dependency for a dozen lines each (see the README's DEPENDENCIES note).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "IBAN_LENGTHS",
    "card_brand",
    "es_dni_valid",
    "iban_valid",
    "luhn_valid",
    "uk_nino_valid",
    "us_ssn_valid",
]

# ISO 13616 registry (SWIFT): country -> IBAN length.
IBAN_LENGTHS: Mapping[str, int] = MappingProxyType(
    {
        "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
        "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
        "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
        "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
        "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
        "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
        "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27,
        "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28,
        "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
        "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
        "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
    }
)  # fmt: skip

# (brand, issuer prefix ranges, allowed lengths) — ISO/IEC 7812 IINs of the big networks.
_BRANDS: tuple[tuple[str, tuple[tuple[int, int], ...], frozenset[int]], ...] = (
    ("amex", ((34, 34), (37, 37)), frozenset({15})),
    ("visa", ((4, 4),), frozenset({13, 16, 19})),
    ("mastercard", ((51, 55), (2221, 2720)), frozenset({16})),
    ("discover", ((6011, 6011), (644, 649), (65, 65)), frozenset({16, 19})),
    ("jcb", ((3528, 3589),), frozenset({16, 17, 18, 19})),
    ("diners", ((300, 305), (36, 36), (38, 39)), frozenset({14, 16, 19})),
    ("unionpay", ((62, 62),), frozenset({16, 17, 18, 19})),
    ("maestro", ((50, 50), (56, 58), (63, 63), (67, 67)), frozenset(range(12, 20))),
)

_SSN_NEVER_ISSUED = frozenset({"078051120", "219099999", "457555462"})  # published, voided
_NINO = re.compile(r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]")
_NINO_UNUSED_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of payment cards and many other numbers."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_brand(digits: str) -> str | None:
    """The card network whose prefix and length ``digits`` has, or ``None``."""
    for brand, ranges, lengths in _BRANDS:
        if len(digits) not in lengths:
            continue
        for low, high in ranges:
            width = len(str(low))
            if low <= int(digits[:width]) <= high:
                return brand
    return None


def iban_valid(iban: str) -> bool:
    """ISO 13616: a registered country, its length, and ``mod 97 == 1``."""
    iban = iban.upper()
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban[2:4].isdigit():
        return False
    if not iban[4:].isalnum() or not iban.isascii():
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def us_ssn_valid(digits: str) -> bool:
    """US Social Security number: area not 000/666/9xx, group not 00, serial not 0000."""
    if len(digits) != 9 or not digits.isdigit() or digits in _SSN_NEVER_ISSUED:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area[0] == "9":
        return False
    return group != "00" and serial != "0000"


def uk_nino_valid(nino: str) -> bool:
    """UK National Insurance number: HMRC's prefix letters and a suffix A-D."""
    nino = nino.upper()
    return bool(_NINO.fullmatch(nino)) and nino[:2] not in _NINO_UNUSED_PREFIXES


def es_dni_valid(value: str) -> bool:
    """Spanish DNI (8 digits) or NIE (X/Y/Z and 7 digits) with its check letter."""
    value = value.upper()
    if len(value) != 9 or not value[-1].isalpha():
        return False
    body = value[:-1]
    if body[0] in "XYZ":
        body = str("XYZ".index(body[0])) + body[1:]
    if not body.isdigit():
        return False
    return _DNI_LETTERS[int(body) % 23] == value[-1]
