"""The codes of docs/domain.md "Formats and constants"."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigie.core import codes
from vigie.core.codes import (
    is_access_code,
    is_session_password,
    is_verification_code,
    new_access_code,
    new_session_password,
    new_verification_code,
    normalize_access_code,
)

# Written out from docs/domain.md, not imported, so a typo in the module fails here.
PASSWORD_ALPHABET = "23456789bcdfghjkmpqrstvwxyBCDFGHJKMPQRSTVWXY!*?"
LETTERS = "BCDFGHJKMPQRTVWXY"
DIGITS = "2346789"
VERIFICATION = "2346789BCDFGHJKMPQRTVWXY"
DRAWS = 2000


def test_alphabets_are_those_of_the_reference_system() -> None:
    assert codes.PASSWORD_ALPHABET == PASSWORD_ALPHABET
    assert codes.ACCESS_CODE_LETTERS == LETTERS
    assert codes.ACCESS_CODE_DIGITS == DIGITS
    assert codes.VERIFICATION_ALPHABET == VERIFICATION


def test_session_passwords_are_6_distinct_characters_of_the_alphabet() -> None:
    drawn = [new_session_password() for _ in range(DRAWS)]
    for password in drawn:
        assert len(password) == 6
        assert len(set(password)) == 6
        assert set(password) <= set(PASSWORD_ALPHABET)
        assert is_session_password(password)
    assert len(set(drawn)) > DRAWS * 0.99  # drawn at random, not a fixed sequence
    # Over many draws every character of the alphabet shows up.
    assert set("".join(drawn)) == set(PASSWORD_ALPHABET)


@pytest.mark.parametrize(
    "value",
    ["", "b2c3d", "b2c3d4f", "b2c3db", "b2c3d1", "b2c3d0", "b2c3dO", "b2c3da", "b2c3dA", "b2c3d#",
     "b2c3dé", "b2c3dl", "b2c3dZ", "b2c3dz", "b2c3dN"],
)  # fmt: skip
def test_invalid_session_passwords(value: str) -> None:
    assert not is_session_password(value)


@pytest.mark.parametrize("value", ["b2c3d4", "!*?Y9x", "XYxy89"])
def test_valid_session_passwords(value: str) -> None:
    assert is_session_password(value)


def test_access_codes_are_4_letters_and_2_digits() -> None:
    drawn = [new_access_code() for _ in range(DRAWS)]
    pattern = re.compile(f"[{LETTERS}]{{4}}[{DIGITS}]{{2}}")
    for code in drawn:
        assert pattern.fullmatch(code), code
        assert is_access_code(code)
    assert len(set(drawn)) > DRAWS * 0.99
    assert {c for code in drawn for c in code[:4]} == set(LETTERS)
    assert {c for code in drawn for c in code[4:]} == set(DIGITS)


@pytest.mark.parametrize(
    "value",
    ["", "KDMF4", "KDMF477", "KDM477", "kdmf47", "KDMF45", "KDMF40", "KDMF41", "KDMA47",
     "KDMS47", "KDMZ47", "KDMN47", "KDML47", "4KDMF7", "KDMF47\n", " KDMF47", "ＫDMF47"],
)  # fmt: skip
def test_invalid_access_codes(value: str) -> None:
    assert not is_access_code(value)


def test_the_domain_example_is_an_access_code() -> None:
    assert is_access_code("KDMF47")


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [("kdmf47", "KDMF47"), ("  KdMf47\n", "KDMF47"), ("KDMF47", "KDMF47"), ("", "")],
)
def test_normalize_access_code(typed: str, normalized: str) -> None:
    assert normalize_access_code(typed) == normalized


def test_a_typed_code_matches_once_normalized() -> None:
    assert is_access_code(normalize_access_code(" kdmf47 "))
    assert not is_access_code(normalize_access_code("kd mf47"))


def test_verification_codes_are_p_dash_and_8_characters() -> None:
    drawn = [new_verification_code() for _ in range(DRAWS)]
    pattern = re.compile(f"P-[{VERIFICATION}]{{8}}")
    for code in drawn:
        assert pattern.fullmatch(code), code
        assert is_verification_code(code)
    assert len(set(drawn)) == DRAWS
    assert {c for code in drawn for c in code[2:]} == set(VERIFICATION)


@pytest.mark.parametrize(
    "value",
    ["", "P-2346789", "P-234678BCD", "p-2346789B", "Q-2346789B", "P2346789BC", "P-2346789b",
     "P-2346789A", "P-2346789S", "P-23467891", "P-23467895", "P-2346789B\n", "-P-2346789B"],
)  # fmt: skip
def test_invalid_verification_codes(value: str) -> None:
    assert not is_verification_code(value)


@given(st.text(alphabet=PASSWORD_ALPHABET, min_size=6, max_size=6))
def test_password_validator_accepts_exactly_distinct_characters(value: str) -> None:
    assert is_session_password(value) is (len(set(value)) == 6)


@given(st.text(max_size=10))
def test_validators_agree_with_the_formats(value: str) -> None:
    assert is_access_code(value) is bool(re.fullmatch(f"[{LETTERS}]{{4}}[{DIGITS}]{{2}}", value))
    assert is_verification_code(value) is bool(re.fullmatch(f"P-[{VERIFICATION}]{{8}}", value))
    assert is_session_password(value) is (
        len(value) == 6 and len(set(value)) == 6 and set(value) <= set(PASSWORD_ALPHABET)
    )
