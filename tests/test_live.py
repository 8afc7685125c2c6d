"""The live store against a real Redis (docs/architecture.md "Guarantees")."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import msgpack
import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot

from conftest import UNIT, new_session_number
from vigie.core.candidate import (
    Answer,
    CandidateState,
    ConfirmPresence,
    Disconnect,
    GrantTime,
    Start,
    Status,
)
from vigie.core.roster import RosterEntry, SessionInfo
from vigie.exceptions import Conflict, NotFound, RateLimited
from vigie.live import (
    CODE_FAILURES_ALLOWED,
    CODE_LOCK_SECONDS,
    Applied,
    LiveStore,
    channel,
    state_from_hash,
    state_to_hash,
    tag,
)

T0 = 1_750_000_000.0
ROSTER = [
    RosterEntry(1, "N'Diaye", "Aïssatou", date(2010, 6, 21), extra_time=0.33),
    RosterEntry(2, "Martin", "Léa", date(2010, 2, 17)),
    RosterEntry(3, "Martin", "Léa", date(2010, 9, 8), eligible=False),
]


def session_info(sid: int, **changes: Any) -> SessionInfo:
    info = SessionInfo(
        session_id=sid,
        school_name="Collège Jean Moulin",
        room="B12",
        address="1 rue de la République, 69001 Lyon",
        examiner="Mme Durand",
        starts_at=T0,
        timezone="Europe/Paris",
        password="b2c3d4",
        access_code="KDMF47",
    )
    return dataclasses.replace(info, **changes)


@pytest.fixture
def store(redis_client: aioredis.Redis) -> LiveStore:
    return LiveStore(redis_client)


@pytest.fixture
async def sid(store: LiveStore) -> int:
    """A live session with the three candidates of ``ROSTER``."""
    number = new_session_number()
    await store.load_session(session_info(number), ROSTER)
    return number


@pytest.fixture
async def events(redis_client: aioredis.Redis, sid: int) -> AsyncIterator[Subscriber]:
    """Everything published on the session's channel, from now on."""
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(channel(sid))
    try:
        yield Subscriber(pubsub)
    finally:
        await pubsub.aclose()


