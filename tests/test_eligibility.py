"""Eligibility (docs/domain.md flow, step 1): level >= 1 in at least 5 of the 16 competences."""

from __future__ import annotations

import pytest

from vigie.core.eligibility import (
    COMPETENCE_COUNT,
    MIN_CERTIFIABLE_COMPETENCES,
    certifiable_count,
    is_eligible,
)

# (Comp. certifiables, Certifiable) pairs of the profile export sample
# (/work/shared/data/profile-export-sample.csv): the export's own verdict.
PROFILE_EXPORT = [(0, "Non"), (1, "Non"), (2, "Non"), (3, "Non"), (4, "Non"), (5, "Oui"),
                  (6, "Oui"), (7, "Oui"), (8, "Oui"), (9, "Oui"), (16, "Oui")]  # fmt: skip
COMPETENCES = [
    f"{d}.{c}" for d, n in ((1, 3), (2, 4), (3, 4), (4, 3), (5, 2)) for c in range(1, n + 1)
]


def test_the_framework_has_16_competences_and_needs_5() -> None:
    assert len(COMPETENCES) == COMPETENCE_COUNT == 16
    assert MIN_CERTIFIABLE_COMPETENCES == 5


@pytest.mark.parametrize(("count", "eligible"), [(0, False), (4, False), (5, True), (16, True)])
def test_eligible_from_five_certifiable_competences(count: int, eligible: bool) -> None:
    assert is_eligible(count) is eligible


def test_certifiable_count_counts_levels_of_at_least_one() -> None:
    levels = dict.fromkeys(COMPETENCES, 0)
    assert certifiable_count(levels) == 0
    levels.update({"1.1": 1, "2.3": 7, "3.4": 2, "5.2": 1})
    assert certifiable_count(levels) == 4
    assert not is_eligible(certifiable_count(levels))
    levels["4.1"] = 1
    assert certifiable_count(levels) == 5
    assert is_eligible(certifiable_count(levels))
    assert certifiable_count({}) == 0


@pytest.mark.parametrize(("count", "verdict"), PROFILE_EXPORT)
def test_the_profile_export_sample_agrees_with_the_rule(count: int, verdict: str) -> None:
    assert is_eligible(count) is (verdict == "Oui")
