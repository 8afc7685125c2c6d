"""Guarantees of the live hub (docs/architecture.md "Guarantees"), each with a test that
fails without it."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conftest import UNIT
from hubkit import (
    Roster,
    RunningHub,
    answer_for,
    board_event,
    client,
    hub_config,
    joined_candidate,
    logged_board,
    planned_session,
    running_hub,
    started,
)


@pytest.fixture
async def hub(tmp_path: Path, redis_url: str, redis_client):  # type: ignore[no-untyped-def]
    config = hub_config(tmp_path, redis_url, heartbeat_timeout=1.5, sweep_interval=0.2)
    async with running_hub(config) as running:
        yield running


@pytest.fixture
async def roster(hub: RunningHub) -> Roster:
    return await planned_session(hub.hub)


async def test_handshake_without_our_subprotocol_is_refused(hub: RunningHub) -> None:
    with pytest.raises(InvalidStatus):
        async with connect(hub.ws_url + "/ws/candidate", subprotocols=["chat"]):  # type: ignore[list-item]
            pass


async def test_msgpack_and_json_carry_the_same_messages(hub: RunningHub, roster: Roster) -> None:
    async with client(hub.ws_url, "/ws/invigilator", binary=True) as board:
        snapshot = await logged_board(board, roster)
        assert snapshot["session"]["room"] == "Salle 12"
        pong = await board.request({"type": "ping", "client_time": 12.5})
        assert pong["type"] == "pong" and pong["client_time"] == 12.5
        assert pong["server_time"] > 0


async def test_wrong_session_password_then_lockout(hub: RunningHub, roster: Roster) -> None:
    async with client(hub.ws_url, "/ws/invigilator") as board:
        for _ in range(5):
            reply = await board.request(
                {"type": "login", "session": roster.session_id, "password": "nope!!"}
            )
            assert reply["code"] == "wrong_password"
        locked = await board.request(
            {"type": "login", "session": roster.session_id, "password": roster.password}
        )
        assert locked["code"] == "rate_limited" and locked["retry_after"] > 0


async def test_join_matches_accents_and_case_and_refuses_strangers(
    hub: RunningHub, roster: Roster
) -> None:
    async with client(hub.ws_url, "/ws/candidate") as page:
        unknown = await page.request({"type": "join", "session": roster.session_id,
                                      "last_name": "Inconnu", "first_name": "Personne",
                                      "birthdate": "2010-01-01"})  # fmt: skip
        assert unknown["code"] == "identity_not_found"
        not_eligible = await page.request({"type": "join", "session": roster.session_id,
                                           "last_name": "BONNET", "first_name": "jade",
                                           "birthdate": "2010-06-06"})  # fmt: skip
        assert not_eligible["code"] == "not_eligible"
        joined = await page.request({"type": "join", "session": roster.session_id,
                                     "last_name": "ndiaye", "first_name": "AISSATOU",
                                     "birthdate": "2010-06-21"})  # fmt: skip
        assert joined["type"] == "joined" and joined["status"] == "registered"


async def test_code_errors_lock_after_ten(hub: RunningHub, roster: Roster) -> None:
    async with (
        client(hub.ws_url, "/ws/invigilator") as board,
        client(hub.ws_url, "/ws/candidate") as page,
    ):
        await logged_board(board, roster)
        joined = await joined_candidate(page, roster, 1)
        await board.request({"type": "confirm_presence", "candidate_ids": [joined["candidate_id"]]})
        for _ in range(9):
            wrong = await page.request({"type": "start", "access_code": "BBBB22"})
            assert wrong["code"] == "wrong_access_code"
        locked = await page.request({"type": "start", "access_code": "BBBB22"})
        assert locked["code"] == "code_locked"
        await board.expect(lambda m: m.get("event", {}).get("type") == "code_locked")
        still = await page.request({"type": "start", "access_code": roster.access_code})
        assert still["code"] == "code_locked"


async def test_same_page_reconnects_alone_within_grace(hub: RunningHub, roster: Roster) -> None:
    async with client(hub.ws_url, "/ws/invigilator") as board:
        await logged_board(board, roster)
        async with client(hub.ws_url, "/ws/candidate") as page:
            first = await started(page, board, roster)
            cid = first["candidate_id"]
        await board.expect(board_event("disconnect", cid))
        async with client(hub.ws_url, "/ws/candidate") as again:
            await joined_candidate(again, roster, 0, resume_token=first["resume_token"])
            resumed = await again.expect("resumed")
            assert resumed["deadline"] == first["deadline"]
            question = await again.expect("question")
            assert question["question"]["id"] == first["question"]["id"]
            reconnected = await board.expect(board_event("reconnect", cid))
            assert reconnected["event"]["status"] == "in_progress"


async def test_reload_waits_for_the_invigilator(hub: RunningHub, roster: Roster) -> None:
    async with client(hub.ws_url, "/ws/invigilator") as board:
        await logged_board(board, roster)
        async with client(hub.ws_url, "/ws/candidate") as page:
            first = await started(page, board, roster)
            cid = first["candidate_id"]
            ack = await page.request({"type": "answer", "question_number": 1,
                                      "answer": answer_for(first)})  # fmt: skip
            assert ack["type"] == "answer_ack"
            second = await page.expect("question")
        async with client(hub.ws_url, "/ws/candidate") as reloaded:
            await joined_candidate(reloaded, roster, 0)  # no token: a reload or another device
            await reloaded.expect("resume_required")
            await board.request({"type": "authorize_resume", "candidate_id": cid})
            resumed = await reloaded.expect("resumed", timeout=5)
            assert resumed["deadline"] == first["deadline"]
            question = await reloaded.expect("question")
            assert question["question_number"] == 2
            assert question["question"]["id"] == second["question"]["id"]
            # The same order under the same identifiers: the page learns nothing new.
            assert question["question"]["options"] == second["question"]["options"]


async def test_answers_are_idempotent_and_ordered(hub: RunningHub, roster: Roster) -> None:
    async with (
        client(hub.ws_url, "/ws/invigilator") as board,
        client(hub.ws_url, "/ws/candidate") as page,
    ):
        await logged_board(board, roster)
        first = await started(page, board, roster)
        early = await page.request({"type": "answer", "question_number": 2, "answer": "x"})
        assert early["code"] == "out_of_order"
        ack = await page.request({"type": "answer", "question_number": 1,
                                  "answer": answer_for(first)})  # fmt: skip
        assert "duplicate" not in ack
        await page.expect("question")
        replay = await page.request({"type": "answer", "question_number": 1,
                                     "answer": answer_for(first)})  # fmt: skip
        assert replay["duplicate"] is True
        answers = await hub.hub.live.answers(roster.session_id, first["candidate_id"])
        assert list(answers) == [1]
        state = await hub.hub.live.state(roster.session_id, first["candidate_id"])
        assert state.question_number == 2


async def test_the_page_sees_its_own_option_ids_and_answers_are_stored_in_the_banks(
    hub: RunningHub, roster: Roster
) -> None:
    async with (
        client(hub.ws_url, "/ws/invigilator") as board,
        client(hub.ws_url, "/ws/candidate") as page,
    ):
        await logged_board(board, roster)
        question = await started(page, board, roster)
        cid = question["candidate_id"]
        while not question["question"]["options"]:  # skip short answers to reach a choice
            await page.request({"type": "answer", "question_number": question["question_number"],
                                "answer": "réponse"})  # fmt: skip
            question = await page.expect("question")
        bank_question = hub.hub.bank.get(question["question"]["id"])
        bank_ids = {o.id for o in bank_question.options}
        shown = question["question"]["options"]
        assert not bank_ids & {o["id"] for o in shown}
        number = question["question_number"]
        refused = await page.request(
            {"type": "answer", "question_number": number, "answer": sorted(bank_ids)[0]}
        )
        assert refused["code"] == "answer_invalid"
        chosen = shown[0]
        answer = chosen["id"] if bank_question.type == "single" else [chosen["id"]]
        ack = await page.request({"type": "answer", "question_number": number, "answer": answer})
        assert ack["type"] == "answer_ack"
        stored = await hub.hub.live.answers(roster.session_id, cid)
        by_text = {o.text: o.id for o in bank_question.options}
        expected = by_text[chosen["text"]]
        assert stored[number]["answer"] == (expected if bank_question.type == "single"
                                            else [expected])  # fmt: skip


async def test_alert_blocks_answers_until_the_decision(hub: RunningHub, roster: Roster) -> None:
    async with (
        client(hub.ws_url, "/ws/invigilator") as board,
        client(hub.ws_url, "/ws/candidate") as page,
    ):
        await logged_board(board, roster)
        first = await started(page, board, roster)
        cid = first["candidate_id"]
        raised = await page.request({"type": "alert", "category": "E1"})
        assert raised["type"] == "alert_raised"
        await board.expect(board_event("raise_alert", cid))
        blocked = await page.request({"type": "answer", "question_number": 1, "answer": "x"})
        assert blocked["code"] == "alert_pending"
        await board.request({"type": "dismiss_alert", "candidate_id": cid})
        await page.expect("alert_dismissed")
        await page.request({"type": "alert", "category": "E4"})
        await board.request({"type": "validate_alert", "candidate_id": cid, "subcategory": "E4"})
        await page.expect("alert_validated")
        replacement = await page.expect("question")
        assert replacement["question_number"] == 1
        assert replacement["question"]["id"] != first["question"]["id"]


async def test_board_actions_reach_the_candidate(hub: RunningHub, roster: Roster) -> None:
    async with (
        client(hub.ws_url, "/ws/invigilator") as board,
        client(hub.ws_url, "/ws/candidate") as page,
    ):
        await logged_board(board, roster)
        first = await started(page, board, roster)
        cid = first["candidate_id"]
        await board.request({"type": "grant_time", "candidate_id": cid, "minutes": 10,
                             "reason": "Panne de poste"})  # fmt: skip
        granted = await page.expect("time_granted")
        assert granted["deadline"] == pytest.approx(first["deadline"] + 600)
        incident = await board.request({"type": "record_incident", "candidate_id": cid,
                                        "category": "E9", "question_number": 1,
                                        "description": "Le logiciel a planté"})  # fmt: skip
        assert incident["type"] == "ack"
        await board.request({"type": "end_test", "candidate_id": cid})
        ended = await page.expect("test_ended")
        assert ended["status"] == "ended_by_invigilator"
        again = await board.request({"type": "end_test", "candidate_id": cid})
        assert again["code"] == "transition_refused"


async def test_two_boards_see_the_same_and_one_wins(hub: RunningHub, roster: Roster) -> None:
    async with (
        client(hub.ws_url, "/ws/invigilator") as one,
        client(hub.ws_url, "/ws/invigilator") as two,
    ):
        await logged_board(one, roster)
        await logged_board(two, roster)
        cid = roster.candidates[1]["id"]
        replies = await asyncio.gather(
            one.request({"type": "confirm_presence", "candidate_ids": [cid]}),
            two.request({"type": "confirm_presence", "candidate_ids": [cid]}),
        )
        outcomes = sorted(r["type"] for r in replies)
        assert outcomes == ["ack", "error"], replies
        loser = next(r for r in replies if r["type"] == "error")
        assert loser["code"] in ("conflict", "transition_refused")
        for board in (one, two):
            event = await board.expect(board_event("confirm_presence", cid))
            assert event["event"]["status"] == "present"
            assert not board.seen("event")  # exactly one change, no double event


async def test_board_reconnect_gets_exactly_the_missed_events(
    hub: RunningHub, roster: Roster
) -> None:
    async with client(hub.ws_url, "/ws/invigilator") as board:
        snapshot = await logged_board(board, roster)
        epoch, seq = snapshot["epoch"], snapshot["seq"]
    async with client(hub.ws_url, "/ws/invigilator") as other:
        await logged_board(other, roster)
        ids = [c["id"] for c in roster.candidates if c["last_name"] != "Bonnet"]
        await other.request({"type": "confirm_presence", "candidate_ids": ids})
    async with client(hub.ws_url, "/ws/invigilator") as back:
        await back.send({"type": "login", "session": roster.session_id,
                         "password": roster.password, "epoch": epoch, "seq": seq})  # fmt: skip
        caught = await back.expect("caught_up")
        events = back.seen("event")
        assert [e["seq"] for e in events] == list(range(seq + 1, caught["seq"] + 1))
        assert len(events) == len(ids)
        assert not back.seen("snapshot")
    async with client(hub.ws_url, "/ws/invigilator") as stale:
        await stale.send({"type": "login", "session": roster.session_id,
                          "password": roster.password, "epoch": "other", "seq": 3})  # fmt: skip
        fresh = await stale.expect("snapshot")
        assert fresh["fresh"] is True


async def test_closed_page_and_silence_mark_disconnected(hub: RunningHub, roster: Roster) -> None:
    async with client(hub.ws_url, "/ws/invigilator") as board:
        await logged_board(board, roster)
        async with client(hub.ws_url, "/ws/candidate") as page:
            first = await started(page, board, roster, 0)
        closed = await board.expect(board_event("disconnect", first["candidate_id"]))
        assert closed["event"]["reason"] == "closed"
        async with client(hub.ws_url, "/ws/candidate") as silent:
            second = await started(silent, board, roster, 1)
            # no heartbeat at all: the sweep (timeout 1.5 s in this hub) marks it
            event = await board.expect(board_event("disconnect", second["candidate_id"]), 10)
            assert event["event"]["reason"] == "silent"
            # it stays disconnected (no flapping) until the page shows it is alive
            await silent.send({"type": "heartbeat"})
            await board.expect(board_event("reconnect", second["candidate_id"]), 10)
            kinds = [m["event"]["type"] for m in board.history if m.get("type") == "event"
                     and m["event"].get("candidate_id") == second["candidate_id"]]  # fmt: skip
            assert kinds[-2:] == ["disconnect", "reconnect"]
            assert kinds.count("disconnect") == 1


async def test_heartbeats_keep_a_page_connected(hub: RunningHub, roster: Roster) -> None:
    async with (
        client(hub.ws_url, "/ws/invigilator") as board,
        client(hub.ws_url, "/ws/candidate") as page,
    ):
        await logged_board(board, roster)
        first = await started(page, board, roster, 0)
        cid = first["candidate_id"]
        # The page's own cadence (this hub times out after 1.5 s of silence): 3 s of beats.
        for _ in range(12):
            await page.send({"type": "heartbeat"})
            await asyncio.sleep(0.25)
        beats = await hub.hub.live.heartbeats(roster.session_id)
        assert cid in beats and beats[cid] > first["deadline"] - 3 * 3600
        assert not [m for m in board.history if board_event("disconnect", cid)(m)]
        # Then silence: the sweep marks it.
        await board.expect(board_event("disconnect", cid), timeout=10)


async def test_bad_input_changes_nothing(hub: RunningHub, roster: Roster) -> None:
    async with (
        client(hub.ws_url, "/ws/invigilator") as board,
        client(hub.ws_url, "/ws/candidate") as page,
    ):
        snapshot = await logged_board(board, roster)
        await page.ws.send("{not json")
        assert (await page.expect("error"))["code"] == "malformed"
        await page.ws.send(b"\xc1\xff")  # a binary frame on the JSON subprotocol
        assert (await page.expect("error"))["code"] == "wrong_frame_type"
        assert (await page.request({"type": "nope"}))["code"] == "unknown_type"
        before_join = await page.request({"type": "answer", "question_number": 1, "answer": "a"})
        assert before_join["code"] == "not_joined"
        bad_field = await page.request({"type": "join", "session": "12", "last_name": "A",
                                        "first_name": "B", "birthdate": "2010-01-01"})  # fmt: skip
        assert bad_field["code"] == "invalid_field"
        other = await board.request({"type": "end_test", "candidate_id": 999_999_999})
        assert other["code"] == "candidate_not_found"
        assert not board.seen("event")
        again = await board.request({"type": "ping"})
        assert again["type"] == "pong"
        await hub.hub.live.snapshot(roster.session_id)
        assert (await hub.hub.live.meta(roster.session_id))["seq"] == str(snapshot["seq"])


async def test_malformed_msgpack_is_an_error(hub: RunningHub) -> None:
    async with client(hub.ws_url, "/ws/candidate", binary=True) as page:
        await page.ws.send(b"\xc1\xff")
        assert (await page.expect("error"))["code"] == "malformed"
        await page.ws.send(b"\x93\x01\x02\x03")  # a msgpack array, not a map
        assert (await page.expect("error"))["code"] == "malformed"


async def test_long_replay_reaches_a_reconnecting_board(hub: RunningHub, roster: Roster) -> None:
    async with client(hub.ws_url, "/ws/invigilator") as board:
        snapshot = await logged_board(board, roster)
    last = 0
    for number in range(600):  # more than a connection's outbound queue holds
        last = await hub.hub.live.append(roster.session_id, {"type": "note", "n": number})
    async with client(hub.ws_url, "/ws/invigilator") as back:
        await back.send({"type": "login", "session": roster.session_id,
                         "password": roster.password, "epoch": snapshot["epoch"],
                         "seq": snapshot["seq"]})  # fmt: skip
        caught = await back.expect("caught_up", timeout=20)
        assert caught["seq"] == last
        replayed = [m["seq"] for m in back.history if m.get("type") == "event"]
        assert replayed == list(range(snapshot["seq"] + 1, last + 1))


async def test_snapshot_keeps_the_incidents(hub: RunningHub, roster: Roster) -> None:
    async with client(hub.ws_url, "/ws/invigilator") as board:
        await logged_board(board, roster)
        ack = await board.request({"type": "record_incident", "category": "C6",
                                   "description": "Téléphone utilisé"})  # fmt: skip
        assert ack["type"] == "ack"
    async with client(hub.ws_url, "/ws/invigilator") as again:
        snapshot = await logged_board(again, roster)
        assert [i["category"] for i in snapshot["incidents"]] == ["C6"]
        assert snapshot["incidents"][0]["description"] == "Téléphone utilisé"


async def test_oversized_frame_closes_1009_and_others_go_on(
    hub: RunningHub, roster: Roster
) -> None:
    async with (
        client(hub.ws_url, "/ws/invigilator") as board,
        client(hub.ws_url, "/ws/candidate") as page,
    ):
        await logged_board(board, roster)
        with contextlib.suppress(ConnectionClosed):
            await page.ws.send("x" * (64 * 1024 + 10))
        with contextlib.suppress(ConnectionClosed):
            await asyncio.wait_for(page._reader, 5 * UNIT)
        assert page.closed_code == 1009
        pong = await board.request({"type": "ping"})
        assert pong["type"] == "pong"
