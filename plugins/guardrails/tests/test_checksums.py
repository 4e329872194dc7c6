"""The check-digit and allocation rules: documented examples pass, near misses fail."""

from __future__ import annotations

import pytest

from plait_guardrails.checksums import (
    card_brand,
    es_dni_valid,
    iban_valid,
    luhn_valid,
    uk_nino_valid,
    us_ssn_valid,
)


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4111111111111111", "visa"),
        ("5555555555554444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("6011111111111117", "discover"),
        ("3530111333300000", "jcb"),
        ("30569309025904", "diners"),
    ],
)
def test_test_cards_pass_luhn_and_have_a_brand(number: str, brand: str) -> None:
    assert luhn_valid(number) and card_brand(number) == brand


@pytest.mark.parametrize("number", ["4111111111111112", "5555555555554445", "1234567812345678"])
def test_luhn_near_misses_fail(number: str) -> None:
    assert not luhn_valid(number)


def test_a_luhn_valid_number_without_a_network_prefix_has_no_brand() -> None:
    assert luhn_valid("0000000000000000") and card_brand("0000000000000000") is None


@pytest.mark.parametrize(
    "iban",
    ["DE89370400440532013000", "GB29NWBK60161331926819", "FR1420041010050500013M02606",
     "NL91ABNA0417164300", "NO9386011117947", "gb29nwbk60161331926819"],
)  # fmt: skip
def test_documented_ibans_are_valid(iban: str) -> None:
    assert iban_valid(iban)


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013001",  # wrong mod-97
        "GB29NWBK6016133192681",  # one character short for GB
        "XX89370400440532013000",  # no such country
        "DE8937040044053201300!",  # not alphanumeric
    ],
)
def test_iban_near_misses_fail(iban: str) -> None:
    assert not iban_valid(iban)


@pytest.mark.parametrize("ssn", ["123456788", "536221234", "212678901"])
def test_issuable_ssns(ssn: str) -> None:
    assert us_ssn_valid(ssn)


@pytest.mark.parametrize(
    "ssn", ["000123456", "666123456", "900123456", "123001234", "123450000", "078051120", "12345"]
)
def test_never_issued_ssns(ssn: str) -> None:
    assert not us_ssn_valid(ssn)


@pytest.mark.parametrize(("nino", "ok"), [("AB123456C", True), ("QQ123456C", False),
                                          ("GB123456A", False), ("AB123456E", False)])  # fmt: skip
def test_nino_rules(nino: str, ok: bool) -> None:
    assert uk_nino_valid(nino) is ok


@pytest.mark.parametrize(("dni", "ok"), [("12345678Z", True), ("X1234567L", True),
                                         ("12345678A", False), ("1234567Z", False)])  # fmt: skip
def test_dni_letter(dni: str, ok: bool) -> None:
    assert es_dni_valid(dni) is ok
