"""Choice of the next question: eligibility rules, then information with exposure control.

Eligibility (docs/domain.md "The test"): a question not yet shown, whose skill was neither
answered nor dropped after a live alert (questions of one skill are variants of one another),
that is no enemy of a question shown (the bank's ``enemies``: one gives the other away, or both
test one concept), and whose competence differs from those of the 2 previous questions.

Choice, two methods:

- ``randomesque``, the reference system's: one at random among the 5 most informative.
- ``stratified``, Vigie's default: a-stratification (Chang & Ying, 1999) with a progressive
  choice inside each stratum (Revuelta & Ponsoda, 1998). The bank is split into ``STRATA``
  layers by discrimination; the test walks them from the least to the most discriminating.
  Inside the layer, among the ``SHORTLIST`` most informative, it takes the one maximizing
  ``(1 - s) * U * I_max + s * I`` with ``U`` uniform on [0, 1] and ``s = (position / 32) ** 2``.
  Early picks, made when the estimate is rough and the same for many candidates, are spread
  widely; the best questions are kept for the end, where they carry the precision.
  See docs/decisions/0006-exposure-control.md.
"""

from __future__ import annotations

import enum
import functools
import random
from collections.abc import Sequence

from vigie.core.adaptive.bank import Bank, Question
from vigie.core.adaptive.irt import information

TEST_LENGTH = 32
COMPETENCE_SPACING = 2  # no two questions of one competence within 2 questions of each other
REFERENCE_TOP = 5
SHORTLIST = 25
STRATA = 5
ACCELERATION = 2.0  # s = (position / 32) ** 2: randomness fades slowly, then fast


class Method(enum.StrEnum):
    RANDOMESQUE = "randomesque"
    STRATIFIED = "stratified"


@functools.lru_cache(maxsize=8)
def strata(bank: Bank) -> dict[str, int]:
    """Stratum of each question, from 0 (least discriminating) to ``STRATA - 1``."""
    ordered = sorted(bank.questions, key=lambda q: (q.a, q.id))
    return {q.id: i * STRATA // len(ordered) for i, q in enumerate(ordered)}


def eligible(bank: Bank, answered: Sequence[str], dropped: Sequence[str]) -> list[Question]:
    """Questions that the rules allow next, in bank order."""
    shown = set(answered) | set(dropped)
    used_skills = {bank.get(q).skill for q in shown}
    recent = {bank.get(q).competence for q in answered[-COMPETENCE_SPACING:]}
    return [
        q
        for q in bank.questions
        if q.id not in shown
        and q.skill not in used_skills
        and q.competence not in recent
        and not q.enemies & shown  # one gives the other away, or both test one concept
    ]


def choose(
    bank: Bank,
    pool: Sequence[Question],
    theta: float,
    position: int,
    rng: random.Random,
    method: Method = Method.STRATIFIED,
) -> Question | None:
    """The next question among ``pool`` for the estimate ``theta`` (None if pool is empty)."""
    if not pool:
        return None
    ranked = sorted(
        ((information(theta, q.a, q.b), q) for q in pool), key=lambda x: (-x[0], x[1].id)
    )
    if method is Method.RANDOMESQUE:
        return rng.choice(ranked[:REFERENCE_TOP])[1]
    stage = min(position, TEST_LENGTH - 1) * STRATA // TEST_LENGTH
    stratum_of = strata(bank)
    # An exhausted layer (only in tiny banks) falls back to the whole pool.
    layer = [x for x in ranked if stratum_of[x[1].id] == stage] or ranked
    shortlist = layer[:SHORTLIST]
    s = (min(position, TEST_LENGTH) / TEST_LENGTH) ** ACCELERATION
    top = shortlist[0][0]
    return max(shortlist, key=lambda x: (1.0 - s) * rng.random() * top + s * x[0])[1]
