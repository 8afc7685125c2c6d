"""Rosters and profile exports as French spreadsheets save them (pure: bytes in, rows out).

The files are UTF-8 with a BOM (or Windows-1252 from older spreadsheets), ``;``-separated,
CRLF line endings, dates as JJ/MM/AAAA (see shared data/README.md). Columns are found by
their header, ignoring accents, case and punctuation, so "Prénom" and "PRENOM" both work.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

from vigie.core.eligibility import is_eligible
from vigie.core.identity import normalize_name
from vigie.registration import (
    EXTERNAL_ID_MAX,
    MAX_CANDIDATES_PER_REQUEST,
    NewCandidate,
    RegistrationRejected,
    RowChecker,
    RowError,
    reject_if_any,
)

# Normalized header -> field name.
ROSTER_COLUMNS = {
    "NOM": "last_name",
    "PRENOM": "first_name",
    "DATEDENAISSANCE": "birthdate",
    "TEMPSMAJORE": "extra_time_percent",
    "IDENTIFIANTEXTERNE": "external_id",
    "EMAIL": "email",
    "CERTIFIABLE": "eligible",
}
REQUIRED = ("last_name", "first_name", "birthdate")


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _unreadable(reader: Any) -> RegistrationRejected:
    """A line the csv module refuses (a field over its 131,072-character limit): named by
    its row, the header not counted, like every other row error."""
    return RegistrationRejected(
        [RowError(max(0, reader.line_num - 1), "", "Ligne illisible : champ trop long.")]
    )


def _records(data: bytes, columns: Mapping[str, str]) -> tuple[list[str], Iterator[dict[str, str]]]:
    """The fields found in the header and an iterator of rows keyed by field name."""
    text = decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, [])
    except csv.Error:
        raise _unreadable(reader) from None
    # "Temps majoré (%)" -> TEMPSMAJORE: the unit is part of the label, not of the key.
    names = [columns.get(normalize_name(h.replace("%", ""))) for h in header]
    found = [n for n in names if n]

    def rows() -> Iterator[dict[str, str]]:
        try:
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue  # spreadsheets leave blank lines at the end
                yield {n: cell for n, cell in zip(names, cells, strict=False) if n}
        except csv.Error:
            raise _unreadable(reader) from None

    return found, rows()


def parse_date(text: str) -> date | None:
    text = text.strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_percent(text: str) -> float | None:
    """``""`` -> None, ``"33"``, ``"33 %"``, ``"33,5"`` -> the number; ``nan`` for garbage."""
    text = text.replace("%", "").replace(",", ".").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return float("nan")


def parse_yes_no(text: str) -> bool | None:
    value = normalize_name(text)
    if value in ("OUI", "YES", "1", "VRAI", "TRUE"):
        return True
    if value in ("NON", "NO", "0", "FAUX", "FALSE"):
        return False
    return None


def parse_roster(data: bytes, today: date) -> list[NewCandidate]:
    """Every row of a roster file, or ``RegistrationRejected`` listing every wrong row."""
    found, rows = _records(data, ROSTER_COLUMNS)
    missing = [field for field in REQUIRED if field not in found]
    if missing:
        raise RegistrationRejected(
            [RowError(0, field, "Colonne absente de l'en-tête.") for field in missing]
        )
    candidates: list[NewCandidate] = []
    errors: list[RowError] = []
    for index, cells in enumerate(rows, start=1):
        if index > MAX_CANDIDATES_PER_REQUEST:
            errors.append(RowError(index, "", "Trop de lignes dans le fichier."))
            break
        check = RowChecker(index)
        percent = parse_percent(cells.get("extra_time_percent", ""))
        if percent is not None and percent != percent:  # NaN: not a number at all
            check.fail("extra_time_percent", "Le temps majoré doit être un nombre.")
            percent = None
        candidate = NewCandidate(
            last_name=check.name("last_name", cells.get("last_name"), "Nom"),
            first_name=check.name("first_name", cells.get("first_name"), "Prénom"),
            birthdate=check.birthdate("birthdate", parse_date(cells.get("birthdate", "")), today),
            extra_time=check.extra_time_percent("extra_time_percent", percent),
            external_id=check.optional_text(
                "external_id", cells.get("external_id"), EXTERNAL_ID_MAX
            ),
            email=check.email("email", cells.get("email")),
            eligible=parse_yes_no(cells.get("eligible", "")),
        )
        errors.extend(check.errors)
        candidates.append(candidate)
    reject_if_any(candidates, errors)
    return candidates


PROFILE_COLUMNS = {
    "IDENTIFIANTEXTERNE": "external_id",
    "CERTIFIABLE": "certifiable",
    "COMPCERTIFIABLES": "competences",
}


def parse_profile_export(data: bytes) -> dict[str, bool]:
    """External id -> eligible, from a profile-collection export (docs/domain.md flow, step 1).

    The competence count decides when present (level >= 1 in at least 5 competences);
    the "Certifiable" column is the fallback.
    """
    _, rows = _records(data, PROFILE_COLUMNS)
    eligible: dict[str, bool] = {}
    for cells in rows:
        external_id = cells.get("external_id", "").strip()
        count = cells.get("competences", "").strip()
        verdict = (
            is_eligible(int(count))
            if count.isascii() and count.isdigit() and len(count) <= 3
            else None
        )
        if verdict is None:
            verdict = parse_yes_no(cells.get("certifiable", ""))
        if external_id and verdict is not None:
            eligible[external_id] = verdict
    return eligible
