"""Every ended test is scored; the score is recomputable from what is stored."""

from __future__ import annotations

import json

import pytest

from test_adaptive_engine import page_key
from vigie.core.adaptive import CatState, load_bank, new_state, next_question, record_answer
from vigie.core.candidate import FINAL, Status
from vigie.core.outcome import SCORED, Outcome, judge, outcome, rescore


def _state(answers: int) -> CatState:
    """A test with ``answers`` answers, right every other question."""
    bank = load_bank()
    state = new_state(42)
    for i in range(answers):
        state, qid = next_question(bank, state)
        assert qid is not None
        state, _ = record_answer(bank, state, qid, page_key(bank, state, qid) if i % 2 else None)
    return state


def test_every_ended_test_is_scored_and_absence_is_not() -> None:
    bank = load_bank()
    cat = _state(32)
    assert FINAL - {Status.ABSENT} == SCORED
    for status in SCORED:
        done = outcome(bank, status, cat)
        assert done is not None and done.status is status
        assert done.answers == cat.answers and not done.result.rejected
    for status in set(Status) - SCORED:
        assert outcome(bank, status, cat) is None
    with pytest.raises(ValueError, match="no score"):
        judge(bank, Status.ABSENT, cat.answers)


def test_a_stored_outcome_reads_back_identical() -> None:
    bank = load_bank()
    done = outcome(bank, Status.FINISHED, _state(32))
    assert done is not None
    stored = json.loads(json.dumps(done.to_dict()))
    assert Outcome.from_dict(bank, stored) == done


@pytest.mark.parametrize(
    "data",
    [
        {"v": 9, "status": "finished", "answers": [], "abort_reason": None, "neutralized": []},
        {"v": 1, "status": "finished", "answers": []},
        {"v": 1, "status": "finished", "answers": 3, "abort_reason": None, "neutralized": []},
    ],
)
def test_a_malformed_outcome_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Outcome.from_dict(load_bank(), data)


def test_an_early_end_is_rescored_with_the_schools_abort_reason() -> None:
    bank = load_bank()
    live = outcome(bank, Status.ENDED_BY_INVIGILATOR, _state(25))
    assert live is not None and not live.result.rejected
    abandon = rescore(bank, live, abort_reason="candidate")
    technical = rescore(bank, live, abort_reason="technical")
    assert abandon.result.score < technical.result.score == live.result.score
    assert abandon.answers == live.answers and abandon.abort_reason == "candidate"
    short = outcome(bank, Status.ENDED_BY_INVIGILATOR, _state(12))
    assert short is not None and short.result.rejected and short.result.score == 0


def test_neutralized_questions_are_left_out_deterministically() -> None:
    bank = load_bank()
    done = outcome(bank, Status.FINISHED, _state(32))
    assert done is not None
    wrong = [q for q, ok in done.answers if not ok][:2]
    lifted = rescore(bank, done, abort_reason=None, neutralized=[wrong[1], wrong[0], wrong[0]])
    assert lifted.neutralized == tuple(sorted(wrong))
    assert lifted.result.counted == 30 and lifted.result.score >= done.result.score
    assert rescore(bank, done, abort_reason=None, neutralized=wrong) == lifted