class Subscriber:
    def __init__(self, pubsub: Any) -> None:
        self.pubsub = pubsub

    async def next(self, seconds: float = 5.0) -> tuple[int, dict[str, Any]]:
        """The next published ``<seq>|<epoch>|<payload>``, waited for with a deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds * UNIT
        while (left := deadline - loop.time()) > 0:
            message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            if message is not None:
                seq, _, rest = message["data"].partition(b"|")
                _epoch, _, payload = rest.partition(b"|")
                return int(seq), msgpack.unpackb(payload)
        raise AssertionError("nothing published before the deadline")


async def started(store: LiveStore, sid: int, cid: int = 1) -> CandidateState:
    state = await store.state(sid, cid)
    state = (await store.execute(state, ConfirmPresence(), T0)).state
    return (await store.execute(state, Start(), T0 + 60, heartbeat="set")).state


async def stream_seqs(redis_client: aioredis.Redis, sid: int) -> list[int]:
    entries = await redis_client.xrange(f"{tag(sid)}:log")
    return [int(entry_id.split(b"-")[0]) for entry_id, _ in entries]


# --- sessions and rosters ----------------------------------------------------------------


async def test_load_session_writes_meta_roster_and_registered_candidates(
    store: LiveStore, redis_client: aioredis.Redis, sid: int
) -> None:
    meta = await store.meta(sid)
    assert meta is not None
    assert meta["seq"] == "0"
    assert len(meta["epoch"]) == 16
    assert (meta["password"], meta["access_code"], meta["status"]) == (
        "b2c3d4",
        "KDMF47",
        "created",
    )
    assert (meta["school"], meta["room"], meta["timezone"]) == (
        "Collège Jean Moulin",
        "B12",
        "Europe/Paris",
    )
    assert float(meta["starts_at"]) == T0
    assert await store.roster(sid) == {entry.candidate_id: entry for entry in ROSTER}
    state = await store.state(sid, 1)
    assert state == CandidateState(sid, 1, extra_time=0.33)
    assert (await store.state(sid, 3)).status is Status.REGISTERED


async def test_a_second_load_never_overwrites_live_state(store: LiveStore, sid: int) -> None:
    await store.set_meta(sid, access_code="BCDF23")
    state = await started(store, sid)
    before_meta = await store.meta(sid)
    assert before_meta is not None
    changed = [dataclasses.replace(ROSTER[0], extra_time=0.5), *ROSTER[1:]]
    await store.load_session(session_info(sid, access_code="KDMF47", password="zzzzzz"), changed)
    after_meta = await store.meta(sid)
    assert after_meta == before_meta  # same epoch, seq, codes
    assert await store.state(sid, 1) == state  # still in progress, extra time as loaded
    assert state.status is Status.IN_PROGRESS and state.extra_time == 0.33


async def test_load_session_updates_the_status_from_the_records(store: LiveStore, sid: int) -> None:
    await store.load_session(session_info(sid, status="finalized"), [])
    meta = await store.meta(sid)
    assert meta is not None and meta["status"] == "finalized"


async def test_add_and_remove_candidates(store: LiveStore, sid: int) -> None:
    late = RosterEntry(4, "Öztürk", "Elif", date(2009, 10, 19), extra_time=1.0)
    await store.add_candidates(sid, [late])
    assert (await store.roster(sid))[4] == late
    assert (await store.state(sid, 4)).extra_time == 1.0
    await store.remove_candidate(sid, 4)
    assert 4 not in await store.roster(sid)
    with pytest.raises(NotFound) as missing:
        await store.state(sid, 4)
    assert missing.value.code == "candidate_not_found"


async def test_roster_round_trip_keeps_every_field(store: LiveStore) -> None:
    sid = new_session_number()
    entries = [
        RosterEntry(10, "Nguyễn", "Minh", date(2010, 5, 30), 0.0, True),
        RosterEntry(11, "De La Fontaine", "Jean", date(2010, 8, 8), 9.99, False),
    ]
    await store.load_session(session_info(sid), entries)
    roster = await store.roster(sid)
    assert roster == {10: entries[0], 11: entries[1]}
    assert isinstance(roster[10].birthdate, date)


async def test_meta_of_an_unknown_session_is_none(store: LiveStore) -> None:
    assert await store.meta(new_session_number()) is None
    with pytest.raises(NotFound):
        await store.snapshot(new_session_number())


async def test_first_start_is_kept(store: LiveStore, sid: int) -> None:
    assert await store.mark_first_start(sid, T0 + 5) == T0 + 5
    assert await store.mark_first_start(sid, T0 + 99) == T0 + 5


def test_state_hash_round_trip() -> None:
    state = CandidateState(
        5, 9, Status.DISCONNECTED, 12, 0.33, 7.5, T0, None, T0 + 1.25, 3.5, None, 17, "E2"
    )
    assert state_from_hash(5, state_to_hash(state)) == state
    assert state_from_hash(5, {"candidate_id": "9"}) == CandidateState(5, 9)


# --- execute ----------------------------------------------------------------------------------


async def test_execute_stores_appends_and_publishes(
    store: LiveStore, redis_client: aioredis.Redis, sid: int, events: Subscriber
) -> None:
    state = await store.state(sid, 2)
    applied = await store.execute(state, ConfirmPresence(), T0, extra={"conn": "c1"})
    assert applied.seq == 1
    assert applied.state.status is Status.PRESENT and applied.state.version == 1
    assert applied.event is not None and applied.event.kind == "confirm_presence"
    assert await store.state(sid, 2) == applied.state
    assert (await store.candidate(sid, 2))["conn"] == "c1"
    seq, body = await events.next()
    expected = {"type": "confirm_presence", "candidate_id": 2, "at": T0, "version": 1,
                "status": "present"}  # fmt: skip
    assert (seq, body) == (1, expected)
    entries = await redis_client.xrange(f"{tag(sid)}:log")
    assert [(entry_id, msgpack.unpackb(data[b"p"])) for entry_id, data in entries] == [
        (b"1-1", expected)
    ]
    meta = await store.meta(sid)
    assert meta is not None and meta["seq"] == "1"


async def test_seq_increases_by_one_without_gaps(
    store: LiveStore, redis_client: aioredis.Redis, sid: int, events: Subscriber
) -> None:
    states = [await store.state(sid, cid) for cid in (1, 2, 3)]

    async def confirm(state: CandidateState) -> int:
        return (await store.execute(state, ConfirmPresence(), T0)).seq

    seqs = sorted(await asyncio.gather(*(confirm(s) for s in states)))
    seqs.append(await store.append(sid, {"type": "incident", "category": "C7"}))
    seqs.append((await store.execute(await store.state(sid, 1), Start(), T0 + 1)).seq)
    assert seqs == [1, 2, 3, 4, 5]
    assert await stream_seqs(redis_client, sid) == [1, 2, 3, 4, 5]
    published = [(await events.next())[0] for _ in range(5)]
    assert published == [1, 2, 3, 4, 5]


async def test_a_stale_version_conflicts_and_changes_nothing(
    store: LiveStore, redis_client: aioredis.Redis, sid: int, events: Subscriber
) -> None:
    old = await store.state(sid, 1)
    fresh = (await store.execute(old, ConfirmPresence(), T0)).state
    assert (await events.next())[0] == 1
    before = await store.candidate(sid, 1)
    with pytest.raises(Conflict) as conflict:
        await store.execute(old, GrantTime(10, "panne"), T0 + 1)
    assert conflict.value.code == "conflict"
    assert await store.candidate(sid, 1) == before
    assert await store.state(sid, 1) == fresh
    assert await stream_seqs(redis_client, sid) == [1]
    meta = await store.meta(sid)
    assert meta is not None and meta["seq"] == "1"
    await store.append(sid, {"type": "marker"})
    assert (await events.next())[0] == 2  # the refused change published nothing


async def test_two_concurrent_changes_from_the_same_read_one_wins(
    store: LiveStore, redis_client: aioredis.Redis, sid: int
) -> None:
    read = await started(store, sid)
    results = await asyncio.gather(
        store.execute(read, GrantTime(5, "panne"), T0 + 100),
        store.execute(read, Disconnect(), T0 + 100),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, Applied)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0], Conflict)
    assert await store.state(sid, 1) == winners[0].state
    assert await stream_seqs(redis_client, sid) == [1, 2, 3]


async def test_many_concurrent_changes_from_the_same_read_exactly_one_wins(
    store: LiveStore, redis_client: aioredis.Redis, sid: int
) -> None:
    read = await started(store, sid)
    results = await asyncio.gather(
        *(store.execute(read, GrantTime(n + 1, f"r{n}"), T0 + 100) for n in range(10)),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, Applied)]
    assert len(winners) == 1
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, Applied))
    assert (await store.state(sid, 1)).granted_minutes == winners[0].state.granted_minutes
    assert await stream_seqs(redis_client, sid) == [1, 2, 3]


async def test_execute_on_an_unknown_candidate_is_not_found(store: LiveStore, sid: int) -> None:
    with pytest.raises(NotFound):
        await store.execute(CandidateState(sid, 99), ConfirmPresence(), T0)
    with pytest.raises(NotFound):
        await store.candidate(sid, 99)


async def test_an_answer_is_stored_once(
    store: LiveStore, redis_client: aioredis.Redis, sid: int, events: Subscriber
) -> None:
    state = await started(store, sid)
    await events.next(), await events.next()
    stored = msgpack.packb({"question_id": "q1", "answer": "b"})
    first = await store.execute(state, Answer(2), T0 + 120, answer=(1, stored))
    assert first.duplicate_answer is None and first.seq == 3
    assert (await events.next())[0] == 3
    # The retry comes from the same read (the hub did not see the reply): stale version.
    retried = await store.execute(state, Answer(2), T0 + 121, answer=(1, b"other"))
    assert retried.duplicate_answer == stored
    assert retried.event is None and retried.seq == 0
    # A retry from the fresh state is a duplicate too, not a second answer.
    again = await store.execute(first.state, Answer(2), T0 + 122, answer=(1, b"other"))
    assert again.duplicate_answer == stored
    assert await store.answers(sid, 1) == {1: {"question_id": "q1", "answer": "b"}}
    assert await store.state(sid, 1) == first.state
    assert await stream_seqs(redis_client, sid) == [1, 2, 3]
    await store.append(sid, {"type": "marker"})
    assert (await events.next())[0] == 4
    second = await store.execute(first.state, Answer(3), T0 + 130, answer=(2, b"\x01"))
    assert second.seq == 5
    assert set(await store.answers(sid, 1)) == {1, 2}


async def test_the_connection_guard(store: LiveStore, sid: int) -> None:
    state = await started(store, sid)
    await store.set_fields(sid, 1, conn="new-socket")
    before = await store.candidate(sid, 1)
    late_close = await store.execute(
        state, Disconnect(), T0 + 200, conn_guard="old-socket", heartbeat="del"
    )
    assert late_close == Applied(state, None, 0)
    assert await store.candidate(sid, 1) == before
    assert 1 in await store.heartbeats(sid)
    close = await store.execute(
        state, Disconnect(), T0 + 200, conn_guard="new-socket", heartbeat="del"
    )
    assert close.state.status is Status.DISCONNECTED and close.seq == 3
    assert 1 not in await store.heartbeats(sid)


async def test_the_stale_guard_of_the_sweep(store: LiveStore, sid: int) -> None:
    state = await started(store, sid)  # heartbeat set at T0 + 60
    assert (await store.heartbeats(sid))[1] == T0 + 60
    await store.heartbeat_batch({sid: {1: T0 + 100}})
    before = await store.candidate(sid, 1)
    # Another hub saw a heartbeat after the sweep's cut-off: the sweep changes nothing.
    fresh = await store.execute(state, Disconnect("silent"), T0 + 105, stale_before=T0 + 100)
    assert fresh == Applied(state, None, 0)
    assert await store.candidate(sid, 1) == before
    silent = await store.execute(
        state, Disconnect("silent"), T0 + 113, stale_before=T0 + 101, heartbeat="del"
    )
    assert silent.state.status is Status.DISCONNECTED
    assert silent.event is not None and silent.event.data["reason"] == "silent"
    # A second sweep from the same read (another hub) loses: a conflict, nothing changes.
    after = await store.candidate(sid, 1)
    with pytest.raises(Conflict):
        await store.execute(state, Disconnect("silent"), T0 + 114, stale_before=T0 + 102)
    assert await store.candidate(sid, 1) == after


async def test_the_stale_guard_without_a_heartbeat_changes_nothing(
    store: LiveStore, sid: int
) -> None:
    state = await started(store, sid)
    await store.drop_heartbeat(sid, 1)  # a closed socket was handled meanwhile
    before = await store.candidate(sid, 1)
    applied = await store.execute(state, Disconnect("silent"), T0 + 200, stale_before=T0 + 188)
    assert applied == Applied(state, None, 0)
    assert await store.candidate(sid, 1) == before


async def test_heartbeats_and_stale(store: LiveStore, sid: int) -> None:
    for cid in (1, 2):
        await started(store, sid, cid)
    await store.heartbeat_batch({sid: {1: T0 + 200, 3: T0 + 200}})  # 3 is not connected
    assert await store.heartbeats(sid) == {1: T0 + 200, 2: T0 + 60}
    assert await store.stale([sid], T0 + 100) == [(sid, 2)]
    assert await store.stale([sid], T0 + 60) == []  # strictly older
    assert sorted(await store.stale([sid], T0 + 201)) == [(sid, 1), (sid, 2)]
    assert await store.stale([], T0 + 1000) == []
    await store.drop_heartbeat(sid, 2)
    await store.add_heartbeat(sid, 3, T0 + 10)
    assert await store.heartbeats(sid) == {1: T0 + 200, 3: T0 + 10}


# --- the session log --------------------------------------------------------------------------


async def test_events_after_replays_exactly_the_missing_events(store: LiveStore, sid: int) -> None:
    assert await store.events_after(sid, 0) == []
    for n in range(6):
        await store.append(sid, {"type": "note", "n": n})
    replay = await store.events_after(sid, 2)
    assert replay is not None
    assert [seq for seq, _ in replay] == [3, 4, 5, 6]
    assert [msgpack.unpackb(p)["n"] for _, p in replay] == [2, 3, 4, 5]
    assert await store.events_after(sid, 6) == []
    assert await store.events_after(sid, 7) is None  # ahead of the session: not ours
    full = await store.events_after(sid, 0)
    assert full is not None and [seq for seq, _ in full] == [1, 2, 3, 4, 5, 6]


async def test_events_after_is_none_once_trimmed(redis_client: aioredis.Redis) -> None:
    small = LiveStore(redis_client, stream_maxlen=10)
    sid = new_session_number()
    await small.load_session(session_info(sid), ROSTER)
    for n in range(500):
        await small.append(sid, {"type": "note", "n": n})
    kept = await stream_seqs(redis_client, sid)
    assert kept[-1] == 500
    assert len(kept) < 500  # MAXLEN ~ trims whole macro-nodes: some were dropped
    first_kept = kept[0]
    assert await small.events_after(sid, 0) is None
    assert await small.events_after(sid, first_kept - 2) is None
    replay = await small.events_after(sid, first_kept - 1)
    assert replay is not None and [s for s, _ in replay] == list(range(first_kept, 501))
    tail = await small.events_after(sid, 495)
    assert tail is not None and [msgpack.unpackb(p)["n"] for _, p in tail] == [
        495,
        496,
        497,
        498,
        499,
    ]


async def test_snapshot_is_the_whole_board_at_its_seq(
    store: LiveStore, redis_client: aioredis.Redis, sid: int
) -> None:
    state = await started(store, sid, 1)
    await store.execute(await store.state(sid, 2), ConfirmPresence(), T0 + 5)
    snap = await store.snapshot(sid)
    meta = await store.meta(sid)
    assert meta is not None
    assert (snap.epoch, snap.seq, snap.meta) == (meta["epoch"], 3, meta)
    assert snap.roster[1] == {"last_name": "N'Diaye", "first_name": "Aïssatou",
                              "birthdate": "2010-06-21", "eligible": True,
                              "extra_time": 0.33}  # fmt: skip
    assert set(snap.roster) == set(snap.candidates) == {1, 2, 3}
    assert state_from_hash(sid, snap.candidates[1]) == state
    assert snap.candidates[2]["status"] == "present"
    assert snap.candidates[3]["status"] == "registered"
    assert snap.heartbeats == {1: T0 + 60}


async def test_a_snapshot_is_never_a_partial_state(store: LiveStore, sid: int) -> None:
    """Read while changes land: every candidate's version agrees with the seq read."""
    states = {cid: await store.state(sid, cid) for cid in (1, 2, 3)}

    async def change_all() -> None:
        for _ in range(20):
            for cid in (1, 2, 3):
                applied = await store.execute(states[cid], GrantTime(1, "x"), T0)
                states[cid] = applied.state

    async def read_all() -> list[Any]:
        return [await store.snapshot(sid) for _ in range(30)]

    _, snapshots = await asyncio.gather(change_all(), read_all())
    for snap in snapshots:
        versions = sum(int(c["version"]) for c in snap.candidates.values())
        assert versions == snap.seq  # each change bumps one version and the seq together


