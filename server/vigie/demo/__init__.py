"""The demo (issue "the two commands"): one school, one admin, one session of 20 candidates.

Built from the sample files beside this module (``roster.csv``: the roster, one candidate
with 33 % extra time; ``profiles.csv``: the profile export that makes some not eligible).
``ensure_demo`` is idempotent: each missing piece is created, nothing is ever duplicated,
and a second run reports the same session.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from vigie.exceptions import Refused
from vigie.live import LiveStore
from vigie.records import Records, School, SessionRecord
from vigie.registration import NewCandidate
from vigie.roster_csv import parse_profile_export, parse_roster

HERE = Path(__file__).resolve().parent
SCHOOL_NAME = "Collège Jean Moulin (démo)"
SCHOOL_UAI = "0999999X"
"""Not a real UAI (the 099 département does not exist): it marks the demo school."""
SCHOOL_TIMEZONE = "Europe/Paris"
SOS_CODE = "SOSDEMO42"
ADMIN_EMAIL = "admin@vigie.test"
ADMIN_PASSWORD = "demo-vigie-2026"  # noqa: S105 (documented demo login, not a secret)
START_TIME = time(9, 0)


@dataclass(frozen=True, slots=True)
class DemoInfo:
    school_name: str
    admin_email: str
    admin_password: str
    session_number: int
    session_password: str
    access_code: str
    starts_at: datetime
    timezone: str
    room: str
    candidate_count: int
    created: bool
    """True when this call created the demo session."""


async def ensure_demo(records: Records, live: LiveStore | None = None) -> DemoInfo:
    """Create whatever part of the demo is missing and make its session live."""
    school = await _school(records)
    if await records.staff_by_email(ADMIN_EMAIL) is None:
        await records.create_staff(
            ADMIN_EMAIL, ADMIN_PASSWORD, "admin", school.id, name="Administratrice démo"
        )
    session, created = await _session(records, school)
    candidates = await records.list_candidates(session.id)
    if not candidates:
        candidates = await records.register_candidates(session.id, demo_roster())
    if live is not None:
        await live.load_session(
            await records.session_info(session.id), await records.roster(session.id)
        )
    return DemoInfo(
        school_name=school.name, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD,
        session_number=session.id, session_password=session.password,
        access_code=session.access_code, starts_at=session.starts_at,
        timezone=session.timezone, room=session.room, candidate_count=len(candidates),
        created=created,
    )  # fmt: skip


def demo_roster() -> list[NewCandidate]:
    """The sample roster, with eligibility from the sample profile export."""
    tz = ZoneInfo(SCHOOL_TIMEZONE)
    rows = parse_roster((HERE / "roster.csv").read_bytes(), datetime.now(tz).date())
    eligible = parse_profile_export((HERE / "profiles.csv").read_bytes())
    return [replace(row, eligible=eligible.get(row.external_id or "")) for row in rows]


async def _school(records: Records) -> School:
    school = await records.find_school(uai=SCHOOL_UAI)
    if school is not None:
        return school
    try:
        return await records.create_school(
            SCHOOL_NAME, uai=SCHOOL_UAI, timezone=SCHOOL_TIMEZONE, sos_code=SOS_CODE
        )
    except Refused:  # another process created it first
        found = await records.find_school(uai=SCHOOL_UAI)
        assert found is not None
        return found


async def _session(records: Records, school: School) -> tuple[SessionRecord, bool]:
    sessions = await records.list_sessions(school.id)
    if sessions:
        return min(sessions, key=lambda s: (s.created_at, s.id)), False
    tz = ZoneInfo(school.timezone)
    today = datetime.now(tz).date()
    session = await records.create_session(
        school.id,
        datetime.combine(today, START_TIME, tzinfo=tz).astimezone(UTC),
        room="Salle informatique B12",
        address="12 rue des Écoles, 69003 Lyon",
        examiner="Mme Laurent",
    )
    return session, True
