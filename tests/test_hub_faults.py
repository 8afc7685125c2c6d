"""Faults and attacks on the live hub, against real Redis and real hub processes: a Redis
restart ridden out, limits on secrets that hold under parallel guesses, a leaving page that
costs no other session its heartbeats, closes that reach the client, refused logins that
leave the socket as it was (docs/architecture.md "Faults are survived", "Limits on secrets
are atomic")."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from conftest import UNIT
from hubkit import (
    Client,
    HubProcess,
    Roster,
    answer_for,
    board_event,
    client,
    hub_config,
    hub_processes,
    joined_candidate,
    logged_board,
    planned_session,
    redis_server,
    running_hub,
    started,
    wait_for,
)
from vigie.hub.presence import Heartbeats
from vigie.live import CODE_FAILURES_ALLOWED, LiveStore, tag
from vigie.records import Records
from vigie.redis_server import EmbeddedRedis
from vigie.registration import NewCandidate

PEOPLE = [("Durand", "Zoé", date(2010, 3, 1)), ("Petit", "Lucas", date(2010, 12, 24)),
          ("Roux", "Inès", date(2011, 1, 5)), ("Faure", "Hugo", date(2010, 7, 14))]  # fmt: skip


async def _room(records: Records, live: LiveStore) -> Roster:
    school = await records.create_school("Lycée des Pannes")
    session = await records.create_session(
        school.id, datetime.now(UTC), room="B12", address="3 rue du Relais", examiner="M. Y"
    )
    created = await records.register_candidates(
        session.id, [NewCandidate(last, first, born) for last, first, born in PEOPLE]
    )
    await live.load_session(
        await records.session_info(session.id), await records.roster(session.id)
    )
    rows = [{"id": c.id, "last_name": c.last_name, "first_name": c.first_name,
             "birthdate": c.birthdate.isoformat()} for c in created]  # fmt: skip
    return Roster(session.id, session.password, session.access_code, rows)


STAFF = {"email": "admin@pannes.fr", "password": "mot de passe"}


async def _login(hub: HubProcess) -> httpx.Response:
    async with httpx.AsyncClient(timeout=15 * UNIT) as http:
        return await http.post(f"http://127.0.0.1:{hub.port}/api/login", json=STAFF)


async def _status(hub: HubProcess, path: str) -> int:
    async with httpx.AsyncClient(timeout=5 * UNIT) as http:
        try:
            return (await http.get(f"http://127.0.0.1:{hub.port}{path}")).status_code
        except httpx.TransportError:
            return 0


async def _eventually_status(hub: HubProcess, path: str, wanted: int, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout * UNIT
    while (status := await _status(hub, path)) != wanted:
        if loop.time() > deadline:
            raise AssertionError(f"{path} on port {hub.port} stayed {status}, not {wanted}")
        await asyncio.sleep(0.1)


async def _answer_until_acked(page: Client, number: int, answer: Any, timeout: float) -> dict:
    """Send an answer as the student page does: again after each retryable refusal."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout * UNIT
    while True:
        reply = await page.request(
            {"type": "answer", "question_number": number, "answer": answer}, timeout=15
        )
        if reply["type"] == "answer_ack":
            return reply
        assert reply.get("code") == "store_unavailable", reply
        if loop.time() > deadline:
            raise AssertionError("the answer was never acknowledged")
        await asyncio.sleep(0.2)


def _gapless(board: Client, snapshot: dict[str, Any]) -> list[int]:
    seqs = [m["seq"] for m in board.history if m.get("type") == "event"]
    assert seqs == list(range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(seqs))), seqs
    return seqs


@pytest.mark.multiprocess
@pytest.mark.timeout(180)
@pytest.mark.parametrize(
    ("sig", "down"),
    [(signal.SIGTERM, 0.2), (signal.SIGKILL, 0.2), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)],
    ids=["term-0.2s", "kill-0.2s", "term-5s", "kill-5s"],
)
async def test_hubs_ride_out_a_redis_restart(
    tmp_path: Path, records_file: Records, sig: signal.Signals, down: float
) -> None:
    server = redis_server(tmp_path / "redis")
    server.start()
    live_client = aioredis.Redis.from_url(server.url)
    try:
        live = LiveStore(live_client)
        roster = await _room(records_file, live)
        school = await records_file.get_session(roster.session_id)
        await records_file.create_staff(
            STAFF["email"], STAFF["password"], "admin", school.school_id
        )
        settings = {"VIGIE_HEARTBEAT_TIMEOUT": "60"}  # this test is about Redis, not silence
        with hub_processes(2, tmp_path, server.url, **settings) as hubs:
            for hub in hubs:
                await hub.ready()
            await _restart_during_a_room(server, hubs, roster, live, sig, down)
    finally:
        await live_client.aclose()
        server.stop(signal.SIGKILL)