async def test_an_incident_is_kept_and_published(
    store: LiveStore, sid: int, events: Subscriber
) -> None:
    body = {"type": "incident", "category": "E4", "candidate_id": 2, "question_number": 7}
    seq = await store.add_incident(sid, body)
    assert seq == 1
    assert await events.next() == (1, body)
    assert await store.incidents(sid) == [body]


# --- rate limits --------------------------------------------------------------------------


async def _wrong_code(store: LiveStore, sid: int, candidate_id: int, now: float) -> bool:
    await store.reserve_code_attempt(sid, candidate_id, now)
    return await store.code_failure(sid, candidate_id, now)


async def test_the_tenth_wrong_code_locks_and_publishes(
    store: LiveStore, sid: int, events: Subscriber
) -> None:
    for n in range(CODE_FAILURES_ALLOWED - 1):
        assert await _wrong_code(store, sid, 1, T0 + n) is False
    assert "locked_until" not in await store.candidate(sid, 1)
    now = T0 + 30
    assert await _wrong_code(store, sid, 1, now) is True
    assert float((await store.candidate(sid, 1))["locked_until"]) == now + CODE_LOCK_SECONDS
    seq, body = await events.next()
    assert seq == 1
    assert body == {"type": "code_locked", "candidate_id": 1, "at": now,
                    "locked_until": now + CODE_LOCK_SECONDS}  # fmt: skip
    # Another candidate's failures count apart.
    assert await _wrong_code(store, sid, 2, now) is False


