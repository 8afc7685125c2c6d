"""``make bench-restart``: what a Redis restart looks like from a room, measured.

Starts a redis-server of its own (AOF on), a SQLite file with an admin, 2 hub processes, and
one room of 20 candidates (alternating hubs, each answering about once a second and
heartbeating every 5 s) watched by 2 boards (one per hub). After a steady start, Redis is
stopped with SIGKILL (or SIGTERM), kept down ``--down`` seconds, and started again on the
same port and data. Reports, as its LAST line, one JSON object:

- ``readyz_503_ms``: from the stop to each hub's ``/readyz`` answering 503;
- ``readyz_200_after_up_ms``: from Redis answering again to each hub's ``/readyz`` 200;
- ``first_ack_after_up_ms``: for each candidate whose answer was refused during the outage,
  from Redis answering again to that answer acknowledged (p50 and max; the candidates retry
  every 0.5 s, the page with a growing delay capped at 5 s);
- ``store_unavailable`` and ``other_errors``: the error frames candidates and boards got;
- ``acked``, ``lost``: acknowledged answers, and those missing from Redis afterwards;
- ``board_gaps``, ``board_events_after_up``: holes in each board's seq, events received
  after the restart; ``sockets_closed``: sockets the hubs closed (should be 0).

Loopback only, bounded: one room, about ``--before + --down + --after`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import msgpack
import redis

import harness
from bench import ADMIN_EMAIL, HUB_SCRIPT, PYTHON, ROOT, free_port, make_admin, wait_http
from room import _answer_for, _open
from vigie.redis_server import EmbeddedRedis

RETRY_S = 0.5


class Watch:
    def __init__(self) -> None:
        self.errors: dict[str, int] = {}
        self.acked: dict[int, set[int]] = {}
        self.first_ack_after_up: dict[int, float] = {}
        """For each candidate whose answer was refused during the outage."""
        self.blocked: set[int] = set()
        self.up_at: float | None = None
        self.closed = 0
        self.stop = False

    def error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1


async def request(ws: Any, message: dict[str, Any], want: str | None = None) -> dict[str, Any]:
    message["id"] = secrets.token_hex(4)
    await ws.send(msgpack.packb(message))
    while True:
        reply = msgpack.unpackb(await ws.recv())
        if reply.get("id") == message["id"] or (want and reply.get("type") == want):
            return dict(reply)


async def board(url: str, spec: dict[str, Any], w: Watch, seqs: list[int]) -> None:
    ws = await _open(url)
    snap = await request(ws, {"type": "login", "session": spec["session"],
                              "password": spec["password"]})  # fmt: skip
    seqs.append(snap["seq"])
    while not w.stop:
        try:
            frame = msgpack.unpackb(await asyncio.wait_for(ws.recv(), 0.5))
        except TimeoutError:
            continue
        except Exception:
            w.closed += 1
            return
        if frame.get("type") == "event":
            seqs.append(frame["seq"])
    await ws.close()


async def candidate(url: str, spec: dict[str, Any], person: dict[str, Any], w: Watch) -> None:
    ws = await _open(url)
    await request(ws, {"type": "join", "session": spec["session"], **{
        k: person[k] for k in ("last_name", "first_name", "birthdate")}})  # fmt: skip
    await request(ws, {"type": "heartbeat"}, want="presence_confirmed")
    started = await request(ws, {"type": "start", "access_code": spec["access_code"]})
    assert started["type"] == "started", started
    question = msgpack.unpackb(await ws.recv())
    cid, acked = person["id"], w.acked.setdefault(person["id"], set())
    beat = time.monotonic()
    try:
        while not w.stop and question.get("type") == "question":
            number = question["question_number"]
            reply = await request(ws, {"type": "answer", "question_number": number,
                                       "answer": _answer_for(question["question"])})  # fmt: skip
            if reply["type"] == "error":
                w.error(reply["code"])
                w.blocked.add(cid)
                await asyncio.sleep(RETRY_S)
                continue
            acked.add(number)
            if w.up_at is not None and cid in w.blocked and cid not in w.first_ack_after_up:
                w.first_ack_after_up[cid] = (time.monotonic() - w.up_at) * 1000
            if time.monotonic() - beat > 5:
                await ws.send(msgpack.packb({"type": "heartbeat"}))
                beat = time.monotonic()
            question = msgpack.unpackb(await ws.recv())
            await asyncio.sleep(1.0)
    except Exception:
        w.closed += 1
        return
    await ws.close()


def readyz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)
    except OSError:
        return 0


async def until_status(port: int, wanted: int, since: float) -> float:
    while await asyncio.to_thread(readyz, port) != wanted:  # noqa: ASYNC110 (polling HTTP)
        await asyncio.sleep(0.02)
    return (time.monotonic() - since) * 1000


async def scenario(args: argparse.Namespace, server: EmbeddedRedis, ports: list[int], http: str,
                   password: str) -> dict[str, Any]:  # fmt: skip
    hubs = [f"ws://127.0.0.1:{p}" for p in ports]
    spec = harness.place(harness.create_sessions(http, ADMIN_EMAIL, password, 1, 20), hubs)[0]
    w = Watch()
    seqs: list[list[int]] = [[], []]
    boards = [asyncio.create_task(board(f"{hubs[i]}/ws/invigilator", spec, w, seqs[i]))
              for i in range(2)]  # fmt: skip
    while len(seqs[0]) < 1 or len(seqs[1]) < 1:  # noqa: ASYNC110 (both boards logged in)
        await asyncio.sleep(0.01)
    confirm = await _open(f"{hubs[0]}/ws/invigilator")
    await request(
        confirm, {"type": "login", "session": spec["session"], "password": spec["password"]}
    )
    pages = [asyncio.create_task(candidate(p["url"], spec, p, w)) for p in spec["candidates"]]
    while True:  # presence is confirmed as soon as each candidate has joined
        ids = [c["id"] for c in spec["candidates"]]
        reply = await request(confirm, {"type": "confirm_presence", "candidate_ids": ids})
        if all(r.get("ok") or r.get("code") == "transition_refused" for r in reply["results"]):
            break
        await asyncio.sleep(0.2)
    await confirm.close()
    await asyncio.sleep(args.before)
    stopped = time.monotonic()
    server.stop(signal.SIGKILL if args.signal == "kill" else signal.SIGTERM)
    unready = await asyncio.gather(*(until_status(p, 503, stopped) for p in ports))
    await asyncio.sleep(max(0.0, args.down - (time.monotonic() - stopped)))
    await asyncio.to_thread(server.start)
    up = w.up_at = time.monotonic()
    ready = await asyncio.gather(*(until_status(p, 200, up) for p in ports))
    events_at_up = [len(s) for s in seqs]
    await asyncio.sleep(args.after)
    w.stop = True
    await asyncio.gather(*pages, *boards, return_exceptions=True)
    stored = redis.Redis.from_url(server.url)
    lost = 0
    for cid, numbers in w.acked.items():
        kept = {int(k) for k in stored.hkeys(f"{{s:{spec['session']}}}:ans:{cid}")}
        lost += len(numbers - kept)
    gaps = sum(sum(1 for a, b in itertools.pairwise(s) if b != a + 1) for s in seqs)
    first = sorted(w.first_ack_after_up.values())
    return {
        "signal": args.signal, "down_s": args.down, "candidates": len(pages),
        "readyz_503_ms": [round(x) for x in unready],
        "readyz_200_after_up_ms": [round(x) for x in ready],
        "first_ack_after_up_ms": {
            "p50": round(statistics.median(first)) if first else None,
            "max": round(first[-1]) if first else None, "count": len(first)},
        "store_unavailable": w.errors.pop("store_unavailable", 0), "other_errors": w.errors,
        "acked": sum(len(n) for n in w.acked.values()), "lost": lost, "board_gaps": gaps,
        "board_events_after_up": [len(s) - n for s, n in zip(seqs, events_at_up, strict=True)],
        "sockets_closed": w.closed,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--down", type=float, default=5.0, help="seconds Redis stays away")
    parser.add_argument("--signal", choices=("kill", "term"), default="kill")
    parser.add_argument("--before", type=float, default=5.0)
    parser.add_argument("--after", type=float, default=10.0)
    args = parser.parse_args()
    children: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="vigie-restart-") as tmp:
        server = EmbeddedRedis(Path(tmp) / "redis", port=free_port())
        server.start()
        try:
            database_url = f"sqlite+aiosqlite:///{Path(tmp) / 'vigie.db'}"
            password = secrets.token_urlsafe(12)
            asyncio.run(make_admin(database_url, password))
            env = {**os.environ, "REDIS_URL": server.url, "DATABASE_URL": database_url,
                   "VIGIE_VAR_DIR": str(Path(tmp) / "var"), "VIGIE_HOST": "127.0.0.1"}  # fmt: skip
            ports = [free_port(), free_port()]
            for port in ports:
                children.append(subprocess.Popen(
                    [PYTHON, "-c", HUB_SCRIPT], env={**env, "VIGIE_PORT": str(port)}, cwd=ROOT,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                ))  # fmt: skip
            for port in ports:
                wait_http(f"http://127.0.0.1:{port}/healthz", 60)
            http = f"http://127.0.0.1:{ports[0]}"
            result = asyncio.run(scenario(args, server, ports, http, password))
        finally:
            for child in children:
                child.terminate()
                child.wait(timeout=20)
            server.stop()
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
