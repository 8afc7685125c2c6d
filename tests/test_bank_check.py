from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from vigie.core.adaptive import Bank, load_bank, parse_bank
from vigie.core.adaptive.bank import Option, Question
from vigie.core.adaptive.bank_check import (
    NBSP,
    Problem,
    check,
    check_bank,
    key_shares,
    length_rank_shares,
    summary,
)

ROOT = Path(__file__).resolve().parents[1]


def _single(qid: str, key: str, texts: list[str]) -> dict[str, Any]:
    return {
        "id": qid, "competence": "1.1", "skill": f"@{qid}", "level": 2, "type": "single",
        "text": f"Question {qid} ?", "answer": key, "irt": {"a": 1.0, "b": 0.0},
        "options": [{"id": i, "text": t} for i, t in zip("abcd", texts, strict=True)],
    }  # fmt: skip


def _document() -> dict[str, Any]:
    """A small bank that breaks no rule: keys on every letter, at every length rank."""
    multiple = {
        "id": "m-1", "competence": "1.1", "skill": "@m1", "level": 3, "type": "multiple",
        "text": "Lesquelles ?", "answer": ["a", "b"], "irt": {"a": 1.0, "b": 0.0},
        "options": [{"id": i, "text": f"Choix {i}"} for i in "abcd"],
    }  # fmt: skip
    short = {
        "id": "t-1", "competence": "1.1", "skill": "@t1", "level": 4, "type": "short",
        "text": "Quel mot ?", "options": [], "answer": ["élan"], "irt": {"a": 1.0, "b": 0.0},
    }  # fmt: skip
    return {
        "competence": "1.1",
        "questions": [
            _single("s-1", "a", ["Bonne réponse longue", "Non", "Faux", "Nul"]),
            _single("s-2", "b", ["Une mauvaise réponse longue", "Bonne réponse", "Non", "Nul"]),
            _single("s-3", "c", ["Une mauvaise réponse longue", "Encore fausse aussi", "Oui", "N"]),
            _single("s-4", "d", ["Une mauvaise réponse", "Une autre fausse", "Fausse", "Oui"]),
            multiple,
            {**copy.deepcopy(multiple), "id": "m-2", "skill": "@m2", "answer": ["c", "d"],
             "text": "Et celles-ci ?"},
            short,
        ],
    }  # fmt: skip


def _problems(mutate: Any = None) -> list[Problem]:
    document = _document()
    if mutate is not None:
        mutate(document)
    return check_bank(parse_bank({"1.1.json": document}))


def _rules(mutate: Any = None) -> set[str]:
    return {p.rule for p in _problems(mutate)}


def _set_text(text: str, where: str = "text", index: int = 0) -> Any:
    def mutate(document: dict[str, Any]) -> None:
        question = document["questions"][index]
        if where == "text":
            question["text"] = text
        else:
            question["options"][int(where)]["text"] = text

    return mutate


def test_the_shipped_bank_passes() -> None:
    assert check() == []
    line = summary(load_bank())
    assert line.startswith("256 questions (")
    assert "single keys by option: a " in line and "multiple key sizes: " in line


def test_a_clean_small_bank_passes_and_is_summarized() -> None:
    assert _problems() == []
    bank = parse_bank({"1.1.json": _document()})
    assert key_shares(bank, "single") == {"a": 0.25, "b": 0.25, "c": 0.25, "d": 0.25}
    assert key_shares(bank, "multiple") == {"a": 0.5, "b": 0.5, "c": 0.5, "d": 0.5}
    assert length_rank_shares(bank) == {0: 0.25, 1: 0.25, 2: 0.25, 3: 0.25}
    assert summary(bank) == (
        "7 questions (2 multiple, 1 short, 4 single); "
        "single keys by option: a 25% b 25% c 25% d 25%; "
        "multiple keys by option: a 50% b 50% c 50% d 50%; multiple key sizes: 2:2; "
        "single keys by longer options: 0:25% 1:25% 2:25% 3:25%"
    )


def test_a_bank_without_choice_questions_has_nothing_to_balance() -> None:
    document = _document()
    document["questions"] = document["questions"][-1:]
    bank = parse_bank({"1.1.json": document})
    assert check_bank(bank) == []
    assert summary(bank) == (
        "1 questions (1 short); single keys by option: -; multiple keys by option: -; "
        "multiple key sizes: -; single keys by longer options: -"
    )


