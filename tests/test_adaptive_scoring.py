from __future__ import annotations

import pytest

from test_adaptive_helpers import question
from vigie.core.adaptive import COMPETENCES, Bank, load_bank, score
from vigie.core.adaptive.scoring import (
    MAX_SCORE,
    competence_level,
    level_thresholds,
    theta_to_score,
)


def _answers(n: int, right_every: int = 2) -> list[tuple[str, bool]]:
    bank = load_bank()
    picked, seen = [], set()
    for q in sorted(bank.questions, key=lambda q: (q.level, q.id)):
        if q.competence not in seen or len(seen) == len(COMPETENCES):
            picked.append(q.id)
            seen.add(q.competence)
    return [(qid, i % right_every == 0) for i, qid in enumerate(picked[:n])]


def test_fewer_than_20_answers_is_rejected_whatever_the_abort_reason() -> None:
    for reason in ("candidate", "technical", None):
        result = score(load_bank(), _answers(19), reason)
        assert result.rejected and result.score == 0
        assert set(result.levels.values()) == {0}
    assert not score(load_bank(), _answers(20), None).rejected


def test_no_answer_scores_nothing() -> None:
    """The prior alone once gave 417 points (level 3) to a test with no answer."""
    result = score(load_bank(), [], None)
    assert result.rejected and result.score == 0


def test_an_abandon_by_the_candidate_lowers_the_ability() -> None:
    bank = load_bank()
    answers = _answers(25)
    technical = score(bank, answers, "technical")
    abandon = score(bank, answers, "candidate")
    assert technical.theta == technical.theta_raw and technical.missing_counted_wrong == 0
    assert abandon.theta < abandon.theta_raw == technical.theta_raw
    assert abandon.missing_counted_wrong == 7 and abandon.score < technical.score
    assert (
        score(bank, _answers(31), "candidate").theta > abandon.theta
    )  # fewer missing, less lowered
    full = _answers(32)
    assert score(bank, full, "candidate").theta == score(bank, full, None).theta


def test_neutralizing_removes_questions_from_the_estimate_deterministically() -> None:
    bank = load_bank()
    answers = _answers(32)
    dropped = {answers[0][0], answers[4][0]}
    once = score(bank, answers, None, dropped)
    assert once == score(bank, answers, None, dropped)
    without = score(bank, [a for a in answers if a[0] not in dropped], None)
    assert (once.theta, once.score, once.counted) == (without.theta, without.score, 30)
    assert once.answered == 32


def test_an_unknown_abort_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="abort reason"):
        score(load_bank(), [], "bored")


def test_score_bands_and_cap() -> None:
    thresholds = level_thresholds(load_bank())
    assert list(thresholds) == sorted(thresholds)
    assert theta_to_score(-9.0, thresholds) == 0
    assert theta_to_score(thresholds[0], thresholds) == 64
    assert theta_to_score(thresholds[1], thresholds) == 128
    assert theta_to_score(thresholds[6], thresholds) == 768
    assert theta_to_score(9.0, thresholds) == MAX_SCORE
    scores = [theta_to_score(t / 10, thresholds) for t in range(-60, 60)]
    assert scores == sorted(scores) and max(scores) <= MAX_SCORE
    flat = (0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0)  # an empty band scores its start
    assert theta_to_score(0.0, flat) == 128
    assert theta_to_score(6.9999, (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0)) == MAX_SCORE


def test_levels_come_from_the_same_estimate() -> None:
    bank = load_bank()
    high = score(bank, [(q, True) for q, _ in _answers(32)], None)
    low = score(bank, [(q, False) for q, _ in _answers(32)], None)
    assert all(0 <= v <= 7 for v in high.levels.values()) and set(high.levels) == set(COMPETENCES)
    assert all(high.levels[c] >= low.levels[c] for c in COMPETENCES)
    assert high.score > low.score
    assert competence_level(-9.0, level_thresholds(bank, "1.1")) == 0
    assert competence_level(9.0, level_thresholds(bank, "1.1")) == 7
    assert high.to_dict()["levels"] == high.levels and high.to_dict()["rejected"] is False


def test_thresholds_fill_missing_levels_and_stay_ordered() -> None:
    bank = Bank(
        [
            question("x1", "1.1", level=1, b=-1.0),
            question("x2", "1.1", level=2, b=-2.0),  # harder level calibrated easier: kept in order
            question("y5", "1.2", level=5, b=1.0),
        ]
    )
    overall = level_thresholds(bank)
    assert overall[:2] == (-1.0, -1.0)
    assert overall[2] == -1.0  # level 3 absent everywhere: default -1, kept in order
    assert overall[4] == 1.0 and overall[6] == 3.0
    assert level_thresholds(bank, "1.2")[4] == 1.0
    assert level_thresholds(bank, "1.2")[0] == overall[0]
