"""The live hub end to end: a real uvicorn, real Redis, real SQLite, real WebSocket clients."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import UNIT
from hubkit import (
    answer_for,
    client,
    hub_config,
    joined_candidate,
    logged_board,
    planned_session,
    running_hub,
    started,
    wait_for,
)
from vigie.core.adaptive import score
from vigie.core.candidate import Status
from vigie.core.outcome import Outcome


@pytest.fixture
async def hub(tmp_path: Path, redis_url: str, redis_client):  # type: ignore[no-untyped-def]
    async with running_hub(hub_config(tmp_path, redis_url)) as running:
        yield running


async def test_a_whole_test_reaches_the_board(hub) -> None:  # type: ignore[no-untyped-def]
    roster = await planned_session(hub.hub)
    async with (
        client(hub.ws_url, "/ws/invigilator") as board,
        client(hub.ws_url, "/ws/candidate") as page,
    ):
        snapshot = await logged_board(board, roster)
        assert {row["status"] for row in snapshot["candidates"]} == {"registered"}
        joined = await joined_candidate(page, roster, 0)
        assert joined["type"] == "joined", joined
        cid = joined["candidate_id"]

        ack = await board.request({"type": "confirm_presence", "candidate_ids": [cid]})
        assert ack["type"] == "ack", ack
        await page.expect("presence_confirmed")
        event = await board.expect("event")
        assert event["event"]["type"] == "confirm_presence"
        assert event["seq"] == snapshot["seq"] + 1

        wrong = await page.request({"type": "start", "access_code": "BBBB22"})
        assert wrong["code"] == "wrong_access_code"
        started = await page.request({"type": "start", "access_code": roster.access_code.lower()})
        assert started["type"] == "started", started
        question = await page.expect("question")
        assert question["question_number"] == 1
        assert "key" not in str(question["question"])
        board_event = await board.expect(lambda m: m.get("event", {}).get("type") == "start")
        assert board_event["event"]["status"] == "in_progress"

        for number in range(1, 33):
            q = question["question"]
            answer = q["options"][0]["id"] if q["type"] != "short" else "réponse"
            if q["type"] == "multiple":
                answer = [answer]
            ack = await page.request(
                {"type": "answer", "question_number": number, "answer": answer}
            )
            assert ack == {"type": "answer_ack", "question_number": number, "id": ack["id"]}
            if number < 32:
                question = await page.expect("question")
                assert question["question_number"] == number + 1
        ended = await page.expect("test_ended")
        assert ended["status"] == "finished"
        retried = await page.request({"type": "answer", "question_number": 32, "answer": answer})
        assert retried["type"] == "answer_ack" and retried["duplicate"] is True
        finished = await board.expect(lambda m: m.get("event", {}).get("type") == "finish")
        assert finished["event"]["status"] == "finished"

    # Scored in the same write as the end, then copied to the records store.
    fields = await hub.hub.live.candidate(roster.session_id, cid)
    live = Outcome.from_dict(hub.hub.bank, json.loads(fields["outcome"]))
    assert live.status is Status.FINISHED and len(live.answers) == 32
    assert live.result.score == score(hub.hub.bank, live.answers, None).score
    # Always the first option shown: the score of a candidate who does not read.
    assert live.result.score < 128
    await wait_for(lambda: not hub.hub.background, 10 * UNIT, "the outcome archived")
    archived = await hub.hub.records.outcomes.of_session(roster.session_id)
    assert archived == {cid: live.to_dict()}


async def test_ending_a_test_from_the_board_scores_it(hub) -> None:  # type: ignore[no-untyped-def]
    roster = await planned_session(hub.hub)
    async with (
        client(hub.ws_url, "/ws/invigilator") as board,
        client(hub.ws_url, "/ws/candidate") as page,
    ):
        await logged_board(board, roster)
        question = await started(page, board, roster)
        cid = question["candidate_id"]
        for number in (1, 2, 3):
            ack = await page.request({"type": "answer", "question_number": number,
                                      "answer": answer_for(question)})  # fmt: skip
            assert ack["type"] == "answer_ack"
            question = await page.expect("question")
        reply = await board.request({"type": "end_test", "candidate_id": cid})
        assert reply["type"] == "ack", reply
        await page.expect("test_ended")
    fields = await hub.hub.live.candidate(roster.session_id, cid)
    live = Outcome.from_dict(hub.hub.bank, json.loads(fields["outcome"]))
    assert live.status is Status.ENDED_BY_INVIGILATOR and len(live.answers) == 3
    assert live.result.rejected and live.result.score == 0  # fewer than 20 answers
    await wait_for(lambda: not hub.hub.background, 10 * UNIT, "the outcome archived")
    archived = await hub.hub.records.outcomes.of_session(roster.session_id)
    assert archived[cid]["status"] == "ended_by_invigilator"