async def _restart_during_a_room(
    server: EmbeddedRedis, hubs: list[HubProcess], roster: Roster, live: LiveStore,
    sig: signal.Signals, down: float,
) -> None:  # fmt: skip
    hub_a, hub_b = hubs
    acked: dict[int, set[int]] = {}
    async with (
        client(hub_a.url, "/ws/invigilator") as board_a,
        client(hub_b.url, "/ws/invigilator", binary=True) as board_b,
        client(hub_a.url, "/ws/candidate") as page_a,
        client(hub_b.url, "/ws/candidate") as page_b,
    ):
        snapshots = [await logged_board(board_a, roster), await logged_board(board_b, roster)]
        pages = {page_a: await started(page_a, board_a, roster, 0),
                 page_b: await started(page_b, board_a, roster, 1)}  # fmt: skip
        for page, question in pages.items():
            await _answer_until_acked(page, 1, answer_for(question), 5)
            acked.setdefault(question["candidate_id"], set()).add(1)
            pages[page] = {**question, **await page.expect("question")}

        server.stop(sig)
        for hub in hubs:  # /readyz tells the truth at once; /healthz says the process lives
            await _eventually_status(hub, "/readyz", 503, 10)
            assert await _status(hub, "/healthz") == 200
        reply = await page_a.request(
            {"type": "answer", "question_number": 2, "answer": answer_for(pages[page_a])},
            timeout=15,
        )
        assert reply["type"] == "error" and reply["code"] == "store_unavailable", reply
        assert "réessayez" in reply["message"]
        refused = await board_b.request({"type": "grant_time", "candidate_id":
                                          pages[page_b]["candidate_id"], "minutes": 5,
                                          "reason": "panne"}, timeout=15)  # fmt: skip
        assert refused["code"] == "store_unavailable", refused
        login = await _login(hub_a)  # the staff API too: a retryable 503, not a 500
        assert login.status_code == 503 and login.headers["retry-after"], login.text
        assert login.json()["error"]["code"] == "store_unavailable"
        await asyncio.sleep(max(0.0, down - 0.2))  # the outage itself: Redis stays away
        server.start()

        for hub in hubs:
            await _eventually_status(hub, "/readyz", 200, 30)
        for page, question in pages.items():  # sockets kept; the pages retry and go on
            assert page.closed_code is None
            await _answer_until_acked(page, 2, answer_for(question), 30)
            acked[question["candidate_id"]].add(2)
        # Every board sees both answers of question 2, after every earlier event: no gap.
        for board in (board_a, board_b):
            for question in pages.values():
                cid = question["candidate_id"]
                await board.expect(
                    lambda m, cid=cid: (
                        board_event("answer", cid)(m) and m["event"].get("question_number") == 3
                    ),
                    timeout=15,
                )
        for board, snapshot in zip((board_a, board_b), snapshots, strict=True):
            assert board.closed_code is None
            _gapless(board, snapshot)
        # New logins and joins work on every hub, without restarting it: the pooled
        # connections the restart broke were replaced.
        for index, hub in enumerate(hubs):
            assert (await _login(hub)).status_code == 200
            async with client(hub.url, "/ws/invigilator") as fresh_board:
                await logged_board(fresh_board, roster)
            async with client(hub.url, "/ws/candidate") as fresh_page:
                joined = await joined_candidate(fresh_page, roster, 2 + index)
                assert joined["type"] == "joined", joined
    after = aioredis.Redis.from_url(server.url)  # the test's own pool died with the server
    try:
        for candidate_id, numbers in acked.items():  # nothing acknowledged was lost
            stored = await LiveStore(after).answers(roster.session_id, candidate_id)
            assert numbers <= set(stored)
    finally:
        await after.aclose()


# --- limits on secrets, under parallel guesses over two hubs ----------------------------


async def _parallel(
    hubs: list[HubProcess], count: int, path: str, act: Any, prepare: Any = None
) -> list[str]:
    """``count`` sockets spread over ``hubs``, each prepared one at a time, then acting all
    at the same moment; the code (or type) of each reply."""
    go = asyncio.Event()
    ready: list[int] = []
    one_at_a_time = asyncio.Lock()

    async def one(index: int) -> str:
        hub = hubs[index % len(hubs)]
        async with client(hub.url, path) as c:
            if prepare is not None:
                async with one_at_a_time:
                    await prepare(c, index)
            ready.append(index)
            await go.wait()
            reply = await act(c, index)
            return str(reply.get("code") or reply["type"])

    tasks = [asyncio.create_task(one(i)) for i in range(count)]
    await wait_for(lambda: len(ready) == count or any(t.done() for t in tasks), 60 * UNIT,
                   "every socket ready")  # fmt: skip
    go.set()
    return list(await asyncio.gather(*tasks))


