"""Proof-reading of the question bank: rules a schema cannot express (``make bank-check``).

A bank can be valid and still be answered without reading: keys piled on one option letter
or on the longest option, a stem that contains its own answer, two questions that give each
other away. ``check_bank`` lists such problems; an empty list means the bank passes. French
typography and the "vous" address are checked too, since texts are shown as they are.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vigie.core.adaptive.answers import normalize
from vigie.core.adaptive.bank import Bank, Question, QuestionType, load_bank
from vigie.core.adaptive.errors import BankError

# Shares above which a blind strategy ("always b", "always tick a") starts to pay.
SINGLE_MAX_SHARE = 0.35
MULTIPLE_MAX_SHARE = 0.65
_LIMITS: tuple[tuple[QuestionType, float], ...] = (
    ("single", SINGLE_MAX_SHARE),
    ("multiple", MULTIPLE_MAX_SHARE),
)
# Options are shuffled per candidate, but their lengths are not: "always take the longest
# option" scored level 1 to 4 on the first bank, where 70 % of single keys were the longest.
LENGTH_RANK_MAX_SHARE = 0.40
# Shorter keys ("a", "7", "jpg") occur in stems by nature (code, file names) without giving
# anything away.
MIN_KEY_IN_STEM = 4
NBSP = "\u00a0"

# Second person singular as whole words; "ton" meaning a tone ("le ton urgent") is allowed.
_TUTOIEMENT = re.compile(
    r"(?<!\w)(?:(?:tu|te|toi|ta|tes|(?<!\ble )(?<!\bun )(?<!\bdu )ton)(?!\w)|t['’](?=\w))",
    re.IGNORECASE,
)
# Imperatives in the second person singular that open a sentence ("Réponds par...").
_IMPERATIVE = re.compile(
    r"(?:^|(?<=[.!?:]\s))"
    r"(?:Réponds|Donne|Écris|Indique|Choisis|Coche|Cite|Précise|Nomme|Tape)(?!\w)"
)
# Quoted speech («...») is someone else talking, not the test addressing the candidate.
_QUOTATION = re.compile(r"«[^»]*»")
_BARE_GUILLEMET = re.compile(f"«(?!{NBSP})|(?<!{NBSP})»")


@dataclass(frozen=True, slots=True)
class Problem:
    """One rule broken by one question (or by the bank as a whole)."""

    where: str  # a question id, or "(bank)"
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.rule}: {self.detail}"


def check(path: Path | None = None) -> list[Problem]:
    """Load the bank (the default one if ``path`` is None) and check it."""
    try:
        bank = load_bank(path)
    except BankError as exc:
        return [Problem("(bank)", "schema", str(exc))]
    return check_bank(bank)


def check_bank(bank: Bank) -> list[Problem]:
    """Every problem of a loaded bank, in a stable order."""
    problems = [*_balance(bank), *_length_ranks(bank), *_duplicates(bank)]
    for question in bank.questions:
        problems.extend(_enemies(bank, question))
        problems.extend(_typography(question))
        problems.extend(_key_in_stem(question))
    return problems


def key_shares(bank: Bank, kind: QuestionType) -> dict[str, float]:
    """Share of the questions of ``kind`` whose key holds each option id."""
    questions = [q for q in bank.questions if q.type == kind]
    counts = Counter(option_id for q in questions for option_id in q.answer)
    return {option_id: counts[option_id] / len(questions) for option_id in sorted(counts)}


def length_rank_shares(bank: Bank) -> dict[int, float]:
    """Share of single-choice keys by how many options of their question are longer."""
    questions = [q for q in bank.questions if q.type == "single"]
    ranks = Counter(_length_rank(q) for q in questions)
    return {rank: ranks[rank] / len(questions) for rank in sorted(ranks)}


def summary(bank: Bank) -> str:
    """One line: how many questions, and how the keys spread over ids, sizes and lengths."""
    kinds = Counter(q.type for q in bank.questions)
    sizes = Counter(len(q.answer) for q in bank.questions if q.type == "multiple")
    parts = [f"{len(bank)} questions ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})"]
    for kind, _ in _LIMITS:
        shares = " ".join(f"{i} {s:.0%}" for i, s in key_shares(bank, kind).items())
        parts.append(f"{kind} keys by option: {shares or '-'}")
    size_spread = " ".join(f"{n}:{c}" for n, c in sorted(sizes.items()))
    parts.append(f"multiple key sizes: {size_spread or '-'}")
    ranks = " ".join(f"{r}:{s:.0%}" for r, s in length_rank_shares(bank).items())
    parts.append(f"single keys by longer options: {ranks or '-'}")
    return "; ".join(parts)


def _length_rank(question: Question) -> int:
    key = next(o.text for o in question.options if o.id == question.answer[0])
    return sum(len(o.text) > len(key) for o in question.options)


def _balance(bank: Bank) -> Iterator[Problem]:
    for kind, limit in _LIMITS:
        for option_id, share in key_shares(bank, kind).items():
            if share > limit:
                yield Problem(
                    "(bank)",
                    "key balance",
                    f"option {option_id!r} is in {share:.0%} of the {kind} keys "
                    f"(at most {limit:.0%})",
                )


def _length_ranks(bank: Bank) -> Iterator[Problem]:
    for rank, share in length_rank_shares(bank).items():
        if share > LENGTH_RANK_MAX_SHARE:
            yield Problem(
                "(bank)",
                "key length",
                f"{share:.0%} of the single keys have {rank} longer option(s) "
                f"(at most {LENGTH_RANK_MAX_SHARE:.0%})",
            )


def _duplicates(bank: Bank) -> Iterator[Problem]:
    first: dict[str, str] = {}
    for question in bank.questions:
        stem = normalize(question.text)
        if stem in first:
            yield Problem(question.id, "duplicate stem", f"same text as {first[stem]}")
        else:
            first[stem] = question.id


def _enemies(bank: Bank, question: Question) -> Iterator[Problem]:
    # parse_bank refuses these already; a Bank built in code has not been through it.
    for enemy in sorted(question.enemies):
        if enemy == question.id:
            yield Problem(question.id, "enemies", "lists itself")
        elif enemy not in bank:
            yield Problem(question.id, "enemies", f"{enemy} is not in the bank")
        elif question.id not in bank.get(enemy).enemies:
            yield Problem(question.id, "enemies", f"{enemy} does not list it back")


def _texts(question: Question) -> Iterator[tuple[str, str]]:
    """(field, text) of everything a candidate reads."""
    yield "text", question.text
    for option in question.options:
        yield f"option {option.id}", option.text
    if question.media is not None:
        yield "media alt", question.media["alt"]


def _typography(question: Question) -> Iterator[Problem]:
    for field, text in _texts(question):
        addressed = _QUOTATION.sub("«»", text)
        for found in (_TUTOIEMENT.search(addressed), _IMPERATIVE.search(addressed)):
            if found is not None:
                yield Problem(question.id, "vous", f"{field} says {found.group()!r}; use vous")
        if '"' in text:
            yield Problem(question.id, "quotes", f"{field} has a straight double quote; use « »")
        if _BARE_GUILLEMET.search(text):
            yield Problem(
                question.id, "quotes", f"{field}: « and » need a non-breaking space inside"
            )


def _key_in_stem(question: Question) -> Iterator[Problem]:
    if question.type == "short":
        keys = list(question.answer)
    else:
        texts = {o.id: o.text for o in question.options}
        keys = [texts[option_id] for option_id in question.answer]
    stem = normalize(question.text)
    for key in keys:
        wanted = normalize(key)
        if len(wanted) >= MIN_KEY_IN_STEM and re.search(rf"(?<!\w){re.escape(wanted)}(?!\w)", stem):
            yield Problem(question.id, "key in stem", f"the stem contains the key {key!r}")
