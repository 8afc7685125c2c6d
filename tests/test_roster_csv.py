"""Roster and profile-export files as a French spreadsheet saves them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from vigie.registration import RegistrationRejected
from vigie.roster_csv import parse_profile_export, parse_roster

DEMO = Path(__file__).resolve().parents[1] / "server" / "vigie" / "demo"
TODAY = date(2026, 10, 6)


def test_the_sample_roster_parses() -> None:
    data = (DEMO / "roster.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data  # the real format
    rows = parse_roster(data, TODAY)
    assert len(rows) == 20
    first = rows[0]
    assert (first.last_name, first.first_name, first.birthdate) == (
        "Bélégué", "Charles", date(2010, 3, 14),
    )  # fmt: skip
    assert first.external_id == "INE100000" and first.email is None and first.extra_time == 0.0
    by_name = {(r.last_name, r.first_name, r.birthdate): r for r in rows}
    assert by_name["N'Diaye", "Aïssatou", date(2010, 6, 21)].extra_time == pytest.approx(0.33)
    assert by_name["Saint-Just", "Anaïs", date(2010, 7, 23)].extra_time == pytest.approx(0.5)
    assert ("Nguyễn", "Minh", date(2010, 5, 30)) in by_name
    assert len({r.identity_key for r in rows}) == 20  # the two Léa Martin differ by birthdate


def test_the_profile_export_gives_eligibility() -> None:
    eligible = parse_profile_export((DEMO / "profiles.csv").read_bytes())
    assert len(eligible) == 20
    assert eligible["INE100003"] is True  # N'Diaye, 7 competences
    assert eligible["INE100004"] is True  # exactly 5
    assert eligible["INE100006"] is False  # the second Léa Martin, 4
    assert sorted(k for k, v in eligible.items() if not v) == [
        "INE100000", "INE100001", "INE100006", "INE100011", "INE100018",
    ]  # fmt: skip


def test_comma_separated_windows_1252_without_bom() -> None:
    data = "PRENOM,NOM,date de naissance,Temps majoré\nLéa,Martin,2010-02-17,33 %\n"
    [row] = parse_roster(data.encode("cp1252"), TODAY)
    assert (row.last_name, row.first_name, row.extra_time) == ("Martin", "Léa", 0.33)


def test_every_wrong_row_is_reported() -> None:
    data = (
        "\ufeffNom;Prénom;Date de naissance;Temps majoré (%);Identifiant externe;E-mail\r\n"
        "Martin;Léa;17/02/2010;;;\r\n"
        ";Hugo;31/02/2010;abc;;hugo\r\n"
        "Roux;Hugo;09/09/2009;1000;;\r\n"
        ";;;;;\r\n"
    ).encode()
    with pytest.raises(RegistrationRejected) as caught:
        parse_roster(data, TODAY)
    assert [(e.row, e.field) for e in caught.value.errors] == [
        (2, "extra_time_percent"), (2, "last_name"), (2, "birthdate"), (2, "email"),
        (3, "extra_time_percent"),
    ]  # fmt: skip
    assert all(e.message for e in caught.value.errors)


def test_missing_columns_are_named() -> None:
    with pytest.raises(RegistrationRejected) as caught:
        parse_roster("Nom;Prénom\r\nMartin;Léa\r\n".encode(), TODAY)
    assert [(e.row, e.field) for e in caught.value.errors] == [(0, "birthdate")]