async def test_a_locked_candidate_gets_no_attempt_and_the_lock_keeps_the_window(
    store: LiveStore, sid: int
) -> None:
    for n in range(CODE_FAILURES_ALLOWED):
        await _wrong_code(store, sid, 1, T0 + n)
    with pytest.raises(RateLimited) as locked:
        await store.reserve_code_attempt(sid, 1, T0 + 60)
    assert locked.value.code == "code_locked"
    assert locked.value.retry_after == pytest.approx(CODE_LOCK_SECONDS + 9 - 60)
    # Once the lock is over the ten failures still fill the 10-minute window: no new
    # comparison until the oldest leaves it (the lock did not reset the count).
    with pytest.raises(RateLimited) as full:
        await store.reserve_code_attempt(sid, 1, T0 + CODE_LOCK_SECONDS + 20)
    assert full.value.retry_after == pytest.approx(600 - CODE_LOCK_SECONDS - 20)
    await store.reserve_code_attempt(sid, 1, T0 + 600.5)


async def test_a_right_code_takes_its_attempt_back(store: LiveStore, sid: int) -> None:
    for n in range(CODE_FAILURES_ALLOWED - 1):
        await _wrong_code(store, sid, 1, T0 + n)
    for n in range(5):  # right codes do not count
        await store.release_attempt(await store.reserve_code_attempt(sid, 1, T0 + 20 + n))
    assert await _wrong_code(store, sid, 1, T0 + 30) is True


