"""Small hand-made banks for the adaptive test's rule tests."""

from __future__ import annotations

from vigie.core.adaptive.bank import COMPETENCES, Bank, Option, Question

OPTIONS = (Option("a", "oui"), Option("b", "non"), Option("c", "peut-être"))


def question(
    qid: str,
    competence: str = "1.1",
    *,
    skill: str | None = None,
    level: int = 3,
    a: float = 1.2,
    b: float = 0.0,
) -> Question:
    return Question(
        id=qid,
        competence=competence,
        skill=skill or f"@{qid}",
        level=level,
        type="single",
        text=f"Question {qid} ?",
        options=OPTIONS,
        answer=("a",),
        a=a,
        b=b,
    )


def small_bank(per_competence: int = 3, competences: int = 16) -> Bank:
    """``per_competence`` questions in each of the first ``competences`` competences."""
    return Bank(
        question(f"{c}-{i}", c, level=1 + i % 7, b=-3.0 + 0.9 * (i % 7), a=0.8 + 0.1 * i)
        for c in list(COMPETENCES)[:competences]
        for i in range(per_competence)
    )
