"""Eligibility (docs/domain.md flow, step 1): level >= 1 in at least 5 of the 16 competences."""

from __future__ import annotations

from collections.abc import Mapping

COMPETENCE_COUNT = 16
MIN_CERTIFIABLE_COMPETENCES = 5


def certifiable_count(levels: Mapping[str, int]) -> int:
    """How many competences reach level 1 in a prior profile."""
    return sum(1 for level in levels.values() if level >= 1)


def is_eligible(certifiable_competences: int) -> bool:
    """The profile export gives the count directly ("Comp. certifiables")."""
    return certifiable_competences >= MIN_CERTIFIABLE_COMPETENCES
