"""The outcome of an ended test: every test that started and ended is scored.

docs/domain.md "The test": the score comes from the answers, the abort reason and the questions
the jury neutralized. A test ends finished (32 answers), ended by the invigilator or ended at
finalization; each of these gets an ``Outcome`` stored with the attempt when it ends, then in
the records store. The abort reason is the school's to give at finalization, so the live score
of a test ended early is provisional: ``rescore`` recomputes it from the same stored answers
with the reason and the neutralizations (no randomness: the same inputs, the same result).
A candidate who never started (absent) gets no outcome.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from vigie.core.adaptive import Bank, CatState, Result, score
from vigie.core.candidate import Status

SCORED = frozenset({Status.FINISHED, Status.ENDED_BY_INVIGILATOR, Status.ENDED_BY_FINALIZATION})
OUTCOME_VERSION = 1


@dataclass(frozen=True, slots=True)
class Outcome:
    """A scored test: what was answered, under which rules, and the result."""

    status: Status
    answers: tuple[tuple[str, bool], ...]  # (question id, right), in order
    abort_reason: str | None
    neutralized: tuple[str, ...]
    result: Result

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe primitives: what the live store and the records keep."""
        return {
            "v": OUTCOME_VERSION,
            "status": self.status.value,
            "answers": [[q, ok] for q, ok in self.answers],
            "abort_reason": self.abort_reason,
            "neutralized": list(self.neutralized),
            "result": self.result.to_dict(),
        }

    @classmethod
    def from_dict(cls, bank: Bank, data: Mapping[str, Any]) -> Outcome:
        """Read back a stored outcome by recomputing its result (``ValueError`` if malformed)."""
        try:
            if data["v"] != OUTCOME_VERSION:
                raise ValueError(f"unknown outcome version {data['v']!r}")
            answers = tuple((str(q), bool(ok)) for q, ok in data["answers"])
            return judge(
                bank,
                Status(data["status"]),
                answers,
                data["abort_reason"],
                tuple(str(q) for q in data["neutralized"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed outcome: {exc!r}") from exc


def judge(
    bank: Bank,
    status: Status,
    answers: tuple[tuple[str, bool], ...],
    abort_reason: str | None = None,
    neutralized: Collection[str] = (),
) -> Outcome:
    """Score answers under the rules; ``ValueError`` for a status that is not an ended test."""
    if status not in SCORED:
        raise ValueError(f"a {status.value} test has no score")
    kept = tuple(sorted(set(neutralized)))
    return Outcome(status, answers, abort_reason, kept, score(bank, answers, abort_reason, kept))


def outcome(bank: Bank, status: Status, cat: CatState) -> Outcome | None:
    """The outcome of a test reaching ``status``: None unless the test ends with it."""
    if status not in SCORED:
        return None
    return judge(bank, status, cat.answers)


def rescore(
    bank: Bank,
    previous: Outcome,
    *,
    abort_reason: str | None,
    neutralized: Collection[str] = (),
) -> Outcome:
    """The same answers under a new abort reason or new neutralizations (finalization, jury)."""
    again = judge(bank, previous.status, previous.answers, abort_reason, neutralized)
    return replace(again, answers=previous.answers)
