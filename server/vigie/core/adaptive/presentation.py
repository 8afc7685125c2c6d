"""How a question is shown to one candidate: options shuffled, identifiers opaque.

A page must learn nothing about the key from what it receives (docs/measurement.md, "Blind
strategies"): with the bank's own option ids and order, "always b" or "always the first
option" would score. So each candidate sees the options of a question in an order of their
own, under identifiers of their own, and the server maps the answer back to the bank's ids.

Both the order and the identifiers derive from the attempt's secret seed and the question id:
nothing more is stored, a resume on any hub process shows the same order, and two candidates
(two seeds) see different orders and identifiers. The identifiers end with the position shown,
which makes them unique within the question; the position is what the page shows anyway.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from vigie.core.adaptive.answers import Answer
from vigie.core.adaptive.bank import Bank, Question
from vigie.core.adaptive.errors import InvalidAnswer


def shown_options(seed: int, question: Question) -> list[tuple[str, str]]:
    """(page id, bank id) of each option, in the order this candidate sees them."""
    order = [o.id for o in question.options]
    random.Random(f"vigie-options:{seed}:{question.id}").shuffle(order)
    shown = []
    for position, bank_id in enumerate(order):
        digest = hashlib.blake2s(
            f"{seed}:{question.id}:{bank_id}".encode(), digest_size=4
        ).hexdigest()
        shown.append((f"{digest}{position}", bank_id))
    return shown


def present(bank: Bank, seed: int, question_id: str) -> dict[str, Any]:
    """The question as this candidate's page receives it: no key, no bank letters."""
    question = bank.get(question_id)
    view = question.public()
    text = {o.id: o.text for o in question.options}
    view["options"] = [
        {"id": page_id, "text": text[bank_id]} for page_id, bank_id in shown_options(seed, question)
    ]
    return view


def to_bank_answer(bank: Bank, seed: int, question_id: str, answer: Answer) -> Answer:
    """The page's answer in the bank's option ids; ``InvalidAnswer`` for an id not shown.

    Short answers and skips (None) pass unchanged; the shape is checked by ``check_answer``.
    """
    question = bank.get(question_id)
    if question.type == "short" or answer is None:
        return answer
    mapping = dict(shown_options(seed, question))
    if isinstance(answer, str):
        if answer not in mapping:
            raise InvalidAnswer("Choisissez une des réponses proposées.")
        return mapping[answer]
    if isinstance(answer, list) and all(isinstance(a, str) and a in mapping for a in answer):
        return [mapping[a] for a in answer]
    raise InvalidAnswer("Cochez une ou plusieurs des réponses proposées.")
