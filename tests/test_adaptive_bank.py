from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from test_adaptive_helpers import question
from vigie.core.adaptive import COMPETENCES, Bank, BankError, InvalidAnswer, load_bank, parse_bank
from vigie.core.adaptive.answers import check_answer, normalize
from vigie.core.adaptive.bank import DEFAULT_BANK_DIR, Option, Question


def test_shipped_bank_covers_every_competence_level_and_type() -> None:
    bank = load_bank()
    per_competence = Counter(q.competence for q in bank.questions)
    assert set(per_competence) == set(COMPETENCES)
    assert min(per_competence.values()) >= 15
    for competence in COMPETENCES:
        questions = [q for q in bank.questions if q.competence == competence]
        assert {q.level for q in questions} == set(range(1, 8))
        assert {q.type for q in questions} == {"single", "multiple", "short"}


def test_shipped_bank_is_cached_and_keys_check_right() -> None:
    bank = load_bank()
    assert load_bank() is bank
    for q in bank.questions:
        key: Any = list(q.answer) if q.type == "multiple" else q.answer[0]
        assert check_answer(q, key), q.id


def test_public_view_never_shows_the_key_or_parameters() -> None:
    bank = load_bank()
    for q in bank.questions:
        view = bank.public(q.id)
        assert set(view) == {
            "id", "competence", "competence_name", "type", "text", "options", "media"
        }  # fmt: skip
        assert all(set(o) == {"id", "text"} for o in view["options"])
    with_media = Question(
        **{**_fields(question("m")), "media": {"kind": "image", "src": "x.png", "alt": "x"}}
    )
    assert with_media.public()["media"] == {"kind": "image", "src": "x.png", "alt": "x"}


def _fields(q: Question) -> dict[str, Any]:
    return {name: getattr(q, name) for name in Question.__slots__}


def test_bank_rejects_duplicate_ids_and_knows_its_members() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        Bank([question("x"), question("x")])
    bank = Bank([question("x")])
    assert "x" in bank and "y" not in bank and len(bank) == 1


def _document() -> dict[str, Any]:
    return {
        "competence": "1.1",
        "questions": [
            {
                "id": "t-1",
                "competence": "1.1",
                "skill": "@t1",
                "level": 2,
                "type": "single",
                "text": "Quelle réponse ?",
                "options": [{"id": "a", "text": "Celle-ci"}, {"id": "b", "text": "Celle-là"}],
                "answer": "a",
                "irt": {"a": 1.0, "b": 0.5},
            },
            {
                "id": "t-2",
                "competence": "1.1",
                "skill": "@t2",
                "level": 3,
                "type": "multiple",
                "text": "Lesquelles ?",
                "options": [{"id": "a", "text": "Un"}, {"id": "b", "text": "Deux"}],
                "answer": ["a", "b"],
                "irt": {"a": 1.0, "b": 0.5},
                "media": {"kind": "link", "src": "https://example.org", "alt": "Un site"},
            },
            {
                "id": "t-3",
                "competence": "1.1",
                "skill": "@t3",
                "level": 7,
                "type": "short",
                "text": "Quel mot ?",
                "options": [],
                "answer": ["Élan", "elan"],
                "irt": {"a": 1.0, "b": 0.5},
                "media": None,
            },
        ],
    }


def test_a_valid_document_parses() -> None:
    bank = parse_bank({"1.1.json": _document()})
    assert [q.type for q in bank.questions] == ["single", "multiple", "short"]
    assert bank.get("t-2").media == {"kind": "link", "src": "https://example.org", "alt": "Un site"}


def _set(path: str, value: Any) -> Any:
    def mutate(doc: dict[str, Any]) -> Any:
        target: Any = doc
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is _DELETE:
            del target[last]
        elif last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value
        return doc

    return mutate


