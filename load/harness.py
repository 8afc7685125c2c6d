"""Load harness: simulated rooms (a board + 20 candidates each) against Vigie hubs.

Sessions are created through the staff HTTP API (an admin account must exist), then rooms
are spread over worker processes; in each room the board and the candidates are spread
over the hubs (room i: board on hub i, candidate j on hub i + 1 + j, modulo the hubs), so
events cross hubs through Redis. ``--relay`` drives the bare relay (load/relay.py) instead.

    .venv/bin/python load/harness.py --hub ws://127.0.0.1:8001 --hub ws://127.0.0.1:8002 \
        --admin-email a@b.fr --admin-password secret --rooms 10 --duration 60

Loopback targets only. Prints a progress line on stderr, then a JSON report on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import ipaddress
import json
import multiprocessing as mp
import resource
import sys
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import report
from room import Metrics, Options, Room, board, candidate

LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
    "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David",
    "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "Andre", "Mercier",
]  # fmt: skip
FIRST_NAMES = ["Léa", "Noé", "Jade", "Louis", "Emma", "Gabriel", "Aïssatou", "Hugo"]
PROGRESS_FIELDS = ("connections", "joined", "answers", "events", "errors")


def check_loopback(url: str) -> None:
    """Refuse anything but this machine: the harness is a load generator."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return
    host = parts.hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise SystemExit(f"refusing a non-loopback target: {url}")


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --- setup through the staff API -------------------------------------------------------------


def _http(method: str, url: str, body: Any = None, token: str = "") -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # loopback, checked
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def create_sessions(
    http_url: str, email: str, password: str, rooms: int, size: int
) -> list[dict[str, Any]]:
    """``rooms`` sessions of ``size`` candidates each, made through the HTTP API."""
    check_loopback(http_url)
    token = _http("POST", f"{http_url}/api/login", {"email": email, "password": password})["token"]
    people = [
        {"last_name": LAST_NAMES[j % len(LAST_NAMES)],
         "first_name": FIRST_NAMES[j // len(LAST_NAMES) % len(FIRST_NAMES)],
         "birthdate": f"2010-{1 + j % 12:02d}-{1 + j % 28:02d}"}
        for j in range(size)
    ]  # fmt: skip

    def one(index: int) -> dict[str, Any]:
        made = _http("POST", f"{http_url}/api/sessions", {
            "room": f"Salle {index + 1}", "address": "1 rue de l'École",
            "examiner": "M. Banc", "starts_at": datetime.now(UTC).isoformat(),
        }, token)  # fmt: skip
        number = made["number"]
        created = _http("POST", f"{http_url}/api/sessions/{number}/candidates", people, token)
        return {
            "session": number, "password": made["password"], "access_code": made["access_code"],
            "candidates": [
                {"id": c["id"], "last_name": c["last_name"], "first_name": c["first_name"],
                 "birthdate": c["birthdate"]}
                for c in created["candidates"]
            ],
        }  # fmt: skip

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(rooms)))


def place(sessions: list[dict[str, Any]], hubs: list[str]) -> list[dict[str, Any]]:
    """Board of room i on hub i, candidate j on hub i + 1 + j: most events cross hubs."""
    for i, spec in enumerate(sessions):
        spec["board_url"] = f"{hubs[i % len(hubs)]}/ws/invigilator"
        for j, person in enumerate(spec["candidates"]):
            person["url"] = f"{hubs[(i + 1 + j) % len(hubs)]}/ws/candidate"
    return sessions


def relay_rooms(rooms: int, size: int, relays: list[str]) -> list[dict[str, Any]]:
    specs = []
    for i in range(rooms):
        people = [{"id": i * 1000 + j, "url": f"{relays[(i + 1 + j) % len(relays)]}/c/{i}"}
                  for j in range(size)]  # fmt: skip
        specs.append({"session": i, "password": "", "access_code": "", "candidates": people,
                      "board_url": f"{relays[i % len(relays)]}/b/{i}"})  # fmt: skip
    return specs


# --- worker processes ---------------------------------------------------------------------


def _worker(
    index: int, specs: list[dict[str, Any]], opt: dict[str, Any], relay: bool,
    progress: Any, results: Any,
) -> None:  # fmt: skip
    raise_nofile()
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    metrics = asyncio.run(_work(index, specs, Options(**opt), relay, progress))
    results.put((index, metrics.export()))


