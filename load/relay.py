"""A bare relay, the baseline of the hub's cost: WebSocket -> Redis PUBLISH -> WebSocket.

No logic at all: a candidate's frame (msgpack, binary) is published as is on its room's
channel; each relay process subscribes to the rooms whose boards it serves and broadcasts
what it receives to them. The harness drives it with the same connections and rates as the
hub (``relay_candidate``, ``relay_board``), so the hub's latency is reported as a ratio.

    python load/relay.py --port 8801 --redis-url unix:///tmp/x/redis.sock
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import time
from collections import defaultdict
from typing import Any

import msgpack
import redis.asyncio as aioredis
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import WebSocketException

from room import HEARTBEAT, Metrics, Options, Room

# --- the relay server ----------------------------------------------------------------------


class Relay:
    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self.pubsub: Any = client.pubsub()
        self.boards: dict[bytes, set[ServerConnection]] = defaultdict(set)
        self.started = asyncio.Event()

    async def handler(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else ""
        role, _, room = path.strip("/").partition("/")
        channel = f"relay:{room}".encode()
        if role == "b":
            if channel not in self.boards:
                await self.pubsub.subscribe(channel)
            self.boards[channel].add(ws)
            try:
                await ws.wait_closed()
            finally:
                self.boards[channel].discard(ws)
            return
        async for frame in ws:
            await self.client.publish(channel, frame)

    async def fan_out(self) -> None:
        await self.started.wait()
        while True:
            message = await self.pubsub.get_message(timeout=None)
            if message is not None and message["type"] == "message":
                broadcast(self.boards.get(message["channel"], ()), message["data"])


async def run_relay(host: str, port: int, redis_url: str) -> None:
    # A waiting pool: redis-py's default one raises past 100 connections in flight.
    pool = aioredis.BlockingConnectionPool.from_url(redis_url, max_connections=100, timeout=10)
    client = aioredis.Redis(connection_pool=pool)
    relay = Relay(client)
    # redis-py's PubSub opens its connection on first use without a lock: two boards
    # subscribing at once would each open one and the first subscription would be lost.
    await relay.pubsub.subscribe(b"relay:-")
    relay.started.set()
    fan_out = asyncio.get_running_loop().create_task(relay.fan_out())
    async with serve(relay.handler, host, port, compression=None, ping_interval=None,
                     max_size=2**16):  # fmt: skip
        await asyncio.Future()  # until killed
    fan_out.cancel()


# --- the same load, relay flavour -----------------------------------------------------------


async def relay_candidate(room: Room, index: int, opt: Options, m: Metrics) -> None:
    """Heartbeats every 5 s from the start, answers with think time once presence is due."""
    person = room.candidates[index]
    rng = random.Random(f"{opt.seed}:{room.session}:{index}")
    cid = person["id"]
    await asyncio.sleep(max(0.0, opt.start + rng.uniform(0, opt.ramp) - time.time()))
    try:
        ws = await connect(person["url"], compression=None, ping_interval=None, open_timeout=30)
    except (OSError, TimeoutError, WebSocketException):
        m.counts["candidate_connect_failed"] += 1
        return
    m.counts["candidate_connections"] += 1
    m.counts["joined"] += 1
    next_hb = time.time() + HEARTBEAT
    next_answer = opt.confirm_at + rng.uniform(2.0, 4.0) + rng.expovariate(1 / opt.think)
    try:
        while (now := time.time()) < opt.end:
            if now >= next_hb:
                await ws.send(msgpack.packb({"type": "heartbeat", "cid": cid, "t": now}))
                next_hb = now + HEARTBEAT
            if now >= next_answer:
                await ws.send(msgpack.packb({"type": "answer", "cid": cid, "t": now}))
                m.counts["answers"] += 1
                next_answer = now + min(rng.expovariate(1 / opt.think), 3 * opt.think)
            await asyncio.sleep(max(0.0, min(next_hb, next_answer, opt.end) - time.time()))
        await asyncio.sleep(max(0.0, opt.end + 4 - time.time()))
    except WebSocketException:
        m.counts["candidate_dropped"] += 1
    finally:
        await ws.close()


async def relay_board(room: Room, opt: Options, m: Metrics, _redis: Any) -> None:
    await asyncio.sleep(max(0.0, opt.start - time.time()))
    try:
        ws = await connect(room.board_url, compression=None, ping_interval=None, open_timeout=30)
    except (OSError, TimeoutError, WebSocketException):
        m.counts["board_connect_failed"] += 1
        return
    lat, received = m.lat, 0
    try:
        stop = opt.end + 3
        while (now := time.time()) < stop:
            try:
                async with asyncio.timeout(stop - now):
                    frame = await ws.recv()
            except TimeoutError:
                break
            at_board = time.time()
            message = msgpack.unpackb(frame)
            lat[message["type"]].append((at_board - message["t"]) * 1000)
            received += 1
    except WebSocketException:
        m.counts["board_dropped"] += 1
    finally:
        m.counts["relay_frames"] += received
        await ws.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    args = parser.parse_args()
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_relay(args.host, args.port, args.redis_url))


if __name__ == "__main__":
    main()
