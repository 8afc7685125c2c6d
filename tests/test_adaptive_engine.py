from __future__ import annotations

import json
import random
from typing import Any

import pytest

from test_adaptive_helpers import question, small_bank
from vigie.core.adaptive import (
    TEST_LENGTH,
    Bank,
    CatState,
    CatStateRefused,
    InvalidAnswer,
    Method,
    is_complete,
    load_bank,
    neutralize_current,
    new_state,
    next_question,
    present,
    record_answer,
)
from vigie.core.adaptive.irt import GRID, START_THETA, eap, information, probability
from vigie.core.adaptive.selection import choose, eligible


def page_key(bank: Bank, state: CatState, question_id: str) -> Any:
    """The right answer in the identifiers this candidate's page was shown."""
    q = bank.get(question_id)
    if q.type == "short":
        return q.answer[0]
    by_text = {o["text"]: o["id"] for o in present(bank, state, question_id)["options"]}
    key = [by_text[o.text] for o in q.options if o.id in q.answer]
    return key if q.type == "multiple" else key[0]


def _run(bank: Bank, seed: int, method: Method = Method.STRATIFIED) -> CatState:
    """A full test where the candidate answers right every other question."""
    state = new_state(seed)
    while True:
        state, qid = next_question(bank, state, method)
        if qid is None:
            return state
        key = page_key(bank, state, qid) if len(state.answers) % 2 else None
        state, _ = record_answer(bank, state, qid, key)


@pytest.mark.parametrize("method", list(Method))
def test_a_test_has_32_questions_spaced_by_competence_and_skill(method: Method) -> None:
    bank = load_bank()
    state = _run(bank, seed=7, method=method)
    assert len(state.answers) == TEST_LENGTH and is_complete(state)
    competences = [bank.get(q).competence for q in state.answered]
    for i, c in enumerate(competences):
        assert c not in competences[max(0, i - 2) : i], f"question {i + 1} repeats {c}"
    skills = [bank.get(q).skill for q in state.answered]
    assert len(set(skills)) == len(skills)
    assert [ok for _, ok in state.answers] == [i % 2 == 1 for i in range(TEST_LENGTH)]
    assert next_question(bank, state) == (state, None)


def test_the_first_question_is_chosen_for_an_estimate_of_minus_3() -> None:
    state = new_state(1)
    assert state.theta == START_THETA
    bank = load_bank()
    _, qid = next_question(bank, state, Method.RANDOMESQUE)
    assert qid is not None
    ranked = sorted(bank.questions, key=lambda q: -information(START_THETA, q.a, q.b))
    assert qid in {q.id for q in ranked[:5]}


def test_same_seed_same_test_and_seeds_differ() -> None:
    bank = load_bank()
    assert _run(bank, 3) == _run(bank, 3)
    assert _run(bank, 3).answered != _run(bank, 4).answered


def test_a_resume_from_the_stored_state_continues_exactly() -> None:
    bank = load_bank()
    whole = _run(bank, 11)
    state = new_state(11)
    for i in range(TEST_LENGTH):
        state, qid = next_question(bank, state)
        stored = json.loads(json.dumps(state.to_dict()))  # what the hub keeps
        state = CatState.from_dict(stored)
        assert next_question(bank, state) == (state, qid)  # asking again shows the same question
        assert qid is not None
        state, _ = record_answer(bank, state, qid, page_key(bank, state, qid) if i % 2 else None)
    assert state == whole


@pytest.mark.parametrize(
    "data",
    [
        {"v": 2, "seed": 1, "answers": [], "current": None, "dropped": [], "theta": 0.0},
        {"v": 1, "seed": 1, "answers": [], "current": None, "dropped": []},
        {"v": 1, "seed": 1, "answers": 3, "current": None, "dropped": [], "theta": 0.0},
    ],
)
def test_a_malformed_state_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"version|malformed"):
        CatState.from_dict(data)


def test_state_round_trip_keeps_current_question() -> None:
    state = CatState(seed=5, answers=(("x", True),), current="y", dropped=("z",), theta=0.25)
    assert CatState.from_dict(state.to_dict()) == state


def test_answering_another_question_is_refused_and_a_retry_is_idempotent() -> None:
    bank = load_bank()
    state, qid = next_question(bank, new_state(2))
    assert qid is not None
    other = next(q.id for q in bank.questions if q.id != qid)
    with pytest.raises(CatStateRefused) as caught:
        record_answer(bank, state, other, None)
    assert caught.value.code == "question_not_current"
    answered, right = record_answer(bank, state, qid, page_key(bank, state, qid))
    assert right
    assert record_answer(bank, answered, qid, None) == (answered, True)
    with pytest.raises(CatStateRefused):
        record_answer(bank, answered, other, None)


