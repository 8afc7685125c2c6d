"""Slow consumers, gaps in pub/sub, and fuzzed input never hurt the hub or other clients."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
import redis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as sync_connect

from conftest import UNIT
from hubkit import (
    Roster,
    RunningHub,
    client,
    hub_config,
    logged_board,
    planned_session,
    running_hub,
    wait_for,
)
from vigie import codec
from vigie.hub.app import create_app, uvicorn_config
from vigie.live import tag


@pytest.fixture
async def small_queue_hub(tmp_path: Path, redis_url: str, redis_client):  # type: ignore[no-untyped-def]
    async with running_hub(hub_config(tmp_path, redis_url, outbound_queue=8)) as running:
        yield running


async def test_a_board_that_stops_reading_never_delays_the_others(
    small_queue_hub: RunningHub,
) -> None:
    hub = small_queue_hub
    roster = await planned_session(hub.hub)
    protocol = ["vigie.json.v1"]
    async with connect(hub.ws_url + "/ws/invigilator", subprotocols=protocol,  # type: ignore[arg-type]
                       max_queue=1) as stuck:  # fmt: skip
        await stuck.send(json.dumps({"type": "login", "session": roster.session_id,
                                     "password": roster.password}))  # fmt: skip
        async with client(hub.ws_url, "/ws/invigilator") as reader:
            snapshot = await logged_board(reader, roster)
            text = "x" * 1900  # big frames fill the stuck board's socket buffers quickly
            last = 0
            for _ in range(3000):
                last = await hub.hub.live.append(roster.session_id, {"type": "note", "d": text})
            await wait_for(
                lambda: any(m.get("seq") == last for m in reader.history), 30 * UNIT, "all events"
            )
            seqs = [m["seq"] for m in reader.history if m.get("type") == "event"]
            assert seqs == list(range(snapshot["seq"] + 1, last + 1))
        # The stuck board was dropped (1013 "try again later"), not waited for.
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(30 * UNIT):
                while True:
                    await stuck.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013


async def test_a_gap_in_pubsub_is_backfilled_from_the_stream(
    tmp_path: Path, redis_url: str, redis_client: Any
) -> None:
    async with running_hub(hub_config(tmp_path, redis_url)) as hub:
        roster = await planned_session(hub.hub)
        async with client(hub.ws_url, "/ws/invigilator") as board:
            snapshot = await logged_board(board, roster)
            first = await hub.hub.live.append(roster.session_id, {"type": "note", "n": 1})
            await wait_for(lambda: any(m.get("seq") == first for m in board.history), 5, "first")
            # An event reaches the stream but its PUBLISH is lost (as when pub/sub drops):
            t = tag(roster.session_id)
            lost = await redis_client.hincrby(f"{t}:meta", "seq", 1)
            await redis_client.xadd(f"{t}:log", {"p": msgpack.packb({"type": "note", "n": 2})},
                                    id=f"{lost}-1")  # fmt: skip
            after = await hub.hub.live.append(roster.session_id, {"type": "note", "n": 3})
            await wait_for(lambda: any(m.get("seq") == after for m in board.history), 5, "after")
            events = [m for m in board.history if m.get("type") == "event"]
            assert [e["seq"] for e in events] == [first, lost, after]
            assert [e["event"]["n"] for e in events] == [1, 2, 3]
            assert snapshot["seq"] + 1 == first


# --- fuzzing every handler through a real hub ---------------------------------------------


class ThreadedHub:
    """A hub in a thread of its own, so that synchronous hypothesis tests can talk to it."""

    def __init__(self, tmp_path: Path, redis_url: str) -> None:
        self.app = create_app(hub_config(tmp_path, redis_url))
        self.server = uvicorn.Server(uvicorn_config(self.app, "127.0.0.1", 0))
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.loop: asyncio.AbstractEventLoop | None = None

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self.server.serve())

    def start(self) -> str:
        self.thread.start()
        for _ in range(int(200 * UNIT)):
            if self.server.started:
                break
            self.thread.join(0.05)
        assert self.server.started, "threaded hub did not start"
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(20 * UNIT)

    def call(self, coroutine: Any) -> Any:
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(20 * UNIT)


@pytest.fixture(scope="module")
def fuzz_target(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str
) -> Iterator[tuple[str, Roster, ThreadedHub]]:
    hub = ThreadedHub(tmp_path_factory.mktemp("fuzz"), redis_url)
    url = hub.start()
    roster = hub.call(planned_session(hub.app.state.hub))
    try:
        yield url, roster, hub
    finally:
        hub.stop()
        server = redis.Redis.from_url(redis_url)
        # The session's keys, and the rate limits the fuzzer's failed logins and joins set.
        keys = server.keys(f"{tag(roster.session_id)}*") + server.keys("rl:*")
        if keys:
            server.delete(*keys)


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**60), 2**60), st.floats(allow_nan=True),
    st.text(max_size=50), st.binary(max_size=20),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
all_types = sorted({*codec.CANDIDATE_MESSAGES, *codec.BOARD_MESSAGES, "nope", ""})
field_names = sorted({f for t in (codec.CANDIDATE_MESSAGES, codec.BOARD_MESSAGES)
                      for shape in t.values() for f in shape} | {"id", "type"})  # fmt: skip
messages = st.builds(
    lambda kind, fields: {**fields, "type": kind},
    st.one_of(st.sampled_from(all_types), values),
    st.dictionaries(st.sampled_from(field_names), values, max_size=6),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=st.lists(messages, min_size=1, max_size=8), binary=st.booleans(),
       path=st.sampled_from(["/ws/candidate", "/ws/invigilator"]))  # fmt: skip
def test_fuzzed_messages_get_errors_and_change_nothing(
    fuzz_target: tuple[str, Roster, ThreadedHub],
    batch: list[dict[str, Any]],
    binary: bool,
    path: str,
) -> None:
    url, roster, hub = fuzz_target
    live = hub.app.state.hub.live
    seq_before = hub.call(live.meta(roster.session_id))["seq"]
    protocol = codec.MSGPACK if binary else codec.JSON
    with sync_connect(url + path, subprotocols=[protocol], open_timeout=10) as ws:  # type: ignore[list-item]
        ws.recv(timeout=5)  # hello
        for message in batch:
            try:
                frame = msgpack.packb(message) if binary else json.dumps(message, default=repr)
            except (TypeError, ValueError, OverflowError):
                continue
            ws.send(frame)
        ws.send(msgpack.packb({"type": "ping", "id": "last"}) if binary
                else json.dumps({"type": "ping", "id": "last"}))  # fmt: skip
        while True:  # every reply is an error, a pong or a harmless reply; ends with our pong
            raw = ws.recv(timeout=10)
            reply = msgpack.unpackb(raw) if binary else json.loads(raw)
            assert reply["type"] in ("error", "pong"), reply
            if reply["type"] == "error":
                assert reply["code"] != "internal_error", reply
            if reply.get("id") == "last":
                break
    assert hub.call(live.meta(roster.session_id))["seq"] == seq_before
    hub.call(live.client.ping())
