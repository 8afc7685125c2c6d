"""The records store on SQLite and PostgreSQL (real servers, one fresh database per test)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from vigie.core.codes import is_access_code, is_session_password
from vigie.exceptions import NotAuthenticated, NotFound, Refused
from vigie.records import Records
from vigie.records.schema import Base
from vigie.registration import NewCandidate, RegistrationRejected

START = datetime(2026, 10, 6, 7, 30, tzinfo=UTC)


@pytest.fixture
async def records(database_url: str) -> AsyncIterator[Records]:
    store = Records(database_url)
    await store.migrate()
    try:
        yield store
    finally:
        await store.close()


def lea(birthdate: date = date(2010, 2, 17), **kwargs: object) -> NewCandidate:
    return NewCandidate("Martin", "Léa", birthdate, **kwargs)  # type: ignore[arg-type]


async def planned(records: Records) -> int:
    school = await records.create_school("Collège Jean Moulin", uai="0750001A")
    session = await records.create_session(
        school.id, START, room="Salle 12", address="1 rue de l'École", examiner="M. Durand"
    )
    return session.id


async def test_migrations_match_the_schema_and_run_twice(records: Records) -> None:
    await records.migrate()

    def diff(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    async with records.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_session_gets_number_password_and_access_code(records: Records) -> None:
    school = await records.create_school("Lycée Félix Éboué", timezone="America/Cayenne")
    session = await records.create_session(
        school.id, START, room="B2", address="Cayenne", examiner="Mme Joseph"
    )
    assert 1_000_000 <= session.id <= 9_999_999
    assert is_session_password(session.password)
    assert is_access_code(session.access_code)
    assert session.timezone == "America/Cayenne"
    assert session.status == "created"

    again = await records.get_session(session.id)
    assert again.starts_at == START
    assert [s.id for s in await records.list_sessions(school.id)] == [session.id]
    assert await records.open_session_ids() == [session.id]
    info = await records.session_info(session.id)
    assert info.school_name == "Lycée Félix Éboué"
    assert info.starts_at == START.timestamp()
    assert info.password == session.password
    with pytest.raises(NotFound):
        await records.get_session(session.id + 1)


async def test_register_candidates_all_or_nothing(records: Records) -> None:
    number = await planned(records)
    batch = [
        lea(),
        lea(date(2010, 9, 8)),  # same name, other birthdate: another person
        NewCandidate("N'Diaye", "Aïssatou", date(2010, 6, 21), extra_time=0.33, eligible=True),
        NewCandidate("Bonnet", "Jade", date(2010, 6, 6), eligible=False),
    ]
    created = await records.register_candidates(number, batch)
    assert len({c.id for c in created}) == 4

    listed = await records.list_candidates(number)
    assert (listed[0].last_name, listed[0].first_name) == ("Bonnet", "Jade")
    roster = {(e.last_name, e.birthdate): e for e in await records.roster(number)}
    assert roster["N'Diaye", date(2010, 6, 21)].extra_time == pytest.approx(0.33)
    assert not roster["Bonnet", date(2010, 6, 6)].eligible
    assert roster["Martin", date(2010, 2, 17)].eligible  # unknown eligibility lets them in
    session = await records.get_session(number)
    assert await records.candidate_counts(session.school_id) == {number: 4}


async def test_a_bad_row_writes_nothing(records: Records) -> None:
    number = await planned(records)
    await records.register_candidates(number, [lea()])
    batch = [
        NewCandidate("Roux", "Hugo", date(2009, 9, 9)),
        NewCandidate("MARTIN", "lea", date(2010, 2, 17)),  # already registered, spelled otherwise
        NewCandidate("Petit", "Lucas", date(2010, 12, 24)),
        NewCandidate("Petit", "Lucas", date(2010, 12, 24)),  # twice in the batch
    ]
    with pytest.raises(RegistrationRejected) as caught:
        await records.register_candidates(number, batch)
    assert [(e.row, e.field) for e in caught.value.errors] == [(2, "last_name"), (4, "last_name")]
    assert [c.last_name for c in await records.list_candidates(number)] == ["Martin"]


async def test_remove_candidate(records: Records) -> None:
    number = await planned(records)
    [candidate] = await records.register_candidates(number, [lea()])
    with pytest.raises(NotFound):
        await records.remove_candidate(number, candidate.id + 1)
    await records.remove_candidate(number, candidate.id)
    assert await records.list_candidates(number) == []
    with pytest.raises(NotFound):
        await records.register_candidates(number + 1, [lea()])


async def test_staff_passwords_are_argon2(records: Records) -> None:
    school = await records.create_school("Collège Jean Moulin")
    staff = await records.create_staff("Admin@Example.fr", "correct horse", "admin", school.id)
    assert staff.email == "admin@example.fr"
    assert (await records.authenticate_staff("admin@example.fr ", "correct horse")).id == staff.id
    with pytest.raises(NotAuthenticated):
        await records.authenticate_staff("admin@example.fr", "wrong")
    with pytest.raises(NotAuthenticated):
        await records.authenticate_staff("nobody@example.fr", "correct horse")
    with pytest.raises(Refused):
        await records.create_staff("admin@example.fr", "other", "admin", school.id)
    async with records.engine.connect() as conn:
        stored = (await conn.exec_driver_sql("SELECT password_hash FROM staff")).scalar_one()
    assert stored.startswith("$argon2id$")


async def test_tokens_expire_and_revoke(records: Records) -> None:
    school = await records.create_school("Collège Jean Moulin")
    staff = await records.create_staff("a@example.fr", "pw", "admin", school.id)
    now = datetime.now(UTC)
    token = await records.issue_token(staff.id, now=now)
    assert (await records.staff_for_token(token, now=now)).id == staff.id
    with pytest.raises(NotAuthenticated):
        await records.staff_for_token(token, now=now + timedelta(days=1))
    with pytest.raises(NotAuthenticated):
        await records.staff_for_token(token + "x", now=now)
    await records.revoke_token(token)
    with pytest.raises(NotAuthenticated):
        await records.staff_for_token(token, now=now)


async def test_outcomes_are_upserted_and_read_back_by_session(records: Records) -> None:
    number = await planned(records)
    (candidate,) = await records.register_candidates(number, [lea()])
    first = {"v": 1, "status": "ended_by_invigilator", "answers": [["q11-01", True]],
             "abort_reason": None, "neutralized": [],
             "result": {"score": 0, "rejected": True}}  # fmt: skip
    await records.outcomes.save(number, candidate.id, first, now=START)
    again = {**first, "abort_reason": "technical", "result": {"score": 12, "rejected": False}}
    await records.outcomes.save(number, candidate.id, again, now=START)  # a rescoring
    await records.outcomes.save(number, candidate.id, again, now=START)  # a retry
    assert await records.outcomes.of_session(number) == {candidate.id: again}
    assert await records.outcomes.of_session(number + 1) == {}


async def test_parallel_first_saves_of_one_outcome_keep_one_row(records: Records) -> None:
    number = await planned(records)
    (candidate,) = await records.register_candidates(number, [lea()])
    data = {"v": 1, "status": "finished", "answers": [], "abort_reason": None,
            "neutralized": [], "result": {"score": 300, "rejected": False}}  # fmt: skip
    await asyncio.gather(
        *(records.outcomes.save(number, candidate.id, data, now=START) for _ in range(8))
    )
    assert await records.outcomes.of_session(number) == {candidate.id: data}