def test_a_broken_bank_is_one_schema_problem(tmp_path: Path) -> None:
    (tmp_path / "1.1.json").write_text("{", encoding="utf-8")
    [problem] = check(tmp_path)
    assert (problem.where, problem.rule) == ("(bank)", "schema")
    assert str(problem).startswith("(bank): schema: 1.1.json: (file): ")


def test_single_keys_piled_on_one_letter_are_refused() -> None:
    def all_a(document: dict[str, Any]) -> None:
        for q in document["questions"][:4]:
            q["options"] = [q["options"][["a", "b", "c", "d"].index(q["answer"])]] + [
                o for o in q["options"] if o["id"] != q["answer"]
            ]
            for option, letter in zip(q["options"], "abcd", strict=True):
                option["id"] = letter
            q["answer"] = "a"

    [problem] = _problems(all_a)
    assert str(problem) == (
        "(bank): key balance: option 'a' is in 100% of the single keys (at most 35%)"
    )


def test_multiple_keys_sharing_one_letter_are_refused() -> None:
    def with_a(document: dict[str, Any]) -> None:
        document["questions"][5]["answer"] = ["a", "c", "d"]

    [problem] = _problems(with_a)
    assert problem.detail == "option 'a' is in 100% of the multiple keys (at most 65%)"


def test_keys_that_are_the_longest_option_are_refused() -> None:
    def longest(document: dict[str, Any]) -> None:
        for q in document["questions"][1:4]:
            key = next(o for o in q["options"] if o["id"] == q["answer"])
            key["text"] = "La réponse juste, plus longue que toutes les autres"

    [problem] = _problems(longest)
    assert problem.rule == "key length"
    assert problem.detail == "100% of the single keys have 0 longer option(s) (at most 40%)"


def test_duplicate_stems_are_found_whatever_the_case_and_accents() -> None:
    def duplicate(document: dict[str, Any]) -> None:
        document["questions"][1]["text"] = "QUESTION  s-1 ?"

    [problem] = _problems(duplicate)
    assert str(problem) == "s-2: duplicate stem: same text as s-1"


def test_enemies_of_a_bank_built_in_code_are_checked() -> None:
    base = parse_bank({"1.1.json": _document()})

    def with_enemies(question: Question, *enemies: str) -> Question:
        fields = {name: getattr(question, name) for name in Question.__slots__}
        return Question(**{**fields, "enemies": frozenset(enemies)})

    questions = {q.id: q for q in base.questions}
    questions["s-1"] = with_enemies(questions["s-1"], "s-1", "nope", "s-2")
    problems = check_bank(Bank(questions.values()))
    assert [str(p) for p in problems] == [
        "s-1: enemies: nope is not in the bank",
        "s-1: enemies: lists itself",
        "s-1: enemies: s-2 does not list it back",
    ]
    questions["s-2"] = with_enemies(questions["s-2"], "s-1")
    questions["s-1"] = with_enemies(questions["s-1"], "s-2")
    assert check_bank(Bank(questions.values())) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Tu cherches un horaire.", "Tu"),
        ("Où peux-tu mettre leurs adresses ?", "tu"),
        ("Ton identité numérique, c'est :", "Ton"),
        ("Quels risques pour ta position ?", "ta"),
        ("Que vérifies-tu avec tes amis ?", "tu"),
        ("Un ami te demande un service.", "te"),
        ("Et toi ?", "toi"),
        ("Qui peut t'aider ?", "t'"),
        ("Qui peut t’aider ?", "t’"),
        ("Réponds par un nombre.", "Réponds"),
        ("Combien de Ko ? Donne un nombre.", "Donne"),
        ("Voici la règle : Indique le total.", "Indique"),
    ],
)
def test_the_second_person_singular_is_refused(text: str, found: str) -> None:
    [problem] = _problems(_set_text(text))
    assert str(problem) == f"s-1: vous: text says {found!r}; use vous"


