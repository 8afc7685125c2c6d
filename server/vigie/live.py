"""The live store: every Redis key and Lua script of Vigie lives in this module.

Keys carry the session's hash tag, ``{s:<session>}``, so each script touches one slot and
sessions spread across a Redis Cluster unchanged (docs/architecture.md "One session, one shard")::

    {s:N}:meta          hash: epoch, seq, password, access_code, first_start, status, ...
    {s:N}:roster        hash: candidate id -> msgpack identity (names, birthdate, eligible)
    {s:N}:c:<id>        hash: the candidate's live state (CandidateState fields + hub fields)
    {s:N}:hb            sorted set: candidate id -> last heartbeat (connected candidates only)
    {s:N}:ans:<id>      hash: question number -> msgpack stored answer
    {s:N}:codefail:<id> sorted set: times of wrong access codes (10 in 10 min lock 5 min)
    {s:N}:incidents     list: msgpack incidents recorded by the invigilators
    {s:N}:log           stream: the session's ordered events, id ``<seq>-1``, field ``p``
    {s:N}:ch            pub/sub channel: ``<seq>|<epoch>|<msgpack event>``
    rl:{<scope>:<key>}  sorted set: attempts at a secret (passwords, joins), own hash tag

A state change is ONE script (``_APPLY``): check the candidate's version, write the state
hash, append the event to the stream with the next seq (``MAXLEN ~``), publish it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import msgpack
import redis.asyncio as aioredis

from vigie.core.candidate import CandidateState, Command, Event, Status, apply
from vigie.core.roster import RosterEntry, SessionInfo
from vigie.exceptions import Conflict, NotFound, RateLimited

CODE_FAILURES_ALLOWED = 10
CODE_FAILURE_WINDOW = 600.0
CODE_LOCK_SECONDS = 300.0
CODE_LOCKED_MESSAGE = "Trop de codes incorrects : attendez 5 minutes ou appelez votre surveillant."

_APPLY = """
local cand, meta, stream, hb, answers = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local version = redis.call('HGET', cand, 'version')
if not version then return {-4} end
if ARGV[8] ~= '' and redis.call('HEXISTS', answers, ARGV[8]) == 1 then
  return {-2, redis.call('HGET', answers, ARGV[8])}
end
if version ~= ARGV[1] then return {-1, version} end
if ARGV[6] ~= '' then
  local score = redis.call('ZSCORE', hb, ARGV[11])
  if (not score) or tonumber(score) >= tonumber(ARGV[6]) then return {-3} end
end
if ARGV[7] ~= '' and redis.call('HGET', cand, 'conn') ~= ARGV[7] then return {-3} end
for i = 12, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', cand, ARGV[i])
  else redis.call('HSET', cand, ARGV[i], ARGV[i + 1]) end
end
if ARGV[8] ~= '' then redis.call('HSET', answers, ARGV[8], ARGV[9]) end
if ARGV[5] == 'set' then redis.call('ZADD', hb, ARGV[10], ARGV[11])
elseif ARGV[5] == 'del' then redis.call('ZREM', hb, ARGV[11]) end
local seq = redis.call('HINCRBY', meta, 'seq', 1)
redis.call('XADD', stream, 'MAXLEN', '~', ARGV[3], seq .. '-1', 'p', ARGV[4])
local epoch = redis.call('HGET', meta, 'epoch') or ''
redis.call('PUBLISH', ARGV[2], seq .. '|' .. epoch .. '|' .. ARGV[4])
return {seq}
"""

_APPEND = """
if KEYS[3] then redis.call('RPUSH', KEYS[3], ARGV[3]) end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-1', 'p', ARGV[3])
local epoch = redis.call('HGET', KEYS[1], 'epoch') or ''
redis.call('PUBLISH', ARGV[1], seq .. '|' .. epoch .. '|' .. ARGV[3])
return seq
"""

_SNAPSHOT = """
local meta = redis.call('HGETALL', KEYS[1])
local ids = redis.call('HKEYS', KEYS[2])
local out = {meta, redis.call('HGETALL', KEYS[2]),
             redis.call('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES'),
             redis.call('LRANGE', KEYS[4], 0, -1)}
for _, id in ipairs(ids) do
  table.insert(out, redis.call('HGETALL', ARGV[1] .. id))