async def test_wrong_codes_older_than_the_window_are_forgotten(store: LiveStore, sid: int) -> None:
    for n in range(CODE_FAILURES_ALLOWED - 1):
        assert await _wrong_code(store, sid, 1, T0 + n) is False
    assert await _wrong_code(store, sid, 1, T0 + 601) is False  # 9 of them left the window
    assert await store.events_after(sid, 0) == []


async def test_reserve_attempt(store: LiveStore) -> None:
    key = f"test-{new_session_number()}"
    try:
        for n in range(3):
            await store.reserve_attempt("login", key, T0 + n, limit=3, window=60)
        with pytest.raises(RateLimited) as limited:
            await store.reserve_attempt("login", key, T0 + 10, limit=3, window=60)
        assert limited.value.code == "rate_limited"
        assert limited.value.retry_after == pytest.approx(50, abs=0.01)  # oldest + 60 - now
        with pytest.raises(RateLimited) as limited:
            await store.reserve_attempt("login", key, T0 + 59.9, limit=3, window=60)
        assert limited.value.retry_after == 1.0  # never below a second
        await store.reserve_attempt("login", key, T0 + 60.5, limit=3, window=60)  # oldest left
        await store.reserve_attempt("other", key, T0 + 60.5, limit=3, window=60)  # scopes apart
        await store.clear_attempts("login", key)
        for n in range(3):
            await store.reserve_attempt("login", key, T0 + 61 + n, limit=3, window=60)
    finally:
        await store.clear_attempts("login", key)
        await store.clear_attempts("other", key)