@pytest.mark.parametrize(
    "text",
    [
        "Vous cherchez un horaire ; où pouvez-vous regarder ?",
        "Quel tutoriel suivre pour poser une tuile ?",
        "Le ton urgent du message, un ton sec, la couleur du ton",
        "Que renvoie la fonction ? Que donne le calcul ?",
        "Comment ajoute-t-on une page ? Que fait-il ?",
        f"Un message dit : «{NBSP}Partage vite, toi, ton lien{NBSP}» Que faire ?",
        "Indiquez le total. Répondez par un nombre.",
        "Tutu, statut, tête, tesla, tapis, totem",
    ],
)
def test_vous_forms_and_look_alike_words_pass(text: str) -> None:
    assert _problems(_set_text(text)) == []


def test_options_and_image_descriptions_are_proof_read_too() -> None:
    assert [str(p) for p in _problems(_set_text("Ton choix", where="1"))] == [
        "s-1: vous: option b says 'Ton'; use vous"
    ]

    def with_media(document: dict[str, Any]) -> None:
        document["questions"][0]["media"] = {"kind": "image", "src": "x.png", "alt": "Ta photo"}

    assert [str(p) for p in _problems(with_media)] == ["s-1: vous: media alt says 'Ta'; use vous"]


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ('La requête "tour Eiffel" ?', "text has a straight double quote; use « »"),
        ("Le mot « Objet » ?", "text: « and » need a non-breaking space inside"),
        (f"Le mot «{NBSP}Objet »", "text: « and » need a non-breaking space inside"),
        (f"Le mot « Objet{NBSP}»", "text: « and » need a non-breaking space inside"),
    ],
)
def test_french_quotes_are_required(text: str, detail: str) -> None:
    [problem] = _problems(_set_text(text))
    assert (problem.rule, problem.detail) == ("quotes", detail)


def test_guillemets_with_non_breaking_spaces_pass() -> None:
    assert _problems(_set_text(f"Le champ «{NBSP}Objet{NBSP}» sert à quoi ?")) == []
    assert _problems(_set_text("Le texte « Objet »", where="1")) != []


def test_a_stem_may_not_contain_its_own_key() -> None:
    # s-1's key is "Bonne réponse longue"; case, accents and spacing do not hide it.
    [problem] = _problems(_set_text("Faut-il choisir la BONNE  REPONSE longue ?"))
    assert str(problem) == "s-1: key in stem: the stem contains the key 'Bonne réponse longue'"
    # The short answer "élan" (t-1), as a whole word only.
    [problem] = _problems(_set_text("Quel mot rime avec Elan ?", index=6))
    assert problem.detail == "the stem contains the key 'élan'"
    assert _problems(_set_text("Quel mot rime avec élancé ?", index=6)) == []
    # A multiple-choice key, and a key too short to give anything away.
    assert [p.detail for p in _problems(_set_text("Le choix a ou le choix b ?", index=4))] == [
        "the stem contains the key 'Choix a'",
        "the stem contains the key 'Choix b'",
    ]

    def short_key(document: dict[str, Any]) -> None:
        document["questions"][6]["answer"] = ["7"]
        document["questions"][6]["text"] = "t = [4, 7, 1]. Que vaut t[1] ?"

    assert _problems(short_key) == []


def _script() -> Any:
    spec = importlib.util.spec_from_file_location("bank_check_script", ROOT / "load/bank_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_prints_a_summary_or_the_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _script()
    assert script.main([]) == 0
    assert capsys.readouterr().out.startswith("bank-check: ok, 256 questions (")
    document = _document()
    document["questions"][0]["text"] = "Tu choisis ?"
    (tmp_path / "1.1.json").write_text(json.dumps(document), encoding="utf-8")
    assert script.main([str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out == "s-1: vous: text says 'Tu'; use vous\n"
    assert err == "bank-check: 1 problem(s)\n"


def test_option_is_found_by_id_for_the_key_in_stem_rule() -> None:
    bank = Bank([
        Question(
            id="x", competence="1.1", skill="@x", level=1, type="single",
            text="Faut-il dire Oui bien sûr ?",
            options=(Option("a", "Non"), Option("b", "Oui bien sûr")),
            answer=("b",), a=1.0, b=0.0,
        )
    ])  # fmt: skip
    assert [p.rule for p in check_bank(bank)] == ["key balance", "key length", "key in stem"]