def test_an_invalid_answer_changes_nothing() -> None:
    bank = load_bank()
    state, qid = next_question(bank, new_state(2))
    assert qid is not None
    with pytest.raises(InvalidAnswer) as caught:
        record_answer(bank, state, qid, {"not": "an answer"})  # type: ignore[arg-type]
    assert caught.value.code == "answer_invalid"


def test_a_validated_alert_drops_the_question_and_its_skill() -> None:
    twins = [
        question("twin-1", "1.1", skill="@same", b=-3.0),
        question("twin-2", "1.1", skill="@same", b=-3.0),
    ]
    bank = Bank([*twins, *small_bank(per_competence=2, competences=4).questions])
    state = new_state(9)
    state, first = next_question(bank, state, Method.RANDOMESQUE)
    while first not in ("twin-1", "twin-2"):
        state = new_state(state.seed + 1)
        state, first = next_question(bank, state, Method.RANDOMESQUE)
    state = neutralize_current(bank, state)
    assert state.current is None and state.dropped == (first,) and state.answers == ()
    for _ in range(7):  # every later question avoids the dropped question's skill
        state, qid = next_question(bank, state)
        assert qid is not None and bank.get(qid).skill != "@same"
        state, _ = record_answer(bank, state, qid, page_key(bank, state, qid))
    with pytest.raises(CatStateRefused) as caught:
        neutralize_current(bank, state)
    assert caught.value.code == "no_current_question"


def test_the_replacement_keeps_the_question_count() -> None:
    bank = load_bank()
    state = new_state(4)
    for _ in range(5):
        state, qid = next_question(bank, state)
        assert qid is not None
        state, _ = record_answer(bank, state, qid, None)
    state, dropped = next_question(bank, state)
    state = neutralize_current(bank, state)
    state, replacement = next_question(bank, state)
    assert replacement not in (None, dropped) and len(state.answers) == 5
    recent = {bank.get(q).competence for q in state.answered[-2:]}
    assert replacement is not None and bank.get(replacement).competence not in recent


def test_neutralizing_an_unknown_current_question_is_refused() -> None:
    with pytest.raises(CatStateRefused):
        neutralize_current(load_bank(), CatState(seed=1, current="nope"))


def test_a_bank_the_rules_exhaust_ends_the_test_early() -> None:
    bank = small_bank(per_competence=2, competences=3)  # 6 questions, 3 competences
    state = _run(bank, 1)
    assert len(state.answers) == 6
    assert not is_complete(state)


def test_choose_on_an_empty_pool_and_outside_the_test_length() -> None:
    bank = small_bank(per_competence=1, competences=16)
    rng = random.Random(0)
    assert choose(bank, [], 0.0, 0, rng) is None
    chosen = choose(bank, bank.questions, 0.0, TEST_LENGTH + 3, rng)
    assert chosen is not None
    assert eligible(bank, [chosen.id], []) == [
        q for q in bank.questions if q.competence != chosen.competence
    ]


def test_irt_model_and_eap() -> None:
    assert probability(0.0, 1.0, 0.0) == 0.5
    assert probability(-20.0, 2.0, 9.0) > 0.0  # no overflow on the far side
    assert probability(20.0, 2.0, -9.0) <= 1.0
    assert information(0.0, 2.0, 0.0) == pytest.approx(1.0)
    prior = eap([])
    assert prior.theta == pytest.approx(0.0, abs=1e-9) and prior.se == pytest.approx(1.5, abs=0.01)
    assert eap([(1.5, 0.0, True)] * 5).theta > 0.5 > -0.5 > eap([(1.5, 0.0, False)] * 5).theta
    assert (GRID[0], GRID[-1], len(GRID)) == (-9.0, 9.0, 181)


def test_an_enemy_of_a_question_shown_is_never_eligible() -> None:
    from dataclasses import replace

    base = small_bank(per_competence=2, competences=4)
    first, other, second, *rest = base.questions  # second: another competence than first
    bank = Bank(
        [
            replace(first, enemies=frozenset({second.id})),
            replace(second, enemies=frozenset({first.id})),
            other,
            *rest,
        ]
    )
    assert first.competence != second.competence
    assert second.id in {q.id for q in eligible(bank, (), ())}
    assert second.id not in {q.id for q in eligible(bank, (first.id,), ())}
    assert second.id not in {q.id for q in eligible(bank, (), (first.id,))}  # dropped too


def test_the_shipped_banks_enemies_never_meet_in_a_test() -> None:
    bank = load_bank()
    assert any(q.enemies for q in bank.questions)
    for seed in range(60):
        shown = set(_run(bank, seed).answered)
        for qid in shown:
            assert not bank.get(qid).enemies & shown