end
return out
"""

_CODE_FAILURE = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local count = redis.call('ZCARD', KEYS[1])
local locked = tonumber(redis.call('HGET', KEYS[2], 'locked_until') or '0')
if count < tonumber(ARGV[3]) or locked > now then return {count, 0} end
redis.call('HSET', KEYS[2], 'locked_until', ARGV[4])
local seq = redis.call('HINCRBY', KEYS[3], 'seq', 1)
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[6], seq .. '-1', 'p', ARGV[5])
local epoch = redis.call('HGET', KEYS[3], 'epoch') or ''
redis.call('PUBLISH', ARGV[7], seq .. '|' .. epoch .. '|' .. ARGV[5])
return {count, seq}
"""

_RESERVE = """
local now = tonumber(ARGV[1])
if KEYS[2] then
  local locked = tonumber(redis.call('HGET', KEYS[2], 'locked_until') or '0')
  if locked > now then return tostring(locked) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(tonumber(oldest[2]) + tonumber(ARGV[4]))
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[5])
redis.call('PEXPIRE', KEYS[1], math.floor(tonumber(ARGV[4]) * 1000))
return ''
"""
"""Count one attempt before its secret is compared, or refuse: returns '' (counted) or the
time the next attempt becomes possible. ``KEYS[2]``, when given, is a hash whose
``locked_until`` refuses every attempt until then (the access-code lock)."""

# CandidateState fields kept in the hash; the hash also holds the hub's own fields.
_STATE_FIELDS = tuple(f.name for f in fields(CandidateState) if f.name not in ("session_id",))
_FLOAT_FIELDS = {
    "extra_time", "granted_minutes", "started_at", "ended_at", "disconnected_at",
    "time_lost", "resume_authorized_at",
}  # fmt: skip
_INT_FIELDS = {"candidate_id", "version", "question_number"}


def tag(session_id: int) -> str:
    return f"{{s:{session_id}}}"


def channel(session_id: int) -> str:
    return f"{tag(session_id)}:ch"


