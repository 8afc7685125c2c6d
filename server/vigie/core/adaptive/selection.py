"""Choice of the next question: eligibility rules, then information with exposure control.

Eligibility (DOMAIN.md "The test"): a question not yet shown, whose skill was neither answered
nor dropped after a live alert (questions of one skill are variants of one another), and whose
competence differs from those of the 2 previous questions.

Choice, two methods:

- ``randomesque``, the reference system's: one at random among the 5 most informative.
- ``progressive`` (Revuelta & Ponsoda, 1998), Vigie's default: among the ``SHORTLIST`` most
  informative, the one maximizing ``(1 - s) * U * I_max + s * I``, where ``U`` is uniform on
  [0, 1] and ``s`` grows from 0 to 1 along the test. Early picks, made when the estimate is
  still rough, are spread widely; late picks, which carry the precision, are the most
  informative. See docs/decisions/0006-exposure-control.md for why.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence

from vigie.core.adaptive.bank import Bank, Question
from vigie.core.adaptive.irt import information

TEST_LENGTH = 32
COMPETENCE_SPACING = 2  # no two questions of one competence within 2 questions of each other
REFERENCE_TOP = 5
SHORTLIST = 30


class Method(enum.StrEnum):
    RANDOMESQUE = "randomesque"
    PROGRESSIVE = "progressive"


def eligible(bank: Bank, answered: Sequence[str], dropped: Sequence[str]) -> list[Question]:
    """Questions that the rules allow next, in bank order."""
    shown = set(answered) | set(dropped)
    used_skills = {bank.get(q).skill for q in shown}
    recent = {bank.get(q).competence for q in answered[-COMPETENCE_SPACING:]}
    return [
        q
        for q in bank.questions
        if q.id not in shown and q.skill not in used_skills and q.competence not in recent
    ]


def choose(
    pool: Sequence[Question],
    theta: float,
    position: int,
    rng: random.Random,
    method: Method = Method.PROGRESSIVE,
) -> Question | None:
    """The next question among ``pool`` for the estimate ``theta`` (None if pool is empty)."""
    if not pool:
        return None
    ranked = sorted(
        ((information(theta, q.a, q.b), q) for q in pool), key=lambda x: (-x[0], x[1].id)
    )
    if method is Method.RANDOMESQUE:
        return rng.choice(ranked[:REFERENCE_TOP])[1]
    shortlist = ranked[:SHORTLIST]
    s = min(position / TEST_LENGTH, 1.0)
    top = shortlist[0][0]
    return max(shortlist, key=lambda x: (1.0 - s) * rng.random() * top + s * x[0])[1]