_DELETE = object()
_Q = "questions.0"
BROKEN = [
    (lambda d: [d], "(root)"),
    (_set("competence", "9.9"), "competence"),
    (_set("questions", []), "questions"),
    (_set("questions.0", "x"), "questions[0]"),
    (_set(f"{_Q}.skill", _DELETE), "questions[0].skill"),
    (_set(f"{_Q}.typo", 1), "questions[0].typo"),
    (_set(f"{_Q}.competence", "1.2"), "questions[0].competence"),
    (_set(f"{_Q}.level", 8), "questions[0].level"),
    (_set(f"{_Q}.level", True), "questions[0].level"),
    (_set(f"{_Q}.type", "essay"), "questions[0].type"),
    (_set(f"{_Q}.text", "  "), "questions[0].text"),
    (_set(f"{_Q}.options", [{"id": "a", "text": "Seule"}]), "questions[0].options"),
    (_set(f"{_Q}.options.1", {"id": "b"}), "questions[0].options[1]"),
    (_set(f"{_Q}.options.1", {"id": "a", "text": "Bis"}), "questions[0].options"),
    (_set(f"{_Q}.answer", "z"), "questions[0].answer"),
    (_set(f"{_Q}.irt", _DELETE), "questions[0].irt"),
    (_set(f"{_Q}.irt", {"a": 1.0}), "questions[0].irt"),
    (_set(f"{_Q}.irt.a", 0), "questions[0].irt.a"),
    (_set(f"{_Q}.irt.b", "1"), "questions[0].irt.b"),
    (_set(f"{_Q}.irt.b", False), "questions[0].irt.b"),
    (_set("questions.1.answer", "a"), "questions[1].answer"),
    (_set("questions.1.answer", ["a", "a"]), "questions[1].answer"),
    (_set("questions.1.answer", ["a", "z"]), "questions[1].answer"),
    (_set("questions.1.answer", [1]), "questions[1].answer"),
    (_set("questions.1.media", {"kind": "image"}), "questions[1].media"),
    (_set("questions.1.media.kind", "video"), "questions[1].media.kind"),
    (_set("questions.1.media.alt", ""), "questions[1].media.alt"),
    (_set("questions.2.options", [{"id": "a", "text": "x"}]), "questions[2].options"),
    (_set("questions.2.answer", ["ok", ""]), "questions[2].answer[1]"),
    (_set("questions.2.id", "t-1"), "questions[2].id"),
    (_set(f"{_Q}.enemies", "t-2"), "questions[0].enemies"),
    (_set(f"{_Q}.enemies", [""]), "questions[0].enemies"),
    (_set(f"{_Q}.enemies", ["t-2", "t-2"]), "questions[0].enemies"),
    (_set(f"{_Q}.enemies", ["t-1"]), "questions[0].enemies"),
    (_set(f"{_Q}.enemies", ["t-9"]), "questions[0].enemies"),
    (_set(f"{_Q}.enemies", ["t-2"]), "questions[0].enemies"),  # t-2 does not list t-1 back
]


@pytest.mark.parametrize(("mutate", "field"), BROKEN)
def test_a_broken_file_names_the_file_and_the_field(mutate: Any, field: str) -> None:
    with pytest.raises(BankError) as caught:
        parse_bank({"1.1.json": mutate(copy.deepcopy(_document()))})
    assert caught.value.file == "1.1.json"
    assert caught.value.field == field
    assert str(caught.value).startswith(f"1.1.json: {field}: ")


def test_enemies_are_parsed_symmetric_and_never_public() -> None:
    doc = _document()
    doc["questions"][0]["enemies"] = ["t-2", "t-3"]
    doc["questions"][1]["enemies"] = ["t-1"]
    doc["questions"][2]["enemies"] = ["t-1"]
    bank = parse_bank({"1.1.json": doc})
    assert bank.get("t-1").enemies == frozenset({"t-2", "t-3"})
    assert bank.get("t-2").enemies == frozenset({"t-1"})
    assert "enemies" not in bank.public("t-1")
    assert parse_bank({"1.1.json": _document()}).get("t-1").enemies == frozenset()


def test_an_asymmetric_enemy_across_files_names_the_listing_file() -> None:
    other = _document()
    other["competence"] = "1.2"
    for i, q in enumerate(other["questions"]):
        q["competence"], q["id"] = "1.2", f"u-{i + 1}"
    other["questions"][1]["enemies"] = ["t-1"]
    with pytest.raises(BankError) as caught:
        parse_bank({"1.1.json": _document(), "1.2.json": other})
    assert (caught.value.file, caught.value.field) == ("1.2.json", "questions[1].enemies")
    assert "must list 'u-2' back" in str(caught.value)


def test_a_duplicate_id_across_files_is_refused() -> None:
    other = _document()
    other["competence"] = "1.2"
    for q in other["questions"]:
        q["competence"] = "1.2"
    with pytest.raises(BankError, match=r"1\.2\.json: questions\[0\]\.id: duplicates 't-1'"):
        parse_bank({"1.1.json": _document(), "1.2.json": other})


