"""What a school sends to register candidates (docs/domain.md flow, step 2), checked field by field.

Pure: no I/O. The JSON API and the CSV roster parser both turn their input into
``NewCandidate`` rows here, so a row is refused for the same reasons whatever its source.
Errors name the row (1-based, as a person counts them) and the field, in French.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from vigie.core.deadlines import is_valid_extra_time
from vigie.core.identity import normalize_name
from vigie.exceptions import InvalidInput

NAME_MAX = 100
EXTERNAL_ID_MAX = 64
EMAIL_MAX = 254
MAX_CANDIDATES_PER_REQUEST = 1000
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""C0 and C1 control characters (NUL included) and lone surrogates: invisible on a sheet or
a board, they would make two identical-looking names differ (or fail to encode)."""


def printable(text: str) -> bool:
    """True when ``text`` has no control character and no lone surrogate."""
    return _UNPRINTABLE.search(text) is None


@dataclass(frozen=True, slots=True)
class NewCandidate:
    last_name: str
    first_name: str
    birthdate: date
    extra_time: float = 0.0
    """A fraction: 0.33 is 33 % (docs/domain.md "Formats and constants")."""
    external_id: str | None = None
    email: str | None = None
    eligible: bool | None = None
    """``None`` when no profile export says either way."""

    @property
    def identity_key(self) -> str:
        """Two rows with the same key would be indistinguishable when joining (flow, step 7)."""
        return identity_key(self.last_name, self.first_name, self.birthdate)


def identity_key(last_name: str, first_name: str, birthdate: date) -> str:
    return f"{normalize_name(last_name)}|{normalize_name(first_name)}|{birthdate.isoformat()}"


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    """1-based position in what was sent (the CSV header is not counted)."""
    field: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "field": self.field, "message": self.message}


class RegistrationRejected(InvalidInput):
    """At least one row is wrong: nothing was registered."""

    code = "invalid_candidates"
    message = "Aucun candidat n'a été inscrit : corrigez les lignes en erreur."

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__()
        self.errors = list(errors)


class RowChecker:
    """Collects the errors of one row while its fields are read."""

    def __init__(self, row: int) -> None:
        self.row = row
        self.errors: list[RowError] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append(RowError(self.row, field, message))

    def name(self, field: str, value: object, label: str) -> str:
        text = value.strip() if isinstance(value, str) else ""
        if not printable(text):
            self.fail(field, f"{label} : caractère de contrôle interdit.")
        elif not text or not normalize_name(text):
            self.fail(field, f"{label} obligatoire.")
        elif len(text) > NAME_MAX:
            self.fail(field, f"{label} trop long ({NAME_MAX} caractères au plus).")
        return text

    def birthdate(
        self, field: str, value: date | None, today: date, date_format: str = "JJ/MM/AAAA"
    ) -> date:
        if value is None:
            self.fail(field, f"Date de naissance manquante ou invalide (format {date_format}).")
            return date.min
        if not date(1900, 1, 1) <= value < today:
            self.fail(field, "Date de naissance invraisemblable.")
        return value

    def extra_time_percent(self, field: str, percent: float | None) -> float:
        if percent is None:
            return 0.0
        fraction = round(percent / 100, 4)
        if not is_valid_extra_time(fraction):
            self.fail(field, "Le temps majoré doit être un pourcentage entre 0 et 999.")
        return fraction

    def optional_text(self, field: str, value: object, limit: int) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(field, "Texte attendu.")
            return None
        text = value.strip()
        if not printable(text):
            self.fail(field, "Caractère de contrôle interdit.")
        elif len(text) > limit:
            self.fail(field, f"Trop long ({limit} caractères au plus).")
        return text or None

    def email(self, field: str, value: object) -> str | None:
        text = self.optional_text(field, value, EMAIL_MAX)
        if text is not None and ("@" not in text or " " in text):
            self.fail(field, "Adresse e-mail invalide.")
        return text


def duplicate_errors(rows: Sequence[NewCandidate], existing: set[str]) -> list[RowError]:
    """The same identity twice (in the batch, or already registered) is refused."""
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows, start=1):
        key = row.identity_key
        if key in existing:
            errors.append(
                RowError(index, "last_name", "Ce candidat est déjà inscrit à la session.")
            )
        elif key in seen:
            errors.append(RowError(index, "last_name", f"Même candidat que la ligne {seen[key]}."))
        else:
            seen[key] = index
    return errors


def reject_if_any(rows: Sequence[NewCandidate], errors: Sequence[RowError]) -> None:
    """Raise with the field errors and the in-batch duplicates, row by row, if there are any."""
    everything = [*errors, *duplicate_errors(rows, set())]
    if everything:
        raise RegistrationRejected(sorted(everything, key=lambda error: error.row))