def _encode(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def state_to_hash(state: CandidateState) -> dict[str, str]:
    return {name: _encode(getattr(state, name)) for name in _STATE_FIELDS}


def state_from_hash(session_id: int, raw: Mapping[str, str]) -> CandidateState:
    values: dict[str, Any] = {}
    for name in _STATE_FIELDS:
        text = raw.get(name, "")
        if name in _FLOAT_FIELDS:
            values[name] = (
                float(text)
                if text
                else (0.0 if name in ("extra_time", "granted_minutes", "time_lost") else None)
            )
        elif name in _INT_FIELDS:
            values[name] = int(text or 0)
        elif name == "status":
            values[name] = Status(text or "registered")
        else:
            values[name] = text or None
    return CandidateState(session_id=session_id, **values)


def event_payload(event: Event) -> bytes:
    """The msgpack bytes stored in the stream and published: the event, without its seq."""
    body = {"type": event.kind, "candidate_id": event.candidate_id, "at": event.at,
            "version": event.version, **event.data}  # fmt: skip
    return msgpack.packb(body)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One counted attempt at a secret: the limit's key and this attempt's member."""

    key: str
    member: str


@dataclass(frozen=True, slots=True)
class Applied:
    state: CandidateState
    event: Event | None
    seq: int
    duplicate_answer: bytes | None = None
    """Set when the answer was stored before: the earlier stored answer, nothing changed."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    epoch: str
    seq: int
    meta: dict[str, str]
    roster: dict[int, dict[str, Any]]
    candidates: dict[int, dict[str, str]]
    heartbeats: dict[int, float]
    incidents: list[dict[str, Any]]


class LiveStore:
    """Async access to the live state of every session."""

    def __init__(self, client: aioredis.Redis, *, stream_maxlen: int = 10_000) -> None:
        # redis-py's annotations type replies as ``bytes | str``: this store only ever uses
        # bytes replies (no decode_responses), so it reads them untyped and converts here.
        self.client: Any = client
        self.stream_maxlen = stream_maxlen
        self._apply = client.register_script(_APPLY)
        self._append = client.register_script(_APPEND)
        self._snapshot = client.register_script(_SNAPSHOT)
        self._code_failure = client.register_script(_CODE_FAILURE)
        self._reserve = client.register_script(_RESERVE)

    # --- sessions and rosters -------------------------------------------------------

    async def load_session(self, info: SessionInfo, roster: Iterable[RosterEntry]) -> None:
        """Make a planned session live; idempotent, never overwrites live state."""
        t = tag(info.session_id)
        meta = {
            "epoch": secrets.token_hex(8), "seq": "0", "school": info.school_name,
            "room": info.room, "address": info.address, "examiner": info.examiner,
            "starts_at": repr(info.starts_at), "timezone": info.timezone,
            "password": info.password, "access_code": info.access_code,
            "status": info.status,
        }  # fmt: skip
        async with self.client.pipeline(transaction=True) as pipe:
            for key, value in meta.items():
                pipe.hsetnx(f"{t}:meta", key, value)
            pipe.hset(f"{t}:meta", "status", info.status)
            await pipe.execute()
        await self.add_candidates(info.session_id, roster)

    async def add_candidates(self, session_id: int, roster: Iterable[RosterEntry]) -> None:
        t = tag(session_id)
        async with self.client.pipeline(transaction=True) as pipe:
            for entry in roster:
                identity = msgpack.packb({
                    "last_name": entry.last_name, "first_name": entry.first_name,
                    "birthdate": entry.birthdate.isoformat(), "eligible": entry.eligible,
                    "extra_time": entry.extra_time,
                })  # fmt: skip
                pipe.hset(f"{t}:roster", str(entry.candidate_id), identity)
                state = CandidateState(session_id, entry.candidate_id, extra_time=entry.extra_time)
                for key, value in state_to_hash(state).items():
                    pipe.hsetnx(f"{t}:c:{entry.candidate_id}", key, value)
            await pipe.execute()

    async def remove_candidate(self, session_id: int, candidate_id: int) -> None:
        """Unregister a candidate who never came (registered status only)."""
        t = tag(session_id)
        await self.client.hdel(f"{t}:roster", str(candidate_id))
        await self.client.delete(f"{t}:c:{candidate_id}")

    async def meta(self, session_id: int) -> dict[str, str] | None:
        raw = await self.client.hgetall(f"{tag(session_id)}:meta")
        return _text_map(raw) or None

    async def set_meta(self, session_id: int, **values: str) -> None:
        await self.client.hset(f"{tag(session_id)}:meta", mapping=values)

    async def mark_first_start(self, session_id: int, now: float) -> float:
        """The session's first start opens the 24 h entry window; returns it."""
        key = f"{tag(session_id)}:meta"
        await self.client.hsetnx(key, "first_start", repr(now))
        return float(await self.client.hget(key, "first_start"))

    async def roster(self, session_id: int) -> dict[int, RosterEntry]:
        raw = await self.client.hgetall(f"{tag(session_id)}:roster")
        return {int(cid): _roster_entry(int(cid), value) for cid, value in raw.items()}

    # --- candidates -------------------------------------------------------------------

    async def candidate(self, session_id: int, candidate_id: int) -> dict[str, str]:
        raw = await self.client.hgetall(f"{tag(session_id)}:c:{candidate_id}")
        if not raw:
            raise NotFound("Candidat introuvable dans cette session.", code="candidate_not_found")
        return _text_map(raw)

    async def state(self, session_id: int, candidate_id: int) -> CandidateState:
        return state_from_hash(session_id, await self.candidate(session_id, candidate_id))

    async def set_fields(self, session_id: int, candidate_id: int, **values: str) -> None:
        """Hub-owned fields that are not part of the status machine (conn, token)."""
        await self.client.hset(f"{tag(session_id)}:c:{candidate_id}", mapping=values)

    async def execute(
        self,
        state: CandidateState,
        command: Command,
        now: float,
        *,
        extra: Mapping[str, str] | None = None,
        heartbeat: str = "",
        stale_before: float | None = None,
        conn_guard: str = "",
        answer: tuple[int, bytes] | None = None,
    ) -> Applied:
        """Apply ``command`` to ``state`` and store it atomically, or raise ``Conflict``.

        ``heartbeat``: "set" (connected now) or "del" (gone). ``stale_before``: apply only if
        the last heartbeat is older (the sweep). ``conn_guard``: apply only if this connection
        is still the candidate's (a late close of a replaced socket changes nothing).
        ``answer``: (question number, stored bytes), stored once: a replay returns the
        earlier answer in ``duplicate_answer`` and changes nothing.
        """
        new, event = apply(state, command, now)
        sid, cid = state.session_id, state.candidate_id
        t = tag(sid)
        pairs: list[str | bytes] = []
        for key, value in {**state_to_hash(new), **(extra or {})}.items():
            pairs += [key, value]
        answer_field, answer_value = (str(answer[0]), answer[1]) if answer else ("", b"")
        result = await self._apply(
            keys=[f"{t}:c:{cid}", f"{t}:meta", f"{t}:log", f"{t}:hb", f"{t}:ans:{cid}"],
            args=[
                str(state.version),
                channel(sid),
                str(self.stream_maxlen),
                event_payload(event),
                heartbeat,
                "" if stale_before is None else repr(stale_before),
                conn_guard,
                answer_field,
                answer_value,
                repr(now),
                str(cid),
                *pairs,
            ],
        )
        code = int(result[0])
        if code > 0:
            return Applied(new, event, code)
        if code == -2:
            return Applied(state, None, 0, duplicate_answer=result[1])
        if code == -3:
            return Applied(state, None, 0)  # guard says another actor already handled it
        if code == -4:
            raise NotFound("Candidat introuvable dans cette session.", code="candidate_not_found")
        raise Conflict()

    async def append(self, session_id: int, body: Mapping[str, Any]) -> int:
        """Append a session event that changes no candidate state (incident recorded...)."""
        t = tag(session_id)
        payload = msgpack.packb(dict(body))
        seq = await self._append(
            keys=[f"{t}:meta", f"{t}:log"],
            args=[channel(session_id), str(self.stream_maxlen), payload],
        )
        return int(seq)

    async def add_incident(self, session_id: int, body: Mapping[str, Any]) -> int:
        """Keep an incident for the session's report and publish it, atomically."""
        t = tag(session_id)
        seq = await self._append(
            keys=[f"{t}:meta", f"{t}:log", f"{t}:incidents"],
            args=[channel(session_id), str(self.stream_maxlen), msgpack.packb(dict(body))],
        )
        return int(seq)

    async def incidents(self, session_id: int) -> list[dict[str, Any]]:
        raw = await self.client.lrange(f"{tag(session_id)}:incidents", 0, -1)
        return [msgpack.unpackb(item) for item in raw]

    async def has_answer(self, session_id: int, candidate_id: int, number: int) -> bool:
        key = f"{tag(session_id)}:ans:{candidate_id}"
        return bool(await self.client.hexists(key, str(number)))

    async def answers(self, session_id: int, candidate_id: int) -> dict[int, Any]:
        raw = await self.client.hgetall(f"{tag(session_id)}:ans:{candidate_id}")
        return {int(k): msgpack.unpackb(v) for k, v in raw.items()}

    # --- presence ---------------------------------------------------------------------

    async def stale(self, sessions: Iterable[int], before: float) -> list[tuple[int, int]]:
        """(session, candidate) pairs of ``sessions`` whose last heartbeat is older than
        ``before``."""
        sessions = list(sessions)
        if not sessions:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for sid in sessions:
                pipe.zrangebyscore(f"{tag(sid)}:hb", "-inf", f"({before!r}")
            found = await pipe.execute()
        return [(sid, int(cid)) for sid, cids in zip(sessions, found, strict=True) for cid in cids]

    async def heartbeat_batch(self, beats: Mapping[int, Mapping[int, float]]) -> None:
        """Many heartbeats in one round trip: {session: {candidate: time received}}.

        ``XX``: a candidate marked disconnected meanwhile is not brought back by a late beat.
        """
        async with self.client.pipeline(transaction=False) as pipe:
            for session_id, candidates in beats.items():
                if candidates:  # ZADD with no member is an error that fails the whole batch
                    scores = {str(c): t for c, t in candidates.items()}
                    pipe.zadd(f"{tag(session_id)}:hb", scores, xx=True)
            await pipe.execute()

    async def add_heartbeat(self, session_id: int, candidate_id: int, now: float) -> None:
        """Count a candidate as connected (the sweep watches only connected candidates)."""
        await self.client.zadd(f"{tag(session_id)}:hb", {str(candidate_id): now})

    async def drop_heartbeat(self, session_id: int, candidate_id: int) -> None:
        await self.client.zrem(f"{tag(session_id)}:hb", str(candidate_id))

    async def heartbeats(self, session_id: int) -> dict[int, float]:
        raw = await self.client.zrange(f"{tag(session_id)}:hb", 0, -1, withscores=True)
        return {int(cid): float(score) for cid, score in raw}

    # --- the session log ----------------------------------------------------------------

    async def snapshot(self, session_id: int) -> Snapshot:
        """Everything a board shows, read atomically with the seq it is current at."""
        t = tag(session_id)
        keys = [f"{t}:meta", f"{t}:roster", f"{t}:hb", f"{t}:incidents"]
        raw = await self._snapshot(keys=keys, args=[f"{t}:c:"])
        meta = _pairs(raw[0])
        if not meta:
            raise NotFound("Session introuvable.", code="session_not_found")
        roster_raw = raw[1]
        roster = {
            int(roster_raw[i]): msgpack.unpackb(roster_raw[i + 1])
            for i in range(0, len(roster_raw), 2)
        }
        hb = raw[2]
        heartbeats = {int(hb[i]): float(hb[i + 1]) for i in range(0, len(hb), 2)}
        incidents = [msgpack.unpackb(item) for item in raw[3]]
        candidates = {}
        for cand in raw[4:]:
            fields_ = _pairs(cand)
            if fields_:
                candidates[int(fields_["candidate_id"])] = fields_
        return Snapshot(
            meta["epoch"], int(meta["seq"]), meta, roster, candidates, heartbeats, incidents
        )

    async def events_after(self, session_id: int, seq: int) -> list[tuple[int, bytes]] | None:
        """Exactly the events after ``seq``, or ``None`` when some are no longer kept."""
        t = tag(session_id)
        current = int(await self.client.hget(f"{t}:meta", "seq") or 0)
        if seq >= current:
            return [] if seq == current else None
        entries = await self.client.xrange(f"{t}:log", min=f"{seq + 1}-0", max="+")
        events = [(int(entry_id.split(b"-")[0]), data[b"p"]) for entry_id, data in entries]
        if not events or events[0][0] != seq + 1:
            return None
        return events

    # --- limits on secrets -------------------------------------------------------------
    # docs/architecture.md "Limits on secrets are atomic": every attempt is counted, in one
    # script and across hubs, BEFORE its secret is compared; a right secret then takes its
    # attempt back. Forty parallel guesses thus get no more comparisons than forty sequential ones.

    async def reserve_attempt(
        self, scope: str, key: str, now: float, limit: int, window: float
    ) -> Attempt:
        """Count one attempt; raise ``RateLimited`` once ``limit`` attempts fall in ``window``
        (``rl:<scope>:<key>`` carries its own hash tag: one slot per limited key)."""
        attempt = Attempt(f"rl:{{{scope}:{key}}}", f"{now!r}:{secrets.token_hex(4)}")
        await self._reserve_or_refuse(attempt, [], now, limit, window)
        return attempt

    async def reserve_code_attempt(self, session_id: int, candidate_id: int, now: float) -> Attempt:
        """Count one access-code attempt of a candidate (all pages together), refused while
        the candidate is locked or 10 attempts fall within 10 minutes."""
        t = tag(session_id)
        attempt = Attempt(f"{t}:codefail:{candidate_id}", f"{now!r}:{secrets.token_hex(4)}")
        await self._reserve_or_refuse(
            attempt, [f"{t}:c:{candidate_id}"], now, CODE_FAILURES_ALLOWED, CODE_FAILURE_WINDOW,
            code="code_locked", message=CODE_LOCKED_MESSAGE,
        )  # fmt: skip
        return attempt

    async def _reserve_or_refuse(
        self, attempt: Attempt, lock: list[str], now: float, limit: int, window: float,
        **refusal: str,
    ) -> None:  # fmt: skip
        retry_at = await self._reserve(
            keys=[attempt.key, *lock],
            args=[repr(now), repr(now - window), str(limit), repr(window), attempt.member],
        )
        if retry_at:
            raise RateLimited(retry_after=max(1.0, float(retry_at) - now), **refusal)

    async def release_attempt(self, attempt: Attempt) -> None:
        """The secret was right: this attempt no longer counts against the limit."""
        await self.client.zrem(attempt.key, attempt.member)

    async def code_failure(self, session_id: int, candidate_id: int, now: float) -> bool:
        """After a wrong access code (its attempt stays counted): True when it is the 10th
        within 10 minutes, which locks the candidate for 5 minutes and tells the boards.

        The lock does not reset the window: attempts resume as older failures leave it."""
        t = tag(session_id)
        locked_until = now + CODE_LOCK_SECONDS
        payload = msgpack.packb({"type": "code_locked", "candidate_id": candidate_id, "at": now,
                                 "locked_until": locked_until})  # fmt: skip
        _count, seq = await self._code_failure(
            keys=[f"{t}:codefail:{candidate_id}", f"{t}:c:{candidate_id}", f"{t}:meta", f"{t}:log"],
            args=[repr(now), repr(now - CODE_FAILURE_WINDOW), str(CODE_FAILURES_ALLOWED),
                  repr(locked_until), payload, str(self.stream_maxlen), channel(session_id)],
        )  # fmt: skip
        return int(seq) > 0

    async def clear_attempts(self, scope: str, key: str) -> None:
        await self.client.delete(f"rl:{{{scope}:{key}}}")


def _text_map(raw: Mapping[bytes, bytes]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in raw.items()}


def _pairs(flat: list[bytes]) -> dict[str, str]:
    return {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}


def _roster_entry(candidate_id: int, packed: bytes) -> RosterEntry:
    data = msgpack.unpackb(packed)
    return RosterEntry(
        candidate_id, data["last_name"], data["first_name"],
        date.fromisoformat(data["birthdate"]), data["extra_time"], data["eligible"],
    )  # fmt: skip
