"""The records store: the one module that talks SQL (schools, staff, sessions, rosters).

SQLAlchemy 2 async on a SQLite file by default, PostgreSQL via ``DATABASE_URL``; the schema is
in ``schema.py`` and Alembic migrations (``vigie/migrations``) are applied by ``migrate()``.
Every write runs in one transaction: a refused request writes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, event, func, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from vigie.core.codes import new_access_code, new_session_password
from vigie.core.roster import RosterEntry, SessionInfo
from vigie.exceptions import InvalidInput, NotAuthenticated, NotFound, Refused
from vigie.records.models import ROLES, Candidate, School, SessionRecord, StaffMember
from vigie.records.outcomes import Outcomes
from vigie.records.schema import CandidateRow, SchoolRow, SessionRow, StaffRow, StaffTokenRow
from vigie.registration import NewCandidate, RegistrationRejected, duplicate_errors

__all__ = ["Candidate", "Records", "School", "SessionRecord", "StaffMember"]

TOKEN_TTL = timedelta(hours=12)
SESSION_NUMBER_MIN = 1_000_000
SESSION_NUMBER_MAX = 9_999_999
_MIGRATION_LOCK = 0x56494749  # "VIGI": one hub migrates at a time on PostgreSQL


class SessionNotFound(NotFound):
    code = "session_not_found"
    message = "Session introuvable."


class CandidateNotFound(NotFound):
    code = "candidate_not_found"
    message = "Candidat introuvable dans cette session."


class SessionClosed(Refused):
    code = "session_closed"
    message = "La session est finalisée : la liste des candidats ne peut plus changer."


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Records:
    """Async access to the records; one instance per process, shared by every request."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.engine = create_async_engine(self.url, pool_pre_ping=self.is_postgresql)
        if not self.is_postgresql:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._db = async_sessionmaker(self.engine, expire_on_commit=False)
        self.outcomes = Outcomes(self._db)
        self._hasher = PasswordHasher()
        self._dummy_hash: str | None = None

    @property
    def is_postgresql(self) -> bool:
        return self.url.get_backend_name() == "postgresql"

    async def migrate(self) -> None:
        """Bring the schema to the latest Alembic revision (idempotent)."""
        if not self.is_postgresql and self.url.database not in (None, "", ":memory:"):
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        async with self.engine.begin() as conn:
            if self.is_postgresql:
                # Several hubs may start at once; the lock ends with the transaction.
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            await conn.run_sync(_upgrade)

    async def close(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> None:
        """One round trip to the database (readiness); raises when it does not answer."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    # --- schools and staff ------------------------------------------------------------

    async def create_school(
        self, name: str, *, uai: str | None = None, timezone: str = "Europe/Paris",
        sos_code: str | None = None,
    ) -> School:  # fmt: skip
        try:
            async with self._db.begin() as db:
                row = SchoolRow(name=name, uai=uai, timezone=timezone, sos_code=sos_code)
                db.add(row)
                await db.flush()
                return School.of(row)
        except IntegrityError as exc:
            raise Refused("Un établissement a déjà ce code UAI.", code="uai_taken") from exc

    async def get_school(self, school_id: int) -> School:
        async with self._db() as db:
            row = await db.get(SchoolRow, school_id)
            if row is None:
                raise NotFound("Établissement introuvable.", code="school_not_found")
            return School.of(row)

    async def find_school(
        self, *, uai: str | None = None, name: str | None = None
    ) -> School | None:
        query = select(SchoolRow).order_by(SchoolRow.id).limit(1)
        query = query.where(SchoolRow.uai == uai) if uai else query.where(SchoolRow.name == name)
        async with self._db() as db:
            row = await db.scalar(query)
            return School.of(row) if row else None

    async def create_staff(
        self, email: str, password: str, role: str, school_id: int | None, *, name: str = ""
    ) -> StaffMember:
        if role not in ROLES:
            raise InvalidInput(f"Rôle inconnu : {role}.", code="invalid_role")
        if role == "admin" and school_id is None:
            raise InvalidInput("Un administrateur appartient à un établissement.")
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        try:
            async with self._db.begin() as db:
                row = StaffRow(
                    email=email.strip().lower(), password_hash=password_hash, role=role,
                    school_id=school_id, name=name,
                )  # fmt: skip
                db.add(row)
                await db.flush()
                return StaffMember.of(row)
        except IntegrityError as exc:
            raise Refused("Cette adresse e-mail a déjà un compte.", code="email_taken") from exc

    async def staff_by_email(self, email: str) -> StaffMember | None:
        async with self._db() as db:
            row = await db.scalar(select(StaffRow).where(StaffRow.email == email.strip().lower()))
            return StaffMember.of(row) if row else None

    async def authenticate_staff(self, email: str, password: str) -> StaffMember:
        """Check a password; an unknown email costs the same hash, so timing tells nothing."""
        async with self._db() as db:
            row = await db.scalar(select(StaffRow).where(StaffRow.email == email.strip().lower()))
        if row is None:
            if self._dummy_hash is None:
                self._dummy_hash = await asyncio.to_thread(self._hasher.hash, secrets.token_hex())
            await asyncio.to_thread(self._verify, self._dummy_hash, password)
            raise NotAuthenticated("Adresse e-mail ou mot de passe incorrect.")
        if not await asyncio.to_thread(self._verify, row.password_hash, password):
            raise NotAuthenticated("Adresse e-mail ou mot de passe incorrect.")
        if self._hasher.check_needs_rehash(row.password_hash):
            await self.set_staff_password(row.id, password)
        return StaffMember.of(row)

    async def set_staff_password(self, staff_id: int, password: str) -> None:
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        async with self._db.begin() as db:
            row = await db.get(StaffRow, staff_id)
            if row is None:
                raise NotFound("Compte introuvable.", code="staff_not_found")
            row.password_hash = password_hash

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(password_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    async def issue_token(self, staff_id: int, *, now: datetime | None = None) -> str:
        """A bearer token for the staff API; only its hash is stored."""
        now = now or _utcnow()
        token = secrets.token_urlsafe(32)
        async with self._db.begin() as db:
            # Expired tokens go when their owner logs in again: no sweeper needed.
            await db.execute(
                delete(StaffTokenRow).where(
                    StaffTokenRow.staff_id == staff_id, StaffTokenRow.expires_at <= now
                )
            )
            db.add(StaffTokenRow(
                token_hash=_token_hash(token), staff_id=staff_id, expires_at=now + TOKEN_TTL,
            ))  # fmt: skip
        return token

    async def staff_for_token(self, token: str, *, now: datetime | None = None) -> StaffMember:
        query = (
            select(StaffRow)
            .join(StaffTokenRow, StaffTokenRow.staff_id == StaffRow.id)
            .where(
                StaffTokenRow.token_hash == _token_hash(token),
                StaffTokenRow.expires_at > (now or _utcnow()),
            )
        )
        async with self._db() as db:
            row = await db.scalar(query)
        if row is None:
            raise NotAuthenticated("Session expirée : reconnectez-vous.", code="invalid_token")
        return StaffMember.of(row)

    async def revoke_token(self, token: str) -> None:
        async with self._db.begin() as db:
            await db.execute(
                delete(StaffTokenRow).where(StaffTokenRow.token_hash == _token_hash(token))
            )

    # --- sessions ---------------------------------------------------------------------

    async def create_session(
        self, school_id: int, starts_at: datetime, *, room: str, address: str, examiner: str,
        timezone: str | None = None, now: datetime | None = None,
    ) -> SessionRecord:  # fmt: skip
        """Plan a session; its number, password and access code are drawn here."""
        async with self._db.begin() as db:
            school = await db.get(SchoolRow, school_id)
            if school is None:
                raise NotFound("Établissement introuvable.", code="school_not_found")
            row = SessionRow(
                id=await _free_session_number(db), school_id=school_id,
                starts_at=starts_at.astimezone(UTC),
                room=room, address=address, examiner=examiner,
                timezone=timezone or school.timezone, status="created",
                password=new_session_password(), access_code=new_access_code(),
                created_at=now or _utcnow(),
            )  # fmt: skip
            db.add(row)
            await db.flush()
            return SessionRecord.of(row)

    async def get_session(self, session_id: int) -> SessionRecord:
        async with self._db() as db:
            return SessionRecord.of(await _session_row(db, session_id))

    async def list_sessions(self, school_id: int) -> list[SessionRecord]:
        query = (
            select(SessionRow)
            .where(SessionRow.school_id == school_id)
            .order_by(SessionRow.starts_at.desc(), SessionRow.id)
        )
        async with self._db() as db:
            return [SessionRecord.of(row) for row in await db.scalars(query)]

    async def candidate_counts(self, school_id: int) -> dict[int, int]:
        """Registered candidates per session of a school, in one query."""
        query = (
            select(CandidateRow.session_id, func.count())
            .join(SessionRow, SessionRow.id == CandidateRow.session_id)
            .where(SessionRow.school_id == school_id)
            .group_by(CandidateRow.session_id)
        )
        async with self._db() as db:
            return {session_id: count for session_id, count in await db.execute(query)}

    async def open_session_ids(self) -> list[int]:
        """Sessions candidates may still join: what a starting hub loads into the live store."""
        query = select(SessionRow.id).where(SessionRow.status == "created").order_by(SessionRow.id)
        async with self._db() as db:
            return list(await db.scalars(query))

    async def session_info(self, session_id: int) -> SessionInfo:
        async with self._db() as db:
            row = await _session_row(db, session_id)
            school = await db.get(SchoolRow, row.school_id)
        assert school is not None  # foreign key
        return SessionInfo(
            session_id=row.id, school_name=school.name, room=row.room, address=row.address,
            examiner=row.examiner, starts_at=row.starts_at.timestamp(), timezone=row.timezone,
            password=row.password, access_code=row.access_code, status=row.status,
        )  # fmt: skip

    # --- candidates -------------------------------------------------------------------

    async def register_candidates(
        self, session_id: int, entries: Sequence[NewCandidate], *, now: datetime | None = None
    ) -> list[Candidate]:
        """Register every entry or none: a duplicate anywhere rejects the whole batch."""
        created_at = now or _utcnow()
        try:
            async with self._db.begin() as db:
                # Locking the session row serializes concurrent registrations (PostgreSQL).
                session = await _session_row(db, session_id, lock=True)
                if session.status != "created":
                    raise SessionClosed()
                existing = await db.scalars(
                    select(CandidateRow.identity_key).where(CandidateRow.session_id == session_id)
                )
                errors = duplicate_errors(entries, set(existing))
                if errors:
                    raise RegistrationRejected(errors)
                rows = [_candidate_row(session_id, entry, created_at) for entry in entries]
                db.add_all(rows)
                await db.flush()
                return [Candidate.of(row) for row in rows]
        except IntegrityError as exc:  # a concurrent batch won on SQLite
            raise Refused("Ce candidat est déjà inscrit.", code="duplicate_candidate") from exc

    async def list_candidates(self, session_id: int) -> list[Candidate]:
        query = (
            select(CandidateRow)
            .where(CandidateRow.session_id == session_id)
            .order_by(CandidateRow.last_name, CandidateRow.first_name, CandidateRow.id)
        )
        async with self._db() as db:
            await _session_row(db, session_id)
            return [Candidate.of(row) for row in await db.scalars(query)]

    async def remove_candidate(self, session_id: int, candidate_id: int) -> None:
        async with self._db.begin() as db:
            session = await _session_row(db, session_id, lock=True)
            if session.status != "created":
                raise SessionClosed()
            row = await db.get(CandidateRow, candidate_id)
            if row is None or row.session_id != session_id:
                raise CandidateNotFound()
            await db.delete(row)

    async def roster(self, session_id: int) -> list[RosterEntry]:
        """The roster as the live hub matches it; unknown eligibility lets the candidate in."""
        return [
            RosterEntry(
                c.id, c.last_name, c.first_name, c.birthdate, c.extra_time, c.eligible is not False
            )
            for c in await self.list_candidates(session_id)
        ]


def _upgrade(connection: Connection) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", "vigie:migrations")
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.close()


async def _session_row(db: AsyncSession, session_id: int, *, lock: bool = False) -> SessionRow:
    row = await db.get(SessionRow, session_id, with_for_update=lock)
    if row is None:
        raise SessionNotFound()
    return row


async def _free_session_number(db: AsyncSession) -> int:
    """Random numbers: they reveal nothing about a school's activity, and databases that
    share a Redis (tests, demos) do not collide on live keys."""
    for _ in range(20):
        number = SESSION_NUMBER_MIN + secrets.randbelow(SESSION_NUMBER_MAX - SESSION_NUMBER_MIN)
        if await db.get(SessionRow, number) is None:
            return number
    raise Refused("Impossible d'attribuer un numéro de session.", code="no_session_number")


def _candidate_row(session_id: int, entry: NewCandidate, created_at: datetime) -> CandidateRow:
    return CandidateRow(
        session_id=session_id, last_name=entry.last_name, first_name=entry.first_name,
        birthdate=entry.birthdate, identity_key=entry.identity_key, extra_time=entry.extra_time,
        external_id=entry.external_id, email=entry.email, eligible=entry.eligible,
        created_at=created_at,
    )  # fmt: skip