def test_load_bank_reads_a_folder_and_refuses_bad_json(tmp_path: Path) -> None:
    with pytest.raises(BankError, match="no bank file"):
        load_bank(tmp_path)
    (tmp_path / "1.1.json").write_text(json.dumps(_document()), encoding="utf-8")
    assert len(load_bank(tmp_path)) == 3
    (tmp_path / "2.1.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(BankError, match=r"2\.1\.json: \(file\): is not valid UTF-8 JSON"):
        load_bank(tmp_path)
    assert DEFAULT_BANK_DIR.name == "bank"


def test_normalize_ignores_case_accents_spaces_and_typography() -> None:
    assert normalize("  Droit   D’AUTEUR ") == "droit d'auteur"
    assert normalize("Élan") == normalize("elan")


NBSP, NNBSP, THIN = "\u00a0", "\u202f", "\u2009"


@pytest.mark.parametrize(
    ("key", "accepted", "refused"),
    [
        # digit groups: any space between thousands, but only between thousands
        ("1024", ["1 024", f"1{NBSP}024", f"1{NNBSP}024", f"1{THIN}024", " 1024 "],
         ["1 0 2 4", "10 24", "1024 5"]),
        ("10000", ["10 000", f"10{NNBSP}000"], ["100 00", "10 0000", "1 000 0"]),
        ("1000000", ["1 000 000", f"1{NBSP}000{NBSP}000"], ["1 000000 0"]),
        # decimal comma or point
        ("9,5", ["9.5", " 9,5", "9,5"], ["95", "9 5", "9;5", "9,50"]),
        ("12 345,5", ["12345.5", "12 345.5"], ["12,345.5"]),
        # case, accents, ligatures
        ("Élan", ["elan", "ÉLAN", "élan", "e\u0301lan"], ["élans", "lan"]),
        ("œuvre", ["oeuvre", "Œuvre", "OEUVRE"], ["ouvre"]),
        # apostrophes, dashes and quotes typed on a phone or a keyboard
        ("droit d'auteur", ["droit d’auteur", "Droit  d‘Auteur", "droit dʼauteur"],
         ["droit dauteur", "droit d auteur"]),
        ("pare-feu", ["pare–feu", "pare—feu", "pare‑feu"], ["pare feu", "parefeu"]),
        ("site:", ["« site: »", f"«{NBSP}site:{NBSP}»", '"site:"', "“site:”"], ["site", "'site:'"]),
        ('"tour eiffel" hauteur', [f"«{NBSP}tour Eiffel{NBSP}» hauteur", "“tour eiffel” hauteur"],
         ["tour eiffel hauteur"]),
    ],
)  # fmt: skip
def test_normalize_accepts_equivalent_forms_and_refuses_others(
    key: str, accepted: list[str], refused: list[str]
) -> None:
    for form in accepted:
        assert normalize(form) == normalize(key), form
    for form in refused:
        assert normalize(form) != normalize(key), form


def test_short_answers_accept_number_formats() -> None:
    doc = _document()
    doc["questions"][2]["answer"] = ["1024"]
    short = parse_bank({"1.1.json": doc}).get("t-3")
    assert check_answer(short, "1 024") and check_answer(short, f"1{NNBSP}024")
    assert not check_answer(short, "1 02 4") and not check_answer(short, "« »")


def test_answer_checking_by_type() -> None:
    bank = parse_bank({"1.1.json": _document()})
    single, multiple, short = (bank.get(f"t-{i}") for i in (1, 2, 3))
    assert check_answer(single, "a") and not check_answer(single, "b")
    assert check_answer(multiple, ["b", "a"]) and not check_answer(multiple, ["a"])
    assert check_answer(short, " ELAN ") and check_answer(short, "élan")
    assert not check_answer(short, "élans") and not check_answer(short, "   ")
    for q in (single, multiple, short):
        assert check_answer(q, None) is False  # skipped: counts as wrong


@pytest.mark.parametrize(
    ("qid", "answer"),
    [
        ("t-1", "z"),
        ("t-1", ["a"]),
        ("t-2", "a"),
        ("t-2", []),
        ("t-2", ["a", "a"]),
        ("t-2", ["a", "z"]),
        ("t-2", [1]),
        ("t-3", ["elan"]),
        ("t-3", "x" * 201),
    ],
)
def test_invalid_answers_are_refused_with_a_stable_code(qid: str, answer: Any) -> None:
    bank = parse_bank({"1.1.json": _document()})
    with pytest.raises(InvalidAnswer) as caught:
        check_answer(bank.get(qid), answer)
    assert caught.value.code == "answer_invalid"
    assert isinstance(caught.value, ValueError)


def test_option_is_plain_data() -> None:
    assert Option("a", "oui") == Option("a", "oui")