async def _work(
    index: int, specs: list[dict[str, Any]], opt: Options, relay: bool, progress: Any
) -> Metrics:
    m = Metrics()
    rooms = [Room(spec) for spec in specs]
    redis = None
    if opt.redis_url and not relay:
        import redis.asyncio as aioredis

        # Boards read their final seq at once: wait for a connection (redis-py caps at 100).
        pool = aioredis.BlockingConnectionPool.from_url(opt.redis_url, max_connections=20)
        redis = aioredis.Redis(connection_pool=pool)
    if relay:
        from relay import relay_board as run_board
        from relay import relay_candidate as run_candidate
    else:
        run_board, run_candidate = board, candidate
    loop = asyncio.get_running_loop()
    tasks = []
    for room in rooms:
        tasks.append(loop.create_task(run_board(room, opt, m, redis)))
        tasks.extend(
            loop.create_task(run_candidate(room, j, opt, m)) for j in range(len(room.candidates))
        )
    # Connections and scripts live until the end: keep them out of the collector's
    # generations, and collect young objects less often (measured pauses stay < 5 ms).
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 1000)
    side = [loop.create_task(_lag(m, opt)), loop.create_task(_report(index, m, progress, opt))]
    _, late = await asyncio.wait(tasks, timeout=max(1.0, opt.end + 40 - time.time()))
    for task in (*late, *side):
        task.cancel()
    m.counts["tasks_cancelled_late"] += len(late)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            m.counts["task_failed:" + type(task.exception()).__name__] += 1
    if redis is not None:
        await redis.aclose()
    _publish(index, m, progress)
    return m


async def _lag(m: Metrics, opt: Options) -> None:
    """The harness's own event-loop lag: it adds to every latency it measures."""
    while time.time() < opt.end + 10:
        before = time.perf_counter()
        await asyncio.sleep(0.1)
        if time.time() > opt.confirm_at:
            m.lag_ms.append((time.perf_counter() - before - 0.1) * 1000)


def _publish(index: int, m: Metrics, progress: Any) -> None:
    c = m.counts
    errors = sum(v for k, v in c.items() if "error" in k or "failed" in k or "dropped" in k)
    values = (c["candidate_connections"], c["joined"], c["answers"],
              sum(len(v) for v in m.lat.values()), errors)  # fmt: skip
    base = index * len(PROGRESS_FIELDS)
    for offset, value in enumerate(values):
        progress[base + offset] = value


async def _report(index: int, m: Metrics, progress: Any, opt: Options) -> None:
    while time.time() < opt.end + 60:
        _publish(index, m, progress)
        await asyncio.sleep(0.5)


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {"lat": {}, "e2e": {}, "close_ms": [], "silence_s": [],
                             "counts": {}, "boards": [], "lag_ms": []}  # fmt: skip
    for part in parts:
        for key in ("lat", "e2e"):
            for kind, values in part[key].items():
                total[key].setdefault(kind, []).extend(values)
        for key in ("close_ms", "silence_s", "boards", "lag_ms"):
            total[key].extend(part[key])
        for kind, value in part["counts"].items():
            total["counts"][kind] = total["counts"].get(kind, 0) + value
    return total


def run(
    specs: list[dict[str, Any]],
    opt: Options,
    *,
    procs: int = 1,
    relay: bool = False,
    label: str = "",
    on_tick: Callable[[dict[str, int]], None] | None = None,
) -> dict[str, Any]:
    """Run the rooms in ``procs`` processes until ``opt.end``; the merged raw samples."""
    raise_nofile()
    procs = max(1, min(procs, len(specs)))
    ctx = mp.get_context("spawn")
    progress = ctx.Array("q", procs * len(PROGRESS_FIELDS), lock=False)
    results = ctx.Queue()
    workers = [
        ctx.Process(target=_worker, daemon=True,
                    args=(i, specs[i::procs], asdict(opt), relay, progress, results))
        for i in range(procs)
    ]  # fmt: skip
    for w in workers:
        w.start()
    expected_candidates = sum(len(s["candidates"]) for s in specs)
    parts: dict[int, dict[str, Any]] = {}
    deadline = opt.end + 90
    while len(parts) < procs and time.time() < deadline:
        with contextlib.suppress(Exception):
            while True:
                i, part = results.get(timeout=1.0)
                parts[i] = part
        sums = {name: sum(progress[w * len(PROGRESS_FIELDS) + k] for w in range(procs))
                for k, name in enumerate(PROGRESS_FIELDS)}  # fmt: skip
        sums["expected"] = expected_candidates
        _progress_line(label, sums, opt)
        if on_tick is not None:
            on_tick(sums)
    sys.stderr.write("\n")
    for w in workers:
        w.join(timeout=10)
        if w.is_alive():
            w.kill()
    merged = merge([parts[i] for i in sorted(parts)])
    merged["counts"]["workers_missing"] = procs - len(parts)
    return merged


