"""From answers to a result: ability, score, a level per competence, abort rules.

Rules (docs/domain.md "The test", docs/decisions/0006-exposure-control.md):

- Fewer than 20 answers: rejected (no score). The reference rule reads "with an abort reason":
  a test can only stop before 32 answers by being aborted, and until the school gives the
  reason at finalization it is not known yet; the prior alone must never score (it gave 417
  for no answer at all).
- 20 to 31 answers with abort reason ``candidate``: ability lowered before scoring, by counting
  each missing question as a wrong answer to a question at the candidate's own level (b = the
  current estimate, a = the bank's median discrimination), one after the other.
- Questions neutralized by the jury are removed from the estimate; the rest is recomputed,
  deterministically (no randomness is involved in scoring).
- Levels: level L starts at the mean difficulty of the level-L questions (where a candidate
  answers a typical level-L question right more often than not): bank-wide for the score,
  per competence for the competence levels. Score bands: 0-64, 64-128, then 128 per level,
  interpolated linearly inside a band, capped at 895.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vigie.core.adaptive.bank import COMPETENCES, MAX_LEVEL, Bank, Question
from vigie.core.adaptive.irt import eap
from vigie.core.adaptive.selection import TEST_LENGTH

MIN_ANSWERS = 20
MAX_SCORE = 895
BAND_STARTS = (0, 64, 128, 256, 384, 512, 640, 768, 896)  # levels 0..7, then the top
ABORT_REASONS = ("candidate", "technical")


@dataclass(frozen=True, slots=True)
class Result:
    """A candidate's certification result, with what a jury needs to explain it."""

    score: int
    levels: dict[str, int]
    rejected: bool
    theta: float  # the ability scored (after lowering, if any)
    theta_raw: float  # the ability from the counted answers alone
    se: float
    answered: int
    counted: int  # answered minus those neutralized by the jury
    missing_counted_wrong: int = 0
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe view of the result."""
        return {
            "score": self.score,
            "levels": dict(self.levels),
            "rejected": self.rejected,
            "theta": self.theta,
            "theta_raw": self.theta_raw,
            "se": self.se,
            "answered": self.answered,
            "counted": self.counted,
            "missing_counted_wrong": self.missing_counted_wrong,
            "notes": list(self.notes),
        }


def _thresholds(questions: Iterable[Question], fallback: Sequence[float]) -> tuple[float, ...]:
    by_level: dict[int, list[float]] = {}
    for q in questions:
        by_level.setdefault(q.level, []).append(q.b)
    out: list[float] = []
    for level in range(1, MAX_LEVEL + 1):
        value = statistics.fmean(by_level[level]) if level in by_level else fallback[level - 1]
        out.append(max(value, out[-1]) if out else value)  # keep levels in order
    return tuple(out)


def level_thresholds(bank: Bank, competence: str | None = None) -> tuple[float, ...]:
    """Ability at which levels 1..7 start, bank-wide or for one competence."""
    overall = _thresholds(bank.questions, [float(level - 4) for level in range(1, MAX_LEVEL + 1)])
    if competence is None:
        return overall
    return _thresholds((q for q in bank.questions if q.competence == competence), overall)


def theta_to_score(theta: float, thresholds: Sequence[float]) -> int:
    """Linear inside each score band; 0 below level 0's band, capped at 895."""
    knots = [
        thresholds[0] - (thresholds[1] - thresholds[0]),
        *thresholds,
        thresholds[-1] + (thresholds[-1] - thresholds[-2]),
    ]
    if theta < knots[0]:
        return 0
    for i in range(len(knots) - 1):
        low, high = knots[i], knots[i + 1]
        if theta < high:
            share = (theta - low) / (high - low) if high > low else 0.0
            return min(
                MAX_SCORE,
                math.floor(BAND_STARTS[i] + share * (BAND_STARTS[i + 1] - BAND_STARTS[i])),
            )
    return MAX_SCORE


def competence_level(theta: float, thresholds: Sequence[float]) -> int:
    """Number of levels whose threshold ``theta`` reaches (0..7)."""
    return sum(1 for t in thresholds if theta >= t)


def score(
    bank: Bank,
    answers: Sequence[tuple[str, bool]],
    abort_reason: str | None,
    neutralized: Collection[str] = frozenset(),
) -> Result:
    """Score a test from its (question id, right) answers, abort reason and jury neutralizations."""
    if abort_reason is not None and abort_reason not in ABORT_REASONS:
        raise ValueError(f"abort reason must be one of {ABORT_REASONS} or None")
    answered = len(answers)
    kept = [(q, ok) for q, ok in answers if q not in neutralized]
    responses = [(bank.get(q).a, bank.get(q).b, ok) for q, ok in kept]
    raw = eap(responses)
    if answered < MIN_ANSWERS:
        return Result(
            score=0,
            levels=dict.fromkeys(COMPETENCES, 0),
            rejected=True,
            theta=raw.theta,
            theta_raw=raw.theta,
            se=raw.se,
            answered=answered,
            counted=len(kept),
            notes=(f"rejected: {answered} answers, fewer than {MIN_ANSWERS}",),
        )
    final, missing = raw, 0
    notes: tuple[str, ...] = ()
    if abort_reason == "candidate" and answered < TEST_LENGTH:
        missing = TEST_LENGTH - answered
        a = statistics.median(q.a for q in bank.questions)
        for _ in range(missing):
            responses.append((a, final.theta, False))
            final = eap(responses)
        notes = (f"abandon by the candidate: {missing} missing answers counted wrong",)
    return Result(
        score=theta_to_score(final.theta, level_thresholds(bank)),
        levels={c: competence_level(final.theta, level_thresholds(bank, c)) for c in COMPETENCES},
        rejected=False,
        theta=final.theta,
        theta_raw=raw.theta,
        se=final.se,
        answered=answered,
        counted=len(kept),
        missing_counted_wrong=missing,
        notes=notes,
    )
