"""The adaptive test: question bank, item selection and scoring (pure, no I/O but the bank).

API for the hub::

    bank = load_bank()                     # validated, cached; BankError names file and field
    bank.get(question_id) -> Question      # with key and IRT parameters: server side only
    bank.public(question_id) -> dict       # id, competence, type, text, options, media
    present(bank, state, question_id)      # the same, as this candidate sees it: options
                                           # shuffled per candidate, opaque option ids
    state = new_state(seed)                # CatState, frozen; to_dict() / CatState.from_dict()
    state, qid = next_question(bank, state)            # qid None: the test is complete
    state, right = record_answer(bank, state, qid, answer)
        # answer: option id (single), list of option ids (multiple), text (short), None (skip),
        # in the ids ``present`` gave the page; bank_answer(...) maps them to the bank's;
        # InvalidAnswer (code "answer_invalid"); CatStateRefused if qid is not current
    state = neutralize_current(bank, state)            # validated live alert: replacement next
    result = score(bank, state.answers, abort_reason, neutralized)   # Result, deterministic

``abort_reason`` is None, ``"candidate"`` or ``"technical"``; ``neutralized`` is the set of
question ids the jury neutralized afterwards.
"""

from vigie.core.adaptive.answers import Answer, check_answer, normalize
from vigie.core.adaptive.bank import COMPETENCES, Bank, Option, Question, load_bank, parse_bank
from vigie.core.adaptive.engine import (
    CatState,
    bank_answer,
    estimate,
    is_complete,
    neutralize_current,
    new_state,
    next_question,
    present,
    record_answer,
)
from vigie.core.adaptive.errors import BankError, CatStateRefused, InvalidAnswer
from vigie.core.adaptive.scoring import Result, score
from vigie.core.adaptive.selection import TEST_LENGTH, Method

__all__ = [
    "COMPETENCES",
    "TEST_LENGTH",
    "Answer",
    "Bank",
    "BankError",
    "CatState",
    "CatStateRefused",
    "InvalidAnswer",
    "Method",
    "Option",
    "Question",
    "Result",
    "bank_answer",
    "check_answer",
    "estimate",
    "is_complete",
    "load_bank",
    "neutralize_current",
    "new_state",
    "next_question",
    "normalize",
    "parse_bank",
    "present",
    "record_answer",
    "score",
]
