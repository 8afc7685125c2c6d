"""One candidate's adaptive test: a small serializable state and pure functions over it.

The hub stores ``CatState.to_dict()`` with the candidate and calls, in turn,
``next_question`` -> ``record_answer`` (or ``neutralize_current`` after a validated live
alert). Randomness comes from a generator seeded by ``(seed, answers, dropped)``, so the same
state always yields the same next question: a resume continues exactly, on any hub process.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from vigie.core.adaptive.answers import Answer, check_answer
from vigie.core.adaptive.bank import Bank
from vigie.core.adaptive.errors import CatStateRefused
from vigie.core.adaptive.irt import START_THETA, Estimate, eap
from vigie.core.adaptive.presentation import present as _present
from vigie.core.adaptive.presentation import to_bank_answer
from vigie.core.adaptive.selection import TEST_LENGTH, Method, choose, eligible

STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class CatState:
    """Where a candidate stands: answers so far, the question on screen, the estimate."""

    seed: int
    answers: tuple[tuple[str, bool], ...] = ()  # (question id, right) in order
    current: str | None = None
    dropped: tuple[str, ...] = ()  # questions neutralized after a validated live alert
    theta: float = START_THETA

    @property
    def answered(self) -> tuple[str, ...]:
        return tuple(q for q, _ in self.answers)

    def to_dict(self) -> dict[str, Any]:
        """JSON- and msgpack-safe primitives only."""
        return {
            "v": STATE_VERSION,
            "seed": self.seed,
            "answers": [[q, ok] for q, ok in self.answers],
            "current": self.current,
            "dropped": list(self.dropped),
            "theta": self.theta,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CatState:
        """Inverse of ``to_dict``; ``ValueError`` on anything else."""
        try:
            if data["v"] != STATE_VERSION:
                raise ValueError(f"unknown state version {data['v']!r}")
            answers = tuple((str(q), bool(ok)) for q, ok in data["answers"])
            current = data["current"]
            return cls(
                seed=int(data["seed"]),
                answers=answers,
                current=None if current is None else str(current),
                dropped=tuple(str(q) for q in data["dropped"]),
                theta=float(data["theta"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed adaptive test state: {exc!r}") from exc


def new_state(seed: int) -> CatState:
    """A fresh test; ``seed`` makes its question choices reproducible."""
    return CatState(seed=seed)


def estimate(bank: Bank, answers: Iterable[tuple[str, bool]]) -> Estimate:
    """EAP ability estimate from answers, by question id."""
    responses = []
    for question_id, correct in answers:
        q = bank.get(question_id)
        responses.append((q.a, q.b, correct))
    return eap(responses)


def is_complete(state: CatState) -> bool:
    """Whether the 32 questions have been answered."""
    return len(state.answers) >= TEST_LENGTH


def next_question(
    bank: Bank, state: CatState, method: Method = Method.STRATIFIED
) -> tuple[CatState, str | None]:
    """The question to show: the current one if unanswered, else a new one; None when done.

    None also ends a test early if the rules leave no eligible question (never with the
    shipped bank: 16 competences, one question per skill).
    """
    if state.current is not None:
        return state, state.current
    if is_complete(state):
        return state, None
    rng = random.Random(f"vigie-cat:{state.seed}:{len(state.answers)}:{len(state.dropped)}")
    pool = eligible(bank, state.answered, state.dropped)
    question = choose(bank, pool, state.theta, len(state.answers), rng, method)
    if question is None:
        return state, None
    return replace(state, current=question.id), question.id


def present(bank: Bank, state: CatState, question_id: str) -> dict[str, Any]:
    """The question as this candidate's page shows it: options in the candidate's own order,
    under identifiers of their own (``vigie.core.adaptive.presentation``)."""
    return _present(bank, state.seed, question_id)


def bank_answer(bank: Bank, state: CatState, question_id: str, answer: Answer) -> Answer:
    """The page's answer (identifiers from ``present``) in the bank's option ids."""
    return to_bank_answer(bank, state.seed, question_id, answer)


def record_answer(
    bank: Bank, state: CatState, question_id: str, answer: Answer
) -> tuple[CatState, bool]:
    """Check and record the answer to the current question, and update the estimate.

    ``answer`` uses the identifiers the page was shown (``present``). A retry of the last
    recorded answer (same question) is idempotent: it returns the state unchanged and the
    result first recorded.
    """
    if state.current is None and state.answers and state.answers[-1][0] == question_id:
        return state, state.answers[-1][1]
    if question_id != state.current:
        raise CatStateRefused(
            "Cette question n'est pas la question en cours.", code="question_not_current"
        )
    correct = check_answer(bank.get(question_id), bank_answer(bank, state, question_id, answer))
    answers = (*state.answers, (question_id, correct))
    theta = estimate(bank, answers).theta
    return replace(state, answers=answers, current=None, theta=theta), correct


def neutralize_current(bank: Bank, state: CatState) -> CatState:
    """Drop the current question and its skill after a validated live alert (docs/domain.md 12).

    The question count does not advance; the next ``next_question`` gives a replacement.
    """
    if state.current is None or state.current not in bank:
        raise CatStateRefused("Aucune question en cours à neutraliser.", code="no_current_question")
    return replace(state, current=None, dropped=(*state.dropped, state.current))
