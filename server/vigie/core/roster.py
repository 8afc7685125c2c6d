"""What the live hub knows of a planned session and its roster (loaded from the records)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from vigie.core.identity import Identity


@dataclass(frozen=True, slots=True)
class RosterEntry:
    candidate_id: int
    last_name: str
    first_name: str
    birthdate: date
    extra_time: float = 0.0
    eligible: bool = True

    @property
    def identity(self) -> Identity:
        return Identity(self.last_name, self.first_name, self.birthdate)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    session_id: int
    school_name: str
    room: str
    address: str
    examiner: str
    starts_at: float  # planned start, epoch seconds UTC
    timezone: str
    password: str
    access_code: str
    status: str = "created"
