"""One simulated room against the Vigie hub: a board and its candidates (vigie.msgpack.v1).

Each candidate follows a script: join, wait for the presence the board confirms, enter the
access code, answer with think time, heartbeat every 5 s; a few close their page and come
back with their resume token, a few go silent (no heartbeat, no reading, socket open), a
few raise an alert the board validates. The board confirms presence, validates alerts,
grants time and ends overdue tests, and measures every event it receives.

Latency of an event = the board's receive time.time() - the event's ``at`` (the hub's
time.time() when it applied the change): one machine, one clock. For candidate actions the
board also measures send -> receive ("e2e"), which adds the candidate -> hub leg.
Every loop ends by a deadline; every wait has a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import msgpack
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

MSGPACK = "vigie.msgpack.v1"
HEARTBEAT = 5.0
NEVER = math.inf
pack = msgpack.packb
unpack = msgpack.unpackb


@dataclass
class Options:
    """The script's rates and times (wall clock, time.time())."""

    start: float
    """When the first connection opens; connections spread over ``ramp``."""
    ramp: float
    confirm_at: float
    """Boards confirm presence from then on (before it, joined candidates sit idle)."""
    end: float
    """No new action after it; boards then count what reached them."""
    confirm_spread: float = 0.0
    """Each board's first confirmation comes up to this many seconds after ``confirm_at``."""
    think: float = 20.0
    """Mean think time per question, seconds (exponential, clipped to 3x)."""
    p_alert: float = 0.01
    """Chance, per question, to raise an alert instead of answering."""
    p_close: float = 0.05
    """Share of candidates that close their page once and come back."""
    p_silent: float = 0.0
    """Share of candidates that go silent once (no heartbeat, no reading)."""
    silent_for: float = 15.0
    grant_every: float = 60.0
    """Mean seconds between two grant_time of a board."""
    overdue_every: float = 60.0
    redis_url: str = ""
    """When set, boards read their session's final seq there to count lost events."""
    seed: int = 1


@dataclass
class Metrics:
    """Raw samples of one worker process; merged by the harness."""

    lat: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    e2e: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    close_ms: list[float] = field(default_factory=list)
    silence_s: list[float] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    boards: list[dict[str, int]] = field(default_factory=list)
    lag_ms: list[float] = field(default_factory=list)

    def export(self) -> dict[str, Any]:
        return {
            "lat": dict(self.lat),
            "e2e": dict(self.e2e),
            "close_ms": self.close_ms,
            "silence_s": self.silence_s,
            "counts": dict(self.counts),
            "boards": self.boards,
            "lag_ms": self.lag_ms,
        }


class Room:
    """What a room's candidates and board share (the board sees the students in the room)."""

    __slots__ = (
        "access_code", "board_url", "candidates", "closed_at", "joined", "password",
        "running", "sent", "session", "silent_since",
    )  # fmt: skip

    def __init__(self, spec: dict[str, Any]) -> None:
        self.session: int = spec["session"]
        self.password: str = spec["password"]
        self.access_code: str = spec["access_code"]
        self.board_url: str = spec["board_url"]
        self.candidates: list[dict[str, Any]] = spec["candidates"]
        self.joined: list[int] = []
        self.running: set[int] = set()
        self.sent: dict[int, tuple[str, float]] = {}
        self.closed_at: dict[int, float] = {}
        self.silent_since: dict[int, float] = {}


async def _open(url: str) -> ClientConnection:
    return await connect(
        url, subprotocols=[MSGPACK], compression=None, ping_interval=None,  # type: ignore[list-item]
        open_timeout=30, close_timeout=5, max_size=2**16, max_queue=64,
    )  # fmt: skip


async def _recv(ws: ClientConnection, until: float) -> bytes | None:
    """The next frame, or None when ``until`` comes first."""
    delay = until - time.time()
    if delay <= 0:
        return None
    try:
        async with asyncio.timeout(delay):
            frame = await ws.recv()
    except TimeoutError:
        return None
    return frame if isinstance(frame, bytes) else frame.encode()


def _answer_for(question: dict[str, Any]) -> Any:
    if question.get("type") == "short" or not question.get("options"):
        return "réponse"
    first = question["options"][0]["id"]
    return [first] if question.get("type") == "multiple" else first


# --- candidate ---------------------------------------------------------------------------


def _chosen(index: int, share: float) -> bool:
    return int((index + 1) * share) > int(index * share)


class _Plan:
    __slots__ = ("close_at", "done", "last_hb", "rng", "silent_at", "token")

    def __init__(self, rng: random.Random, opt: Options, index: int) -> None:
        self.rng = rng
        span = max(1.0, opt.end - opt.confirm_at)
        self.close_at = self.silent_at = NEVER
        # Exactly floor(share x room size) candidates of each room, evenly spread.
        if _chosen(index, opt.p_close):
            self.close_at = opt.confirm_at + rng.uniform(0.3, 0.8) * span
        elif _chosen(index + 5, opt.p_silent):
            self.silent_at = opt.confirm_at + rng.uniform(0.15, 0.4) * span
        self.token = ""
        self.last_hb = 0.0
        self.done = False


