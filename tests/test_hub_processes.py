"""Several hub processes on one Redis: events cross hubs, the sweep is idempotent, and a hub
killed with SIGKILL loses nothing acknowledged (docs/architecture.md "Guarantees")."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from websockets.exceptions import InvalidStatus

from conftest import UNIT
from hubkit import (
    Roster,
    answer_for,
    board_event,
    client,
    hub_processes,
    joined_candidate,
    logged_board,
    started,
    wait_for,
)
from vigie.live import LiveStore
from vigie.records import Records
from vigie.registration import NewCandidate

pytestmark = pytest.mark.multiprocess


async def _session(records: Records, live: LiveStore) -> Roster:
    school = await records.create_school("Lycée Multi")
    session = await records.create_session(
        school.id, datetime.now(UTC), room="B204", address="2 rue des Hubs", examiner="Mme X"
    )
    people = [NewCandidate("Durand", "Zoé", datetime(2010, 3, 1).date()),
              NewCandidate("Petit", "Lucas", datetime(2010, 12, 24).date())]  # fmt: skip
    created = await records.register_candidates(session.id, people)
    await live.load_session(
        await records.session_info(session.id), await records.roster(session.id)
    )
    rows = [{"id": c.id, "last_name": c.last_name, "first_name": c.first_name,
             "birthdate": c.birthdate.isoformat()} for c in created]  # fmt: skip
    return Roster(session.id, session.password, session.access_code, rows)


@pytest.mark.timeout(120)
async def test_events_cross_hubs_and_a_killed_hub_loses_nothing(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis, records_file: Records
) -> None:
    live = LiveStore(redis_client)
    roster = await _session(records_file, live)
    with hub_processes(2, tmp_path, redis_url) as (hub_a, hub_b):
        await hub_a.ready()
        await hub_b.ready()
        async with (
            client(hub_b.url, "/ws/invigilator", binary=True) as board,
            client(hub_a.url, "/ws/invigilator") as board_on_a,
        ):
            snapshot = await logged_board(board, roster)
            await logged_board(board_on_a, roster)
            async with client(hub_a.url, "/ws/candidate") as page:
                first = await started(page, board, roster)  # page on A, board on B
                cid = first["candidate_id"]
                ack = await page.request({"type": "answer", "question_number": 1,
                                          "answer": answer_for(first)})  # fmt: skip
                assert ack["type"] == "answer_ack"
                second = await page.expect("question")
                await board.expect(board_event("answer", cid))
                await board_on_a.expect(board_event("answer", cid))
                events_on_a = [m for m in board_on_a.history if m.get("type") == "event"]
                last_on_a = events_on_a[-1]["seq"]
                hub_a.kill()  # no close frame, no cleanup: the process is gone
                await wait_for(lambda: page.closed_code is not None, 10 * UNIT, "page cut")
                await wait_for(lambda: board_on_a.closed_code is not None, 10 * UNIT, "board cut")
            # The same page (its token) reconnects to hub B within its grace window.
            async with client(hub_b.url, "/ws/candidate") as again:
                await joined_candidate(again, roster, 0, resume_token=first["resume_token"])
                resumed = await again.expect("resumed")
                assert resumed["deadline"] == first["deadline"]
                question = await again.expect("question")
                assert question["question_number"] == 2
                assert question["question"]["id"] == second["question"]["id"]
            # The board that was on A recovers on B from its last (epoch, seq): no gap.
            async with client(hub_b.url, "/ws/invigilator") as recovered:
                await recovered.send({"type": "login", "session": roster.session_id,
                                      "password": roster.password,
                                      "epoch": snapshot["epoch"], "seq": last_on_a})  # fmt: skip
                caught = await recovered.expect("caught_up")
                replayed = [m["seq"] for m in recovered.history if m.get("type") == "event"]
                assert replayed == list(range(last_on_a + 1, caught["seq"] + 1))
                assert replayed, "the reconnect on B happened after the kill: events to replay"
            assert events_on_a
            stored = await live.answers(roster.session_id, cid)
            assert list(stored) == [1]  # the acknowledged answer survived the kill
            # The board saw every event in order, no gap in seq.
            seqs = [m["seq"] for m in board.history if m.get("type") == "event"]
            seen = [snapshot["seq"], *seqs]
            assert seen == list(range(snapshot["seq"], snapshot["seq"] + len(seen)))


@pytest.mark.timeout(120)
async def test_three_hubs_sweep_a_silent_candidate_once(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis, records_file: Records
) -> None:
    live = LiveStore(redis_client)
    roster = await _session(records_file, live)
    with hub_processes(3, tmp_path, redis_url) as (hub_a, hub_b, hub_c):
        for hub in (hub_a, hub_b, hub_c):
            await hub.ready()
        # A board on A and one on B: both hubs serve the session, so both sweep it.
        async with (
            client(hub_a.url, "/ws/invigilator") as board,
            client(hub_b.url, "/ws/invigilator") as other_board,
        ):
            await logged_board(board, roster)
            await logged_board(other_board, roster)
            async with client(hub_c.url, "/ws/candidate") as page:
                first = await started(page, board, roster, 1)
                cid = first["candidate_id"]
                # Hub C freezes: its page goes silent without any close; A and B both sweep.
                hub_c.process.send_signal(signal.SIGSTOP)
                try:
                    event = await board.expect(board_event("disconnect", cid), timeout=15)
                    assert event["event"]["reason"] == "silent"
                    await other_board.expect(board_event("disconnect", cid), timeout=15)
                    # The disconnect removed it from the heartbeat set in the same script:
                    # no later sweep of any hub can find it again.
                    assert cid not in await live.heartbeats(roster.session_id)
                finally:
                    hub_c.process.send_signal(signal.SIGCONT)
                log = await redis_client.xrange(f"{{s:{roster.session_id}}}:log")
                silences = [e for e in log if b"silent" in e[1][b"p"]]
                assert len(silences) == 1, silences


@pytest.mark.timeout(120)
async def test_a_rolling_restart_moves_the_room_without_the_invigilator(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis, records_file: Records
) -> None:
    live = LiveStore(redis_client)
    roster = await _session(records_file, live)
    with hub_processes(
        2, tmp_path, redis_url, VIGIE_DRAIN_SPREAD="2", VIGIE_HEARTBEAT_TIMEOUT="12"
    ) as (hub_a, hub_b):
        await hub_a.ready()
        await hub_b.ready()
        async with (
            client(hub_b.url, "/ws/invigilator") as board,
            client(hub_a.url, "/ws/invigilator") as board_on_a,
            client(hub_a.url, "/ws/candidate") as page_1,
            client(hub_a.url, "/ws/candidate") as page_2,
        ):
            snapshot = await logged_board(board, roster)
            await logged_board(board_on_a, roster)
            pages, firsts, seconds = [page_1, page_2], [], []
            for index, page in enumerate(pages):
                first = await started(page, board, roster, index)
                ack = await page.request({"type": "answer", "question_number": 1,
                                          "answer": answer_for(first)})  # fmt: skip
                assert ack["type"] == "answer_ack"
                firsts.append(first)
                seconds.append(await page.expect("question"))
            await board.expect(board_event("answer", firsts[1]["candidate_id"]))
            await board_on_a.expect(board_event("answer", firsts[1]["candidate_id"]))
            last_on_a = [m for m in board_on_a.history if m.get("type") == "event"][-1]["seq"]

            hub_a.process.send_signal(signal.SIGTERM)
            # While it drains (2 s at most here), hub A says it is not ready, and why.
            async with httpx.AsyncClient() as http:
                deadline = asyncio.get_running_loop().time() + 10 * UNIT
                while True:
                    ready = await http.get(f"http://127.0.0.1:{hub_a.port}/readyz")
                    if ready.status_code == 503 or asyncio.get_running_loop().time() > deadline:
                        break
                    await asyncio.sleep(0.02)
            assert ready.status_code == 503 and "draining" in str(ready.json()["reasons"])
            with pytest.raises(InvalidStatus) as refused:  # nginx would try the next hub
                async with client(hub_a.url, "/ws/candidate"):
                    pass
            assert refused.value.response.status_code == 503
            for moved in (page_1, page_2, board_on_a):
                await wait_for(lambda m=moved: m.closed_code is not None, 10 * UNIT, "a close")
                assert moved.closed_code == 1012
                assert moved.ws.close_reason == "redémarrage du service, reconnexion"
            assert hub_a.process.wait(timeout=30 * UNIT) == 0

        # Each page reconnects to B with its token and continues: no resume authorization.
        for index, (first, second) in enumerate(zip(firsts, seconds, strict=True)):
            async with client(hub_b.url, "/ws/candidate") as again:
                await joined_candidate(again, roster, index, resume_token=first["resume_token"])
                resumed = await again.expect("resumed")
                assert resumed["deadline"] == first["deadline"]
                question = await again.expect("question")
                assert question["question_number"] == 2
                assert question["question"]["id"] == second["question"]["id"]
                assert not again.seen("resume_required")
            assert list(await live.answers(roster.session_id, first["candidate_id"])) == [1]
        # A page moved by a restart was never shown as disconnected on the board.
        # (Production's 12 s heartbeat timeout: a page that did not come back within it would
        # be found silent, as after any network loss.)
        kinds = [m["event"]["type"] for m in board.history if m.get("type") == "event"]
        assert "disconnect" not in kinds and "authorize_resume" not in kinds, board.history
        # The board that was on A catches up on B from its last (epoch, seq): no gap.
        async with client(hub_b.url, "/ws/invigilator") as recovered:
            await recovered.send({"type": "login", "session": roster.session_id,
                                  "password": roster.password,
                                  "epoch": snapshot["epoch"], "seq": last_on_a})  # fmt: skip
            caught = await recovered.expect("caught_up")
            replayed = [m["seq"] for m in recovered.history if m.get("type") == "event"]
            assert replayed == list(range(last_on_a + 1, caught["seq"] + 1))