@pytest.mark.multiprocess
@pytest.mark.timeout(120)
async def test_forty_parallel_guesses_get_no_more_comparisons_than_the_limits(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis, records_file: Records
) -> None:
    for scope in ("board", "join"):
        await redis_client.delete(f"rl:{{{scope}:127.0.0.1}}")
    live = LiveStore(redis_client)
    roster = await _room(records_file, live)
    with hub_processes(2, tmp_path, redis_url) as hubs:
        for hub in hubs:
            await hub.ready()

        async def board_guess(c: Client, index: int) -> dict[str, Any]:
            return await c.request({"type": "login", "session": roster.session_id,
                                    "password": f"faux{index}"}, timeout=15)  # fmt: skip

        outcomes = await _parallel(hubs, 40, "/ws/invigilator", board_guess)
        assert outcomes.count("wrong_password") <= 5, outcomes
        assert outcomes.count("rate_limited") == 40 - outcomes.count("wrong_password")

        async def join_guess(c: Client, index: int) -> dict[str, Any]:
            return await c.request({"type": "join", "session": roster.session_id,
                                    "last_name": f"Inconnu{index}", "first_name": "X",
                                    "birthdate": "2010-01-01"}, timeout=15)  # fmt: skip

        outcomes = await _parallel(hubs, 40, "/ws/candidate", join_guess)
        assert outcomes.count("identity_not_found") <= 20, outcomes
        assert outcomes.count("rate_limited") == 40 - outcomes.count("identity_not_found")
        for scope in ("board", "join"):
            await redis_client.delete(f"rl:{{{scope}:127.0.0.1}}")

        # Forty pages of ONE candidate guess the access code at once: the count is the
        # candidate's, whatever the page and the hub.
        async with client(hubs[0].url, "/ws/invigilator") as board:
            await logged_board(board, roster)
            async with client(hubs[0].url, "/ws/candidate") as first:
                joined = await joined_candidate(first, roster, 0)
                await board.request({"type": "confirm_presence",
                                     "candidate_ids": [joined["candidate_id"]]})  # fmt: skip
                await first.expect("presence_confirmed")

            async def join(c: Client, index: int) -> None:
                await joined_candidate(c, roster, 0)
                await c.expect("presence_confirmed")

            async def code_guess(c: Client, index: int) -> dict[str, Any]:
                return await c.request({"type": "start", "access_code": "ZZZZ22"}, timeout=15)

            outcomes = await _parallel(hubs, 40, "/ws/candidate", code_guess, join)
            counted = await redis_client.zcard(
                f"{tag(roster.session_id)}:codefail:{joined['candidate_id']}"
            )
            assert counted == CODE_FAILURES_ALLOWED  # ten compared, the others refused before
            assert outcomes.count("wrong_access_code") == CODE_FAILURES_ALLOWED - 1, outcomes
            assert outcomes.count("code_locked") == 40 - outcomes.count("wrong_access_code")
            await board.expect(board_event("code_locked", joined["candidate_id"]))


# --- one hub, in this process -----------------------------------------------------------


async def test_a_page_leaving_costs_no_other_session_its_heartbeats(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis
) -> None:
    async with running_hub(hub_config(tmp_path, redis_url)) as running:
        hub = running.hub
        one = await planned_session(hub)
        other = await planned_session(hub)
        a, b = one.candidates[0]["id"], other.candidates[1]["id"]
        await hub.live.add_heartbeat(one.session_id, a, 100.0)
        await hub.live.add_heartbeat(other.session_id, b, 100.0)
        beats = Heartbeats()
        beats.beat(one.session_id, a, 200.0)
        beats.beat(other.session_id, b, 200.0)
        beats.forget(other.session_id, b)  # that page closed before the flush
        await beats.flush(hub)  # raised on an empty ZADD, losing session one's beat too
        assert (await hub.live.heartbeats(one.session_id))[a] == 200.0
        assert (await hub.live.heartbeats(other.session_id))[b] == 100.0
        assert beats.pending == {}


async def test_a_flood_is_closed_with_1008_and_its_reason(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis
) -> None:
    async with (
        running_hub(hub_config(tmp_path, redis_url)) as running,
        client(running.ws_url, "/ws/candidate") as page,
    ):
        for _ in range(200):
            if page.closed_code is not None:
                break
            try:
                await page.ws.send('{"type":"ping"}')
            except Exception:
                break
        await wait_for(lambda: page.closed_code is not None, 10 * UNIT, "the close")
        assert page.closed_code == 1008  # was 1006: the close frame never went out
        assert page.ws.close_reason == "trop de messages"
        assert len(page.seen("pong")) == 50  # what was answered before the flood is delivered


async def test_a_refused_board_login_leaves_the_socket_as_it_was(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis
) -> None:
    async with running_hub(hub_config(tmp_path, redis_url)) as running:
        roster = await planned_session(running.hub)
        async with client(running.ws_url, "/ws/invigilator") as board:
            first = await logged_board(board, roster)
            epoch = first["epoch"]
        async with client(running.ws_url, "/ws/invigilator") as board:
            login = {"type": "login", "session": roster.session_id, "password": roster.password,
                     "epoch": epoch}  # fmt: skip
            refused = await board.request({**login, "seq": -2})
            assert refused["type"] == "error" and refused["code"] == "invalid_field", refused
            # Not half logged in: the same socket logs in and receives events.
            caught = await board.request({**login, "seq": first["seq"]})
            assert caught["type"] == "caught_up", caught
            async with client(running.ws_url, "/ws/candidate") as page:
                joined = await joined_candidate(page, roster, 1)
                await board.request({"type": "confirm_presence",
                                     "candidate_ids": [joined["candidate_id"]]})  # fmt: skip
            await board.expect(board_event("confirm_presence", joined["candidate_id"]))
