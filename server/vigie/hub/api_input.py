"""Checking the JSON bodies of the staff API (pure: decoded JSON in, typed values out)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vigie.hub.http_errors import FieldErrors
from vigie.registration import (
    EMAIL_MAX,
    EXTERNAL_ID_MAX,
    MAX_CANDIDATES_PER_REQUEST,
    NewCandidate,
    RegistrationRejected,
    RowChecker,
    RowError,
    printable,
    reject_if_any,
)

CANDIDATE_FIELDS = frozenset(
    {"last_name", "first_name", "birthdate", "extra_time_percent", "external_id", "email",
     "eligible"}
)  # fmt: skip
PASSWORD_MAX = 1024
"""Argon2 hashes any length; a bound keeps a megabyte password from costing a hash."""
_SURROGATE = re.compile("[\ud800-\udfff]")
TEXT_LIMITS = {"room": 200, "address": 500, "examiner": 200}


@dataclass(frozen=True, slots=True)
class SessionRequest:
    starts_at: datetime
    room: str
    address: str
    examiner: str
    timezone: str


TIMEZONE_MAX = 64
"""The longest IANA name is 32 characters; a longer string is not looked up on disk."""


def zone(name: str) -> ZoneInfo | None:
    if len(name) > TIMEZONE_MAX or not printable(name):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def login_fields(body: Any) -> tuple[str, str]:
    if not isinstance(body, dict):
        raise FieldErrors({"body": "objet JSON attendu"})
    email, password = body.get("email"), body.get("password")
    errors = {}
    if not isinstance(email, str) or not email.strip():
        errors["email"] = "obligatoire"
    elif len(email) > EMAIL_MAX or not printable(email):
        errors["email"] = "adresse invalide"
    if not isinstance(password, str) or not password:
        errors["password"] = "obligatoire"  # noqa: S105 (a message, not a secret)
    elif len(password) > PASSWORD_MAX or _SURROGATE.search(password):
        # A lone surrogate cannot be encoded, so cannot be hashed or compared.
        errors["password"] = "caractères invalides"  # noqa: S105
    if errors:
        raise FieldErrors(errors)
    return str(email), str(password)


def session_request(body: Any, school_timezone: str) -> SessionRequest:
    """Start as ``starts_at`` (ISO 8601; without offset it is the session's local time) or
    as ``date`` + ``time`` in the session's time zone (the school's unless ``timezone``)."""
    if not isinstance(body, dict):
        raise FieldErrors({"body": "objet JSON attendu"})
    errors: dict[str, str] = {}
    texts: dict[str, str] = {}
    for name, limit in TEXT_LIMITS.items():
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            errors[name] = "obligatoire"
        elif not printable(value):
            errors[name] = "caractère de contrôle interdit"
        elif len(value.strip()) > limit:
            errors[name] = f"{limit} caractères au plus"
        else:
            texts[name] = value.strip()
    tz_name = body.get("timezone") or school_timezone
    tz = zone(tz_name) if isinstance(tz_name, str) else None
    if tz is None:
        errors["timezone"] = "fuseau horaire inconnu (ex. Europe/Paris)"
    starts_at = _start(body, tz, errors)
    if errors or tz is None or starts_at is None:
        raise FieldErrors(errors)
    return SessionRequest(starts_at, texts["room"], texts["address"], texts["examiner"], tz.key)


def _start(body: dict[str, Any], tz: ZoneInfo | None, errors: dict[str, str]) -> datetime | None:
    raw = body.get("starts_at")
    try:
        if raw is not None:
            if not isinstance(raw, str):
                raise ValueError
            moment = datetime.fromisoformat(raw)
        else:
            day, hour = body.get("date"), body.get("time")
            if not isinstance(day, str) or not isinstance(hour, str):
                errors["starts_at"] = "indiquez starts_at, ou date (AAAA-MM-JJ) et time (HH:MM)"
                return None
            moment = datetime.combine(date.fromisoformat(day), time.fromisoformat(hour))
    except ValueError:
        errors["starts_at"] = "date ou heure invalide"
        return None
    if moment.tzinfo is None:
        if tz is None:
            return None
        moment = moment.replace(tzinfo=tz)
    try:  # year 9999 in UTC-12 or year 1 in UTC+14 has no UTC time
        moment.astimezone(UTC).astimezone(tz or UTC)
    except (OverflowError, ValueError):
        errors["starts_at"] = "date hors des limites"
        return None
    return moment


def candidate_rows(body: Any, today: date) -> list[NewCandidate]:
    """A JSON list of candidates (or ``{"candidates": [...]}``): every row or the errors."""
    if isinstance(body, dict) and set(body) == {"candidates"}:
        body = body["candidates"]
    if not isinstance(body, list) or not body:
        raise RegistrationRejected([RowError(0, "candidates", "Liste de candidats attendue.")])
    if len(body) > MAX_CANDIDATES_PER_REQUEST:
        raise RegistrationRejected([RowError(0, "candidates", "Trop de candidats à la fois.")])
    rows: list[NewCandidate] = []
    errors: list[RowError] = []
    for index, item in enumerate(body, start=1):
        check = RowChecker(index)
        if not isinstance(item, dict):
            check.fail("", "Objet JSON attendu.")
            item = {}
        for unknown in sorted(set(item) - CANDIDATE_FIELDS):
            # A misspelt "extra_time" silently ignored would cost a candidate their time.
            check.fail(unknown, "Champ inconnu.")
        rows.append(_candidate(check, item, today))
        errors.extend(check.errors)
    reject_if_any(rows, errors)
    return rows


def _candidate(check: RowChecker, item: dict[str, Any], today: date) -> NewCandidate:
    birthdate: date | None = None
    raw_birthdate = item.get("birthdate")
    if isinstance(raw_birthdate, str):
        try:
            birthdate = date.fromisoformat(raw_birthdate)
        except ValueError:
            birthdate = None
    percent = item.get("extra_time_percent")
    if percent is not None and (
        isinstance(percent, bool)
        or not isinstance(percent, int | float)
        or not math.isfinite(percent)
    ):
        check.fail("extra_time_percent", "Le temps majoré doit être un nombre.")
        percent = None
    eligible = item.get("eligible")
    if eligible is not None and not isinstance(eligible, bool):
        check.fail("eligible", "true, false ou null attendu.")
        eligible = None
    return NewCandidate(
        last_name=check.name("last_name", item.get("last_name"), "Nom"),
        first_name=check.name("first_name", item.get("first_name"), "Prénom"),
        birthdate=check.birthdate("birthdate", birthdate, today, "AAAA-MM-JJ"),
        extra_time=check.extra_time_percent("extra_time_percent", percent),
        external_id=check.optional_text("external_id", item.get("external_id"), EXTERNAL_ID_MAX),
        email=check.email("email", item.get("email")),
        eligible=eligible,
    )