async def candidate(room: Room, index: int, opt: Options, m: Metrics) -> None:
    person = room.candidates[index]
    plan = _Plan(random.Random(f"{opt.seed}:{room.session}:{index}"), opt, index)
    await asyncio.sleep(max(0.0, opt.start + plan.rng.uniform(0, opt.ramp) - time.time()))
    for _ in range(4):  # the first visit, then at most 3 returns
        if plan.done or time.time() >= opt.end:
            return
        try:
            ws = await _open(person["url"])
        except (OSError, TimeoutError, WebSocketException):
            m.counts["candidate_connect_failed"] += 1
            await asyncio.sleep(1.0)
            continue
        m.counts["candidate_connections"] += 1
        try:
            again = await _candidate_visit(ws, room, person, plan, opt, m)
        except WebSocketException:
            m.counts["candidate_dropped"] += 1
            again = True
        finally:
            if plan.done or time.time() >= opt.end:
                await _hold_then_close(ws, opt)
            else:
                await ws.close()
        if not again:
            return
        await asyncio.sleep(plan.rng.uniform(1.0, 3.0))  # the page reloads


async def _hold_then_close(ws: ClientConnection, opt: Options) -> None:
    # Stay connected (silent on purpose: no action) while the boards count their events.
    with contextlib.suppress(Exception):
        while await _recv(ws, opt.end + 8) is not None:
            pass
    with contextlib.suppress(Exception):
        await ws.close()


async def _candidate_visit(
    ws: ClientConnection, room: Room, person: dict[str, Any], plan: _Plan, opt: Options, m: Metrics
) -> bool:
    """One connection's life; True when the page should come back."""
    cid: int = person["id"]
    rng = plan.rng
    await _recv(ws, time.time() + 30)  # hello
    join = {"type": "join", "id": 1, "session": room.session, "last_name": person["last_name"],
            "first_name": person["first_name"], "birthdate": person["birthdate"]}  # fmt: skip
    if plan.token:
        join["resume_token"] = plan.token
    await ws.send(pack(join))
    now = time.time()
    next_hb, next_act, act = now + HEARTBEAT, NEVER, ""
    question: dict[str, Any] = {}
    number = 0
    while True:
        now = time.time()
        if now >= opt.end:
            return False
        if now >= next_hb:
            await ws.send(pack({"type": "heartbeat"}))
            plan.last_hb, next_hb = now, now + HEARTBEAT
        if now >= next_act:
            next_act = NEVER
            if act in ("start", "answer", "alert"):
                plan.last_hb = now  # any message proves the page is alive, like a heartbeat
            if act == "start":
                room.sent[cid] = ("start", now)
                await ws.send(pack({"type": "start", "access_code": room.access_code}))
            elif act == "answer":
                room.sent[cid] = ("answer", now)
                await ws.send(pack({"type": "answer", "question_number": number,
                                    "answer": _answer_for(question)}))  # fmt: skip
                m.counts["answers"] += 1
            elif act == "alert":
                room.sent[cid] = ("raise_alert", now)
                await ws.send(pack({"type": "alert", "category": "E1"}))
                m.counts["alerts"] += 1
            elif act == "close":
                plan.close_at = NEVER
                room.closed_at[cid] = now
                m.counts["closes"] += 1
                return True
            elif act == "silent":
                # No heartbeat, no reading, the socket stays open: only the sweep sees it.
                plan.silent_at = NEVER
                room.silent_since[cid] = plan.last_hb
                m.counts["silences"] += 1
                await asyncio.sleep(opt.silent_for)
                next_hb, next_act, act = time.time(), time.time() + 1.0, "answer"
            continue
        frame = await _recv(ws, min(next_hb, next_act, opt.end))
        if frame is None:
            continue
        message = unpack(frame)
        kind = message.get("type")
        if kind == "joined":
            if cid not in room.joined:
                room.joined.append(cid)
                m.counts["joined"] += 1
        elif kind == "presence_confirmed":
            act, next_act = "start", now + rng.uniform(0.5, 3.0)  # typing the access code
        elif kind in ("started", "resumed"):
            plan.token = message["resume_token"]
            room.running.add(cid)
        elif kind == "question":
            question, number = message["question"], message["question_number"]
            think = min(rng.expovariate(1 / opt.think), 3 * opt.think)
            act, next_act = "answer", now + think
            if now >= plan.close_at:
                act, next_act = "close", now + rng.uniform(0.2, 1.0)
            elif now >= plan.silent_at:
                act, next_act = "silent", now + rng.uniform(0.2, 1.0)
            elif rng.random() < opt.p_alert:
                act, next_act = "alert", now + rng.uniform(1.0, think + 1.0)
        elif kind == "test_ended":
            plan.done = True
            m.counts["tests_ended"] += 1
            return False
        elif kind == "error":
            m.counts["candidate_error:" + str(message.get("code"))] += 1
            if message.get("code") in ("resume_required", "session_replaced"):
                return False
        elif kind == "resume_required":
            m.counts["resume_required"] += 1
            return False


