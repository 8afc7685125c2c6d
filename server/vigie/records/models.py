"""What the records store hands out: frozen snapshots, never live ORM objects.

Returning plain dataclasses keeps SQLAlchemy sessions (and their lazy loads) inside the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from vigie.records.schema import CandidateRow, SchoolRow, SessionRow, StaffRow

ROLES = ("admin", "jury")
SESSION_STATUSES = ("created", "finalized", "in_review", "published")


@dataclass(frozen=True, slots=True)
class School:
    id: int
    name: str
    uai: str | None
    timezone: str
    sos_code: str | None

    @classmethod
    def of(cls, row: SchoolRow) -> School:
        return cls(row.id, row.name, row.uai, row.timezone, row.sos_code)


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: int
    school_id: int | None
    email: str
    name: str
    role: str

    @classmethod
    def of(cls, row: StaffRow) -> StaffMember:
        return cls(row.id, row.school_id, row.email, row.name, row.role)


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: int
    school_id: int
    starts_at: datetime
    room: str
    address: str
    examiner: str
    timezone: str
    status: str
    password: str
    access_code: str
    created_at: datetime

    @classmethod
    def of(cls, row: SessionRow) -> SessionRecord:
        return cls(
            row.id, row.school_id, row.starts_at, row.room, row.address, row.examiner,
            row.timezone, row.status, row.password, row.access_code, row.created_at,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    session_id: int
    last_name: str
    first_name: str
    birthdate: date
    extra_time: float
    external_id: str | None
    email: str | None
    eligible: bool | None
    created_at: datetime

    @classmethod
    def of(cls, row: CandidateRow) -> Candidate:
        return cls(
            row.id, row.session_id, row.last_name, row.first_name, row.birthdate,
            row.extra_time, row.external_id, row.email, row.eligible, row.created_at,
        )  # fmt: skip
