"""The records schema: SQLAlchemy 2 declarative tables (Alembic migrations mirror them).

Times are stored as UTC without a zone (``UTCDateTime``) so SQLite and PostgreSQL behave
alike; they come back as aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Vigie stores UTC instants only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class SchoolRow(Base):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    uai: Mapped[str | None] = mapped_column(String(16), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    sos_code: Mapped[str | None] = mapped_column(String(32))


class StaffRow(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    """``None`` for the Pix jury, who belong to no school."""
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))


class SessionRow(Base):
    __tablename__ = "sessions"

    # The public session number; drawn at random (records/__init__.py explains why).
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    room: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500))
    examiner: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="created")
    password: Mapped[str] = mapped_column(String(16))
    access_code: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CandidateRow(Base):
    __tablename__ = "candidates"
    __table_args__ = (
        # The same person twice would make joining ambiguous (docs/domain.md flow, step 7).
        UniqueConstraint("session_id", "identity_key", name="uq_candidates_session_identity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    birthdate: Mapped[date] = mapped_column(Date)
    identity_key: Mapped[str] = mapped_column(String(250))
    """Normalized last name, first name and birthdate (``registration.identity_key``)."""
    extra_time: Mapped[float] = mapped_column(Float, default=0.0)
    external_id: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    eligible: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StaffTokenRow(Base):
    __tablename__ = "staff_tokens"

    # Only the SHA-256 of a bearer token is kept: a leaked table opens no account.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class OutcomeRow(Base):
    """The scored outcome of one candidate's ended test (``vigie.core.outcome``)."""

    __tablename__ = "outcomes"

    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), primary_key=True
    )
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(32))
    score: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[bool] = mapped_column(Boolean)
    data: Mapped[str] = mapped_column(Text)
    """``Outcome.to_dict()`` as JSON: the answers and rules the score is recomputed from."""
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime())