async def test_a_released_attempt_no_longer_counts(store: LiveStore) -> None:
    key = f"test-{new_session_number()}"
    try:
        first = await store.reserve_attempt("join", key, T0, limit=2, window=60)
        await store.reserve_attempt("join", key, T0 + 1, limit=2, window=60)
        await store.release_attempt(first)
        await store.reserve_attempt("join", key, T0 + 2, limit=2, window=60)
        with pytest.raises(RateLimited) as limited:
            await store.reserve_attempt("join", key, T0 + 30, limit=2, window=60)
        assert limited.value.retry_after == pytest.approx(31, abs=0.01)
    finally:
        await store.clear_attempts("join", key)


async def test_parallel_attempts_are_counted_before_any_comparison(store: LiveStore) -> None:
    key = f"test-{new_session_number()}"
    try:
        outcomes = await asyncio.gather(
            *(store.reserve_attempt("board", key, T0, limit=5, window=60) for _ in range(40)),
            return_exceptions=True,
        )
        assert sum(not isinstance(o, BaseException) for o in outcomes) == 5
        assert all(isinstance(o, RateLimited) for o in outcomes if isinstance(o, BaseException))
    finally:
        await store.clear_attempts("board", key)


# --- one session, one shard --------------------------------------------------------------


async def test_every_key_of_a_session_carries_its_hash_tag(
    store: LiveStore, redis_client: aioredis.Redis, sid: int
) -> None:
    state = await started(store, sid)
    await store.execute(state, Answer(2), T0 + 70, answer=(1, b"\x01"))
    await _wrong_code(store, sid, 2, T0)
    await store.add_incident(sid, {"type": "incident", "category": "C7"})
    await store.snapshot(sid)
    keys = {key.decode() async for key in redis_client.scan_iter(match=f"*{sid}*")}
    t = tag(sid)
    assert {f"{t}:meta", f"{t}:roster", f"{t}:c:1", f"{t}:hb", f"{t}:ans:1",
            f"{t}:codefail:2", f"{t}:log", f"{t}:incidents"} <= keys  # fmt: skip
    assert all(key.startswith(f"{t}:") for key in keys), keys
    assert len({key_slot(key.encode()) for key in keys}) == 1
    assert key_slot(channel(sid).encode()) == key_slot(f"{t}:meta".encode())
