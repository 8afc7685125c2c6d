"""Incident report categories (docs/domain.md "Formats and constants")."""

from __future__ import annotations

import pytest

from vigie.core.incidents import CATEGORIES, QUESTION_CATEGORIES, needs_question_number

DOMAIN_CODES = {"C1", "C2", "C4", "C6", "C7", "C8"} | {
    f"E{n}" for n in (1, 2, 3, 4, 5, 8, 9, 10, 11, 12)
}


def test_the_categories_are_those_of_the_incident_report() -> None:
    assert set(CATEGORIES) == DOMAIN_CODES
    assert all(label.strip() for label in CATEGORIES.values())
    assert len(set(CATEGORIES.values())) == len(CATEGORIES)


def test_question_categories_are_exactly_the_e_codes() -> None:
    assert {f"E{n}" for n in (1, 2, 3, 4, 5, 8, 9, 10, 11, 12)} == QUESTION_CATEGORIES


@pytest.mark.parametrize("code", sorted(DOMAIN_CODES | {"E6", "C3", "", "e1"}))
def test_only_e_categories_need_a_question_number(code: str) -> None:
    assert needs_question_number(code) is (code in DOMAIN_CODES and code.startswith("E"))