def _progress_line(label: str, s: dict[str, int], opt: Options) -> None:
    now = time.time()
    span = max(1.0, opt.end - opt.start)
    done = min(1.0, max(0.0, (now - opt.start) / span))
    bar = "#" * int(done * 30)
    sys.stderr.write(
        f"\r{label:10} [{bar:30}] {int(now - opt.start):4d}s conn {s['connections']:5d} "
        f"joined {s['joined']:5d}/{s['expected']} answers {s['answers']:6d} "
        f"events {s['events']:7d} errors {s['errors']:4d} "
    )
    sys.stderr.flush()


def summary(raw: dict[str, Any]) -> dict[str, Any]:
    """Percentiles of the raw samples, lost events, counters."""
    boards = raw["boards"]
    return report.clean({
        "latency_ms": report.by_type(raw["lat"]),
        "all_events_ms": report.summarize(report.merged(raw["lat"])),
        "candidate_actions_ms": report.summarize(
            report.merged(raw["lat"], skip=("confirm_presence", "validate_alert", "grant_time",
                                           "end_by_invigilator"))),
        "e2e_ms": report.by_type(raw["e2e"]),
        "close_to_board_ms": report.summarize(raw["close_ms"]),
        "silence_to_board_s": report.summarize(raw["silence_s"]),
        "harness_lag_ms": report.summarize(raw["lag_ms"]),
        "boards": len(boards),
        "events_expected": sum(b["final"] - b["first"] for b in boards),
        "events_received": sum(b["received"] for b in boards),
        "lost_events": sum(b["lost"] for b in boards),
        "gaps": sum(b["gaps"] for b in boards),
        "counts": raw["counts"],
    })  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hub", action="append", default=[], help="ws://host:port (repeat)")
    parser.add_argument("--relay", action="append", default=[], help="relay ws:// URL instead")
    parser.add_argument("--http", help="staff API base URL (default: the first hub's)")
    parser.add_argument("--admin-email", default="")
    parser.add_argument("--admin-password", default="")
    parser.add_argument("--redis-url", default="", help="to count lost events at the end")
    parser.add_argument("--rooms", type=int, default=1)
    parser.add_argument("--size", type=int, default=20, help="candidates per room")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of activity")
    parser.add_argument("--ramp", type=float, default=5.0)
    parser.add_argument("--hold", type=float, default=2.0, help="idle seconds before presence")
    parser.add_argument("--think", type=float, default=20.0)
    parser.add_argument("--p-alert", type=float, default=0.01)
    parser.add_argument("--p-close", type=float, default=0.05)
    parser.add_argument("--p-silent", type=float, default=0.0)
    parser.add_argument("--grant-every", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--procs", type=int, default=1)
    args = parser.parse_args()
    targets = args.relay or args.hub
    if not targets:
        parser.error("give --hub (or --relay) at least once")
    for url in [*targets, *([args.http] if args.http else []), args.redis_url]:
        if url:
            check_loopback(url)
    if args.relay:
        specs = relay_rooms(args.rooms, args.size, args.relay)
    else:
        http_url = args.http or args.hub[0].replace("ws://", "http://", 1)
        sessions = create_sessions(http_url, args.admin_email, args.admin_password,
                                   args.rooms, args.size)  # fmt: skip
        specs = place(sessions, args.hub)
    start = time.time() + 3
    opt = Options(
        start=start, ramp=args.ramp, confirm_at=start + args.ramp + args.hold,
        end=start + args.ramp + args.hold + args.duration, think=args.think,
        p_alert=args.p_alert, p_close=args.p_close, p_silent=args.p_silent,
        grant_every=args.grant_every, redis_url=args.redis_url, seed=args.seed,
    )  # fmt: skip
    raw = run(specs, opt, procs=args.procs, relay=bool(args.relay), label="harness")
    print(json.dumps(summary(raw), indent=1))


if __name__ == "__main__":
    main()
