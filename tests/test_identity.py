"""Matching a joining candidate against the roster (docs/domain.md flow, step 7)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigie.core.identity import (
    Identity,
    IdentityAmbiguous,
    IdentityNotFound,
    match_identity,
    normalize_name,
)
from vigie.core.roster import RosterEntry, SessionInfo
from vigie.exceptions import NotFound, Refused

# The roster sample of /work/shared/data/roster-sample.csv: (last, first, birthdate, id).
ROSTER_SAMPLE = [
    ("Bélégué", "Charles", date(2010, 3, 14), 100),
    ("Jackson", "Mary", date(2009, 11, 2), 101),
    ("Pouzin", "Louis", date(2010, 1, 30), 102),
    ("N'Diaye", "Aïssatou", date(2010, 6, 21), 103),
    ("Le Goff", "Yann-Erwan", date(2009, 12, 5), 104),
    ("Martin", "Léa", date(2010, 2, 17), 105),
    ("Martin", "Léa", date(2010, 9, 8), 106),
    ("Dubois", "Noé", date(2010, 4, 11), 107),
    ("Saint-Just", "Anaïs", date(2010, 7, 23), 108),
    ("Nguyễn", "Minh", date(2010, 5, 30), 109),
    ("Öztürk", "Elif", date(2009, 10, 19), 110),
    ("De La Fontaine", "Jean", date(2010, 8, 8), 111),
    ("Lambert", "Raphaël", date(2010, 10, 10), 119),
]
ROSTER = [(Identity(last, first, born), cid) for last, first, born, cid in ROSTER_SAMPLE]


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("N'Diaye", "NDIAYE"),
        ("N’Diaye", "NDIAYE"),
        ("Le Goff", "LEGOFF"),
        ("Yann-Erwan", "YANNERWAN"),
        ("Nguyễn", "NGUYEN"),
        ("Öztürk", "OZTURK"),
        ("Bélégué", "BELEGUE"),
        ("Saint-Just", "SAINTJUST"),
        ("De La Fontaine", "DELAFONTAINE"),
        ("Aïssatou", "AISSATOU"),
        ("Raphaël", "RAPHAEL"),
        ("Noé", "NOE"),
        ("Léa", "LEA"),
        ("  léa\t", "LEA"),
        ("Çağla", "CAGLA"),
        ("Straße", "STRASSE"),
        ("Lætitia", "LAETITIA"),
        ("Cœur", "COEUR"),
        ("Søren", "SOREN"),
        ("Łukasz", "LUKASZ"),
        ("Đặng", "DANG"),
        ("Ｍａｒｔｉｎ", "MARTIN"),
        ("Louis XIV", "LOUISXIV"),
        ("Martin 2", "MARTIN2"),
        ("", ""),
        ("-' .", ""),
        ("李", ""),
    ],
)
def test_normalize_name(name: str, normalized: str) -> None:
    assert normalize_name(name) == normalized


@given(st.text())
def test_normalize_is_idempotent_and_keeps_only_digits_and_capitals(value: str) -> None:
    once = normalize_name(value)
    assert re.fullmatch("[0-9A-Z]*", once)
    assert normalize_name(once) == once


@given(st.text(alphabet=st.characters(codec="ascii")))
def test_normalize_of_ascii_is_upper_alphanumerics(value: str) -> None:
    assert normalize_name(value) == "".join(c for c in value.upper() if c.isalnum())


@pytest.mark.parametrize(
    ("last", "first", "born", "expected"),
    [
        ("NDIAYE", "aissatou", date(2010, 6, 21), 103),
        ("n'diaye", "Aïssatou", date(2010, 6, 21), 103),
        ("le goff", "yann erwan", date(2009, 12, 5), 104),
        ("LEGOFF", "Yann-Erwan", date(2009, 12, 5), 104),
        ("Nguyen", "Minh", date(2010, 5, 30), 109),
        ("OZTURK", "elif", date(2009, 10, 19), 110),
        ("Belegue", "Charles", date(2010, 3, 14), 100),
        ("saint just", "anais", date(2010, 7, 23), 108),
        ("de la fontaine", "JEAN", date(2010, 8, 8), 111),
        ("Delafontaine", "Jean", date(2010, 8, 8), 111),
        ("Martin", "Lea", date(2010, 2, 17), 105),
        ("MARTIN", "léa", date(2010, 9, 8), 106),
    ],
)
def test_match_ignores_accents_case_and_punctuation(
    last: str, first: str, born: date, expected: int
) -> None:
    assert match_identity(Identity(last, first, born), ROSTER) == expected


def test_the_two_martin_lea_are_told_apart_by_their_birthdate() -> None:
    first = match_identity(Identity("Martin", "Léa", date(2010, 2, 17)), ROSTER)
    second = match_identity(Identity("Martin", "Léa", date(2010, 9, 8)), ROSTER)
    assert (first, second) == (105, 106)
    with pytest.raises(IdentityNotFound):
        match_identity(Identity("Martin", "Léa", date(2010, 2, 18)), ROSTER)


@pytest.mark.parametrize(
    ("last", "first", "born"),
    [
        ("Pouzin", "Louis", date(2010, 1, 31)),  # birthdate off by a day
        ("Pouzin", "Louis", date(2011, 1, 30)),
        ("Pouzin", "Luis", date(2010, 1, 30)),
        ("Louis", "Pouzin", date(2010, 1, 30)),  # names swapped
        ("Pouzi", "Louis", date(2010, 1, 30)),
        ("Fontaine", "Jean", date(2010, 8, 8)),
        ("", "Louis", date(2010, 1, 30)),
        ("-'", "Louis", date(2010, 1, 30)),
    ],
)
def test_no_match_is_not_found(last: str, first: str, born: date) -> None:
    with pytest.raises(IdentityNotFound) as missing:
        match_identity(Identity(last, first, born), ROSTER)
    assert isinstance(missing.value, NotFound)
    assert missing.value.code == "identity_not_found"


def test_an_empty_name_never_matches_an_empty_roster_name() -> None:
    roster = [(Identity("", "", date(2010, 1, 1)), 1), (Identity("'", "-", date(2010, 1, 1)), 2)]
    with pytest.raises(IdentityNotFound):
        match_identity(Identity("", "", date(2010, 1, 1)), roster)


def test_several_matches_are_ambiguous_not_not_found() -> None:
    roster = [*ROSTER, (Identity("Martín", "LÉA", date(2010, 2, 17)), 999)]
    with pytest.raises(IdentityAmbiguous) as ambiguous:
        match_identity(Identity("Martin", "Léa", date(2010, 2, 17)), roster)
    assert isinstance(ambiguous.value, Refused)
    assert not isinstance(ambiguous.value, NotFound)
    assert ambiguous.value.code == "identity_ambiguous"
    assert not issubclass(IdentityNotFound, IdentityAmbiguous)


def test_an_empty_roster_has_no_match() -> None:
    with pytest.raises(IdentityNotFound):
        match_identity(Identity("Martin", "Léa", date(2010, 2, 17)), [])


def test_the_roster_may_be_a_one_shot_iterable() -> None:
    entries = iter(ROSTER)
    assert match_identity(Identity("Jackson", "Mary", date(2009, 11, 2)), entries) == 101


def test_roster_entries_match_by_their_identity() -> None:
    entries = [
        RosterEntry(cid, last, first, born, extra_time=0.33 if cid == 103 else 0.0)
        for last, first, born, cid in ROSTER_SAMPLE
    ]
    assert entries[3].eligible is True  # eligible unless a profile export says otherwise
    roster = [(e.identity, e) for e in entries]
    assert roster[0][0] == Identity("Bélégué", "Charles", date(2010, 3, 14))
    found = match_identity(Identity("Ndiaye", "Aissatou", date(2010, 6, 21)), roster)
    assert (found.candidate_id, found.extra_time) == (103, 0.33)
    session = SessionInfo(4242, "Collège", "B12", "1 rue", "Mme X", 0.0, "Europe/Paris", "p", "c")
    assert session.status == "created"
