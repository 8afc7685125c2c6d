"""Answer checking: single choice exact, multiple choice exact set, short answers normalized.

A candidate may also skip a question ("Je passe"): the answer ``None`` counts as wrong.
"""

from __future__ import annotations

import re
import unicodedata

from vigie.core.adaptive.bank import Question
from vigie.core.adaptive.errors import InvalidAnswer

Answer = str | list[str] | None
MAX_SHORT_ANSWER = 200
_SPACES = re.compile(r"\s+")
# Typographic variants that a keyboard or a phone may produce for the same character.
_TYPOGRAPHY = str.maketrans(
    {
        "’": "'", "‘": "'", "ʼ": "'", "´": "'",
        "«": '"', "»": '"', "“": '"', "”": '"', "„": '"',
        "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-",
        "œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae",
    }
)  # fmt: skip
# French quotes carry (non-breaking) spaces inside: « site » and "site" are the same answer,
# and an answer quoted as a whole is the answer.
_QUOTED = re.compile(r'"\s*([^"]*?)\s*"')
_WHOLLY_QUOTED = re.compile(r'^"([^"]*)"$')
# Digit groups: "1 024" (any space, thin or non-breaking included) is 1024; the grouping is by
# thousands, so "30 18" stays two numbers.
_DIGIT_GROUP = re.compile(r"(?<=\d) (?=\d{3}(?!\d))")
# Decimal comma or point: "9,5" and "9.5" are the same number.
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")


def normalize(text: str) -> str:
    """Compare short answers regardless of case, accents, spacing, quotes and number format."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TYPOGRAPHY))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    spaced = _SPACES.sub(" ", stripped.casefold()).strip()
    unquoted = _WHOLLY_QUOTED.sub(r"\1", _QUOTED.sub(r'"\1"', spaced))
    return _DECIMAL_COMMA.sub(".", _DIGIT_GROUP.sub("", unquoted))


def check_answer(question: Question, answer: Answer) -> bool:
    """Whether ``answer`` is right; ``InvalidAnswer`` if it does not fit the question."""
    if answer is None:
        return False
    option_ids = {o.id for o in question.options}
    if question.type == "single":
        if not isinstance(answer, str) or answer not in option_ids:
            raise InvalidAnswer("Choisissez une des réponses proposées.")
        return answer == question.answer[0]
    if question.type == "multiple":
        if (
            not isinstance(answer, list)
            or not answer
            or not all(isinstance(a, str) and a in option_ids for a in answer)
            or len(set(answer)) != len(answer)
        ):
            raise InvalidAnswer("Cochez une ou plusieurs des réponses proposées.")
        return set(answer) == set(question.answer)
    if not isinstance(answer, str) or len(answer) > MAX_SHORT_ANSWER:
        raise InvalidAnswer(f"Écrivez une réponse de {MAX_SHORT_ANSWER} caractères au plus.")
    given = normalize(answer)
    return given != "" and any(given == normalize(v) for v in question.answer)