# --- board -------------------------------------------------------------------------------


async def board(room: Room, opt: Options, m: Metrics, redis: Any) -> None:
    rng = random.Random(f"{opt.seed}:{room.session}:board")
    await asyncio.sleep(max(0.0, opt.start - time.time()))
    try:
        ws = await _open(room.board_url)
    except (OSError, TimeoutError, WebSocketException):
        m.counts["board_connect_failed"] += 1
        return
    try:
        await _board_visit(ws, room, opt, m, redis, rng)
    except WebSocketException:
        m.counts["board_dropped"] += 1
    finally:
        await ws.close()


async def _board_visit(
    ws: ClientConnection, room: Room, opt: Options, m: Metrics, redis: Any, rng: random.Random
) -> None:
    await _recv(ws, time.time() + 30)  # hello
    await ws.send(pack({"type": "login", "session": room.session, "password": room.password}))
    snapshot: dict[str, Any] = {}
    deadline = time.time() + 30
    while not snapshot and time.time() < deadline:
        frame = await _recv(ws, deadline)
        if frame is not None and (message := unpack(frame)).get("type") in ("snapshot", "error"):
            snapshot = message
    if snapshot.get("type") != "snapshot":
        m.counts["board_login_failed"] += 1
        return
    first = last = snapshot["seq"]
    received = gaps = dups = 0
    lat, e2e, sent = m.lat, m.e2e, room.sent
    confirmed: set[int] = set()
    validations: list[tuple[float, int]] = []
    next_confirm = opt.confirm_at + rng.uniform(0.0, opt.confirm_spread)
    next_grant = opt.confirm_at + rng.expovariate(1 / opt.grant_every)
    next_overdue = opt.confirm_at + rng.uniform(0.5, 1.0) * opt.overdue_every
    final: int | None = None
    stop = opt.end + 6.0
    while True:
        now = time.time()
        if now >= stop or (final is not None and last >= final):
            break
        if final is None and now >= opt.end + 2.0:
            final = int(await redis.hget(f"{{s:{room.session}}}:meta", "seq")) if redis else last
            continue
        if now < opt.end:
            if now >= next_confirm:
                fresh = [cid for cid in room.joined if cid not in confirmed]
                if fresh:
                    confirmed.update(fresh)
                    await ws.send(pack({"type": "confirm_presence", "candidate_ids": fresh}))
                next_confirm = now + 0.5
            if validations and now >= validations[0][0]:
                _, cid = validations.pop(0)
                await ws.send(pack({"type": "validate_alert", "candidate_id": cid,
                                    "subcategory": "E1"}))  # fmt: skip
                m.counts["validations"] += 1
            if now >= next_grant:
                next_grant = now + rng.expovariate(1 / opt.grant_every)
                if room.running:
                    cid = rng.choice(sorted(room.running))
                    await ws.send(pack({"type": "grant_time", "candidate_id": cid, "minutes": 5,
                                        "reason": "Incident technique"}))  # fmt: skip
                    m.counts["grants"] += 1
            if now >= next_overdue:
                next_overdue = now + opt.overdue_every
                await ws.send(pack({"type": "end_overdue"}))
                m.counts["end_overdue"] += 1
        wake = stop if now >= opt.end else min(next_confirm, next_grant, next_overdue, opt.end)
        if validations:
            wake = min(wake, validations[0][0])
        if final is None:
            wake = min(wake, opt.end + 2.0)
        frame = await _recv(ws, wake)
        if frame is None:
            continue
        at_board = time.time()
        message = unpack(frame)
        kind = message.get("type")
        if kind != "event":
            if kind == "error":
                m.counts["board_error:" + str(message.get("code"))] += 1
            elif kind == "ack":
                m.counts["board_ack:" + str(message.get("action"))] += 1
            elif kind == "snapshot":
                m.counts["board_resnapshot"] += 1
            continue
        seq = message["seq"]
        if seq <= last:
            dups += 1
            continue
        gaps += seq - last - 1
        last = seq
        if final is not None and seq > final:
            continue
        received += 1
        event = message["event"]
        etype = event["type"]
        lat[etype].append((at_board - event["at"]) * 1000)
        cid = event.get("candidate_id")
        mine = sent.get(cid)
        if mine is not None and mine[0] == etype:
            del sent[cid]
            e2e[etype].append((at_board - mine[1]) * 1000)
        if etype == "disconnect":
            if event.get("reason") == "closed" and cid in room.closed_at:
                m.close_ms.append((at_board - room.closed_at.pop(cid)) * 1000)
            elif event.get("reason") == "silent" and cid in room.silent_since:
                m.silence_s.append(at_board - room.silent_since.pop(cid))
        elif etype == "raise_alert":
            validations.append((at_board + rng.uniform(1.0, 3.0), cid))
        elif etype in ("finish", "end_by_invigilator"):
            room.running.discard(cid)
    if final is None:
        final = last
    lost = max(0, final - first - received)
    m.boards.append({"session": room.session, "first": first, "final": final,
                     "received": received, "gaps": gaps, "dups": dups, "lost": lost})  # fmt: skip
