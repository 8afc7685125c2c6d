"""The question bank: schema, validation and loading (the only I/O of the adaptive core).

A bank is a folder of JSON files, one per competence (``bank/1.1.json``...). Each file is
checked field by field when loaded; a broken file refuses to load with the file and the field
named (``BankError``). IRT parameters are provisional estimates until calibration on real
answers (see docs/measurement.md).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vigie.core.adaptive.errors import BankError

COMPETENCES: dict[str, str] = {
    "1.1": "Mener une recherche et une veille d'information",
    "1.2": "Gérer des données",
    "1.3": "Traiter des données",
    "2.1": "Interagir",
    "2.2": "Partager et publier",
    "2.3": "Collaborer",
    "2.4": "S'insérer dans le monde numérique",
    "3.1": "Développer des documents textuels",
    "3.2": "Développer des documents multimédia",
    "3.3": "Adapter les documents à leur finalité",
    "3.4": "Programmer",
    "4.1": "Sécuriser l'environnement numérique",
    "4.2": "Protéger les données personnelles et la vie privée",
    "4.3": "Protéger la santé, le bien-être et l'environnement",
    "5.1": "Résoudre des problèmes techniques",
    "5.2": "Construire un environnement numérique",
}
MAX_LEVEL = 7
QuestionType = Literal["single", "multiple", "short"]
_TYPES: tuple[QuestionType, ...] = ("single", "multiple", "short")
_QUESTION_KEYS = {"id", "competence", "skill", "level", "type", "text", "options", "answer"}
_OPTIONAL_KEYS = {"media", "irt", "enemies"}
_MEDIA_KINDS = ("image", "link")
DEFAULT_BANK_DIR = Path(__file__).resolve().parents[2] / "bank"


@dataclass(frozen=True, slots=True)
class Option:
    id: str
    text: str


@dataclass(frozen=True, slots=True)
class Question:
    """One question, with its answer key and IRT parameters (server side only)."""

    id: str
    competence: str
    skill: str
    level: int
    type: QuestionType
    text: str
    options: tuple[Option, ...]
    answer: tuple[str, ...]  # option id(s), or accepted short answers
    a: float  # discrimination
    b: float  # difficulty
    media: Mapping[str, str] | None = None
    # Ids of questions that must not share a test with this one (one gives the other away,
    # or both test the same concept); symmetric across the bank.
    enemies: frozenset[str] = frozenset()

    def public(self) -> dict[str, Any]:
        """What a candidate may see: never the key nor the IRT parameters."""
        return {
            "id": self.id,
            "competence": self.competence,
            "competence_name": COMPETENCES[self.competence],
            "type": self.type,
            "text": self.text,
            "options": [{"id": o.id, "text": o.text} for o in self.options],
            "media": dict(self.media) if self.media is not None else None,
        }


class Bank:
    """An immutable, validated set of questions, indexed by id."""

    def __init__(self, questions: Iterable[Question]) -> None:
        ordered = sorted(questions, key=lambda q: q.id)
        self.questions: tuple[Question, ...] = tuple(ordered)
        self._by_id = {q.id: q for q in ordered}
        if len(self._by_id) != len(ordered):
            raise ValueError("duplicate question ids")

    def __len__(self) -> int:
        return len(self.questions)

    def __contains__(self, question_id: object) -> bool:
        return question_id in self._by_id

    def get(self, question_id: str) -> Question:
        """The question with this id (KeyError if unknown)."""
        return self._by_id[question_id]

    def public(self, question_id: str) -> dict[str, Any]:
        """The public view of a question, safe to send to a candidate."""
        return self.get(question_id).public()


def _fail(file: str, field: str, problem: str) -> BankError:
    return BankError(file, field, problem)


def _text(file: str, field: str, value: object, max_len: int = 2000) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise _fail(file, field, f"must be a non-empty string of at most {max_len} characters")
    return value


def _number(file: str, field: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
        raise _fail(file, field, f"must be a number in ]{low}, {high}]")
    return float(value)


def _options(file: str, field: str, value: object) -> tuple[Option, ...]:
    if not isinstance(value, list) or len(value) < 2:
        raise _fail(file, field, "must list at least 2 options")
    options = []
    for i, raw in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(raw, dict) or set(raw) != {"id", "text"}:
            raise _fail(file, where, "must be an object with exactly 'id' and 'text'")
        options.append(
            Option(_text(file, f"{where}.id", raw["id"], 20), _text(file, where, raw["text"]))
        )
    if len({o.id for o in options}) != len(options):
        raise _fail(file, field, "option ids must be unique")
    return tuple(options)


def _answer(
    file: str, field: str, value: object, kind: QuestionType, ids: set[str]
) -> tuple[str, ...]:
    if kind == "single":
        if not isinstance(value, str) or value not in ids:
            raise _fail(file, field, "must be the id of one option")
        return (value,)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _fail(file, field, "must be a non-empty list of strings")
    if len(set(value)) != len(value):
        raise _fail(file, field, "must not repeat a value")
    if kind == "multiple" and not set(value) <= ids:
        raise _fail(file, field, "must list option ids only")
    if kind == "short":
        for i, v in enumerate(value):
            _text(file, f"{field}[{i}]", v, 200)
    return tuple(value)


def _media(file: str, field: str, value: object) -> Mapping[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"kind", "src", "alt"}:
        raise _fail(file, field, "must be null or an object with 'kind', 'src' and 'alt'")
    if value["kind"] not in _MEDIA_KINDS:
        raise _fail(file, f"{field}.kind", f"must be one of {', '.join(_MEDIA_KINDS)}")
    # RGAA: every image needs a text alternative.
    return {
        "kind": value["kind"],
        "src": _text(file, f"{field}.src", value["src"]),
        "alt": _text(file, f"{field}.alt", value["alt"]),
    }


def _enemies(file: str, field: str, value: object) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(file, field, "must be a list of question ids")
    if len(set(value)) != len(value):
        raise _fail(file, field, "must not repeat an id")
    return frozenset(value)


def parse_question(file: str, field: str, raw: object, competence: str) -> Question:
    """Validate one question object of a bank file."""
    if not isinstance(raw, dict):
        raise _fail(file, field, "must be an object")
    missing = sorted(_QUESTION_KEYS - set(raw))
    if missing:
        raise _fail(file, f"{field}.{missing[0]}", "is missing")
    unknown = sorted(set(raw) - _QUESTION_KEYS - _OPTIONAL_KEYS)
    if unknown:
        raise _fail(file, f"{field}.{unknown[0]}", "is not a known field")
    if raw["competence"] != competence:
        raise _fail(file, f"{field}.competence", f"must be {competence!r}, the file's competence")
    level = raw["level"]
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= MAX_LEVEL:
        raise _fail(file, f"{field}.level", f"must be an integer from 1 to {MAX_LEVEL}")
    kind = raw["type"]
    if kind not in _TYPES:
        raise _fail(file, f"{field}.type", f"must be one of {', '.join(_TYPES)}")
    if kind == "short":
        if raw["options"] != []:
            raise _fail(file, f"{field}.options", "must be empty for a short answer")
        options: tuple[Option, ...] = ()
    else:
        options = _options(file, f"{field}.options", raw["options"])
    irt = raw.get("irt")
    if not isinstance(irt, dict) or set(irt) != {"a", "b"}:
        raise _fail(file, f"{field}.irt", "must be an object with exactly 'a' and 'b'")
    return Question(
        id=_text(file, f"{field}.id", raw["id"], 40),
        competence=competence,
        skill=_text(file, f"{field}.skill", raw["skill"], 80),
        level=level,
        type=kind,
        text=_text(file, f"{field}.text", raw["text"]),
        options=options,
        answer=_answer(file, f"{field}.answer", raw["answer"], kind, {o.id for o in options}),
        a=_number(file, f"{field}.irt.a", irt["a"], 0.0, 4.0),
        b=_number(file, f"{field}.irt.b", irt["b"], -9.0, 9.0),
        media=_media(file, f"{field}.media", raw.get("media")),
        enemies=_enemies(file, f"{field}.enemies", raw.get("enemies", [])),
    )


def parse_file(file: str, document: object) -> list[Question]:
    """Validate one decoded bank file: ``{"competence": "1.1", "questions": [...]}``."""
    if not isinstance(document, dict) or set(document) != {"competence", "questions"}:
        raise _fail(file, "(root)", "must be an object with exactly 'competence' and 'questions'")
    competence = document["competence"]
    if competence not in COMPETENCES:
        raise _fail(file, "competence", "must be one of the 16 competences")
    questions = document["questions"]
    if not isinstance(questions, list) or not questions:
        raise _fail(file, "questions", "must be a non-empty list")
    return [parse_question(file, f"questions[{i}]", q, competence) for i, q in enumerate(questions)]


def parse_bank(documents: Mapping[str, object]) -> Bank:
    """Validate decoded files (name -> document) into a bank; ids unique across files."""
    seen: dict[str, str] = {}
    where: dict[str, str] = {}  # question id -> its field, to name it in an enemy error
    questions: list[Question] = []
    for file in sorted(documents):
        for i, question in enumerate(parse_file(file, documents[file])):
            if question.id in seen:
                raise _fail(
                    file, f"questions[{i}].id", f"duplicates {question.id!r} of {seen[question.id]}"
                )
            seen[question.id] = file
            where[question.id] = f"questions[{i}].enemies"
            questions.append(question)
    if not questions:
        raise _fail("(bank)", "(files)", "no bank file found")
    bank = Bank(questions)
    _check_enemies(bank, seen, where)
    return bank


def _check_enemies(bank: Bank, files: Mapping[str, str], fields: Mapping[str, str]) -> None:
    """Every enemy exists, is not the question itself, and lists the question back."""
    for question in bank.questions:
        file, field = files[question.id], fields[question.id]
        for enemy in sorted(question.enemies):
            if enemy == question.id:
                raise _fail(file, field, "must not list the question itself")
            if enemy not in bank:
                raise _fail(file, field, f"names {enemy!r}, which is not in the bank")
            if question.id not in bank.get(enemy).enemies:
                raise _fail(file, field, f"names {enemy!r}, which must list {question.id!r} back")


def load_bank(path: Path | None = None) -> Bank:
    """Read and validate every ``*.json`` of the bank folder (cached for the default folder)."""
    if path is None:
        return _default_bank()
    documents: dict[str, object] = {}
    for file in sorted(path.glob("*.json")):
        try:
            documents[file.name] = json.loads(file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _fail(file.name, "(file)", f"is not valid UTF-8 JSON: {exc}") from exc
    return parse_bank(documents)


@functools.cache
def _default_bank() -> Bank:
    return load_bank(DEFAULT_BANK_DIR)
