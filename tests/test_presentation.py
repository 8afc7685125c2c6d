"""Options shown per candidate: shuffled, opaque identifiers, mapped back on the server."""

from __future__ import annotations

import pytest

from test_adaptive_helpers import question
from vigie.core.adaptive import (
    Bank,
    InvalidAnswer,
    bank_answer,
    load_bank,
    new_state,
    next_question,
    present,
    record_answer,
)
from vigie.core.adaptive.bank import Option, Question


def _multiple() -> Question:
    options = tuple(Option(letter, f"option {letter}") for letter in "abcd")
    return Question(
        id="m-1", competence="1.1", skill="@m", level=2, type="multiple", text="Lesquelles ?",
        options=options, answer=("a", "c"), a=1.0, b=0.0,
    )  # fmt: skip


def _short() -> Question:
    return Question(
        id="s-1", competence="1.2", skill="@s", level=2, type="short", text="Combien ?",
        options=(), answer=("1024",), a=1.0, b=0.0,
    )  # fmt: skip


BANK = Bank([question("q-1"), _multiple(), _short()])


def test_the_page_never_sees_the_bank_letters_and_keeps_every_option_text() -> None:
    bank = load_bank()
    for q in bank.questions:
        if q.type == "short":
            continue
        view = present(bank, new_state(7), q.id)
        ids = [o["id"] for o in view["options"]]
        assert not {o.id for o in q.options} & set(ids)
        assert len(set(ids)) == len(ids)
        assert sorted(o["text"] for o in view["options"]) == sorted(o.text for o in q.options)
        assert "answer" not in view and "irt" not in view


def test_a_resume_shows_the_same_order_and_ids_and_candidates_differ() -> None:
    bank = load_bank()
    q = next(q for q in bank.questions if q.type == "single")
    first = present(bank, new_state(1), q.id)
    assert present(bank, new_state(1), q.id) == first
    orders = {tuple(o["text"] for o in present(bank, new_state(s), q.id)["options"])
              for s in range(40)}  # fmt: skip
    assert len(orders) > 1
    assert present(bank, new_state(2), q.id)["options"][0]["id"] != first["options"][0]["id"]


def test_the_right_position_is_spread_over_the_positions_shown() -> None:
    """A candidate who always takes the first option shown is right about 1 time in 3
    on three-option questions, whatever the bank's key letter."""
    q = BANK.get("q-1")
    right_first = sum(
        bank_answer(BANK, new_state(s), q.id, present(BANK, new_state(s), q.id)["options"][0]["id"])
        == "a"
        for s in range(300)
    )
    assert 60 < right_first < 140


def test_answers_are_mapped_to_the_bank_ids() -> None:
    state = new_state(3)
    by_text = {o["text"]: o["id"] for o in present(BANK, state, "m-1")["options"]}
    page = [by_text["option a"], by_text["option c"]]
    assert sorted(bank_answer(BANK, state, "m-1", page) or []) == ["a", "c"]
    assert bank_answer(BANK, state, "s-1", "1024") == "1024"
    assert bank_answer(BANK, state, "m-1", None) is None


@pytest.mark.parametrize("answer", ["a", "b", ["a"], ["zz"], [1], 3])
def test_bank_letters_or_ids_not_shown_are_invalid(answer: object) -> None:
    with pytest.raises(InvalidAnswer):
        bank_answer(BANK, new_state(3), "m-1", answer)


def test_record_answer_checks_the_mapped_answer() -> None:
    state, qid = next_question(BANK, new_state(5))
    assert qid is not None
    shown = present(BANK, state, qid)["options"]
    q = BANK.get(qid)
    if q.type == "short":
        right = q.answer[0]
    else:
        by_text = {o["text"]: o["id"] for o in shown}
        key = [by_text[o.text] for o in q.options if o.id in q.answer]
        right = key if q.type == "multiple" else key[0]
    _, correct = record_answer(BANK, state, qid, right)
    assert correct
    with pytest.raises(InvalidAnswer):
        record_answer(BANK, state, qid, "a" if q.type == "single" else ["a"])
