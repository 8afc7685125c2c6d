"""``make bench``: 2 hubs on one Redis, a room of 20, then 250 rooms, and the bare relay.

Starts an embedded redis-server (or uses ``REDIS_URL``), a fresh SQLite file with an admin
account, 2 hub processes on free loopback ports, then runs through load/harness.py:

1. room20:   one room (1 board + 20 candidates), fast answers, 3 closes, 2 silences;
2. rooms250: 250 rooms (5,000 candidates + 250 boards) over 2 harness processes, with an
   idle hold after every candidate joined (memory per idle connection);
3. relay:    the same 250 rooms and rates against 2 bare relays (load/relay.py).

Samples hub and Redis CPU/RSS (psutil) and Redis commands/s. Prints a summary table, then
as its LAST line one JSON object; writes load/results/bench-<time>.json and a latency CDF.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import redis

import harness
import report
from room import Options

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "load" / "results"
PYTHON = sys.executable
ADMIN_EMAIL = "bench@vigie.test"
TARGETS = {
    "room20_p50_ms": 5, "room20_p99_ms": 20, "rooms250_p99_ms": 100, "lost_events": 0,
    "close_to_board_ms": 100, "silence_to_board_s": 13, "kb_per_idle_conn": 30,
    "ratio_to_relay": 2,
}  # fmt: skip
HUB_SCRIPT = "from vigie.config import from_env; from vigie.hub.app import serve; serve(from_env())"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"port {port} did not open within {timeout:.0f} s")


async def make_admin(database_url: str, password: str) -> None:
    from vigie.records import Records

    records = Records(database_url)
    try:
        await records.migrate()
        school = await records.create_school("Collège du Banc d'Essai")
        await records.create_staff(ADMIN_EMAIL, password, "admin", school.id, name="Banc")
    finally:
        await records.close()


class Sampler:
    """CPU and RSS of the server processes, sampled once a second during a phase."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.cpu: dict[str, list[float]] = {name: [] for name in pids}
        self.rss: dict[str, list[int]] = {name: [] for name in pids}
        self.machine: list[float] = []
        self.reset()

    def reset(self) -> None:
        for name, proc in self.procs.items():
            proc.cpu_percent(None)
            self.cpu[name].clear()
            self.rss[name].clear()
        self.machine.clear()
        psutil.cpu_percent(None)

    def sample(self) -> None:
        for name, proc in self.procs.items():
            with contextlib.suppress(psutil.Error):
                self.cpu[name].append(proc.cpu_percent(None))
                self.rss[name].append(proc.memory_info().rss)
        self.machine.append(psutil.cpu_percent(None))

    def hub_rss(self) -> int:
        return sum(p.memory_info().rss for n, p in self.procs.items() if n.startswith("hub"))

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.procs:
            cpu, rss = self.cpu[name], self.rss[name]
            out[name] = {
                "cpu_avg_pct": sum(cpu) / len(cpu) if cpu else None,
                "cpu_max_pct": max(cpu, default=None),
                "rss_max_mb": max(rss, default=0) / 2**20,
            }
        out["machine_cpu_avg_pct"] = sum(self.machine) / len(self.machine) if self.machine else None
        return out


class RedisStats:
    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.ops: list[int] = []
        self.start_commands = 0
        self.start_time = 0.0

    def reset(self) -> None:
        self.ops.clear()
        self.start_commands = int(self.client.info("stats")["total_commands_processed"])
        self.start_time = time.monotonic()

    def sample(self) -> None:
        self.ops.append(int(self.client.info("stats")["instantaneous_ops_per_sec"]))

    def summary(self) -> dict[str, Any]:
        commands = int(self.client.info("stats")["total_commands_processed"])
        span = max(1e-6, time.monotonic() - self.start_time)
        return {"ops_per_s_avg": (commands - self.start_commands) / span,
                "ops_per_s_max": max(self.ops, default=0)}  # fmt: skip


def phase(
    name: str, specs: list[dict[str, Any]], opt: Options, procs: int, relay: bool,
    sampler: Sampler, stats: RedisStats, idle: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """One harness run with CPU/RSS/Redis sampling; ``idle`` receives the idle RSS."""
    sampler.reset()
    stats.reset()
    baseline = sampler.hub_rss()
    last = [0.0]

    def tick(progress: dict[str, int]) -> None:
        now = time.time()
        if now - last[0] >= 1.0 and opt.confirm_at <= now <= opt.end:
            last[0] = now
            sampler.sample()
            stats.sample()
        # Just before presence is confirmed every candidate that could join sits idle.
        if idle is not None and "rss" not in idle and now >= opt.confirm_at - 1.5:
            idle["rss"] = sampler.hub_rss()
            idle["baseline"] = baseline
            idle["connections"] = progress["joined"]

    raw = harness.run(specs, opt, procs=procs, relay=relay, label=name, on_tick=tick)
    result = harness.summary(raw)
    result["processes"] = sampler.summary()
    result["redis"] = stats.summary()
    result["raw"] = raw
    return result


def options(seconds: float, *, ramp: float, hold: float, **rates: Any) -> Options:
    start = time.time() + 2
    confirm = start + ramp + hold
    return Options(start=start, ramp=ramp, confirm_at=confirm, end=confirm + seconds, **rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rooms", type=int, default=250)
    parser.add_argument("--duration", type=float, default=120.0, help="rooms250 active seconds")
    parser.add_argument("--room20-duration", type=float, default=50.0)
    parser.add_argument("--relay-duration", type=float, default=90.0)
    parser.add_argument("--procs", type=int, default=2, help="harness processes for rooms250")
    parser.add_argument("--think", type=float, default=20.0, help="rooms250 mean think time")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-relay", action="store_true")
    args = parser.parse_args()
    harness.raise_nofile()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    children: list[subprocess.Popen[bytes]] = []
    embedded = None
    with tempfile.TemporaryDirectory(prefix="vigie-bench-") as tmp:
        try:
            var = Path(tmp)
            redis_url = os.environ.get("REDIS_URL", "")
            if redis_url:
                harness.check_loopback(redis_url)
            else:
                from vigie.redis_server import EmbeddedRedis

                embedded = EmbeddedRedis(var / "redis")
                embedded.start()
                redis_url = embedded.url
            rclient = redis.Redis.from_url(redis_url)
            redis_pid = int(rclient.info("server")["process_id"])
            database_url = f"sqlite+aiosqlite:///{var / 'vigie.db'}"
            password = secrets.token_urlsafe(12)
            asyncio.run(make_admin(database_url, password))
            env = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": database_url,
                   "VIGIE_VAR_DIR": str(var / "var"), "VIGIE_HOST": "127.0.0.1",
                   "VIGIE_SECRET_KEY": secrets.token_hex(32)}  # fmt: skip
            ports = [free_port(), free_port()]
            log = (RESULTS / f"hubs-{stamp}.log").open("wb")
            for port in ports:
                children.append(subprocess.Popen(
                    [PYTHON, "-c", HUB_SCRIPT], env={**env, "VIGIE_PORT": str(port)},
                    stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                ))  # fmt: skip
            for port in ports:
                wait_http(f"http://127.0.0.1:{port}/healthz", 60)
            hubs = [f"ws://127.0.0.1:{p}" for p in ports]
            http = f"http://127.0.0.1:{ports[0]}"
            pids = {"hub_a": children[0].pid, "hub_b": children[1].pid, "redis": redis_pid}
            sampler, stats = Sampler(pids), RedisStats(redis_url)
            results: dict[str, Any] = {"machine": machine(), "hubs": hubs}

            sys.stderr.write("setting up room20 ...\n")
            specs = harness.place(harness.create_sessions(http, ADMIN_EMAIL, password, 1, 20), hubs)
            opt = options(args.room20_duration, ramp=2, hold=2, think=4.0, p_alert=0.05,
                          p_close=0.15, p_silent=0.1, grant_every=10, overdue_every=20,
                          redis_url=redis_url, seed=args.seed)  # fmt: skip
            results["room20"] = phase("room20", specs, opt, 1, False, sampler, stats)

            sys.stderr.write(f"setting up {args.rooms} rooms ...\n")
            t0 = time.monotonic()
            specs = harness.place(
                harness.create_sessions(http, ADMIN_EMAIL, password, args.rooms, 20), hubs
            )
            results["setup_s"] = time.monotonic() - t0
            # Invigilators confirm their rooms within 30 s of each other, not at one instant.
            rates = {"think": args.think, "p_alert": 0.01, "p_close": 0.1, "p_silent": 0.05,
                     "grant_every": 60.0, "overdue_every": 60.0,
                     "confirm_spread": 30.0}  # fmt: skip
            idle: dict[str, Any] = {}
            ramp = max(2.0, min(40.0, args.rooms / 6))
            opt = options(args.duration, ramp=ramp, hold=8, redis_url=redis_url, seed=args.seed,
                          **rates)  # fmt: skip
            results["rooms250"] = phase("rooms250", specs, opt, args.procs, False, sampler,
                                        stats, idle)  # fmt: skip
            results["idle"] = idle

            if not args.skip_relay:
                relay_phases(args, results, children, log, redis_url, redis_pid, rates, stats)
        finally:
            for child in children:
                child.terminate()
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
            if embedded is not None:
                embedded.stop()
    finish(results, stamp)


def relay_phases(
    args: Any, results: dict[str, Any], children: list[subprocess.Popen[bytes]], log: Any,
    redis_url: str, redis_pid: int, rates: dict[str, Any], stats: RedisStats,
) -> None:  # fmt: skip
    """The bare relay under the same load; a failure is reported, not fatal."""
    try:
        ramp = max(2.0, min(40.0, args.rooms / 6))

        relay_ports = [free_port(), free_port()]
        relays = []
        for port in relay_ports:
            relays.append(subprocess.Popen(
                [PYTHON, str(ROOT / "load" / "relay.py"), "--port", str(port),
                 "--redis-url", redis_url], stdout=log, stderr=subprocess.STDOUT,
            ))  # fmt: skip
        children.extend(relays)
        for port in relay_ports:
            wait_port(port, 30)
        relay_urls = [f"ws://127.0.0.1:{p}" for p in relay_ports]
        rsampler = Sampler({"relay_a": relays[0].pid, "relay_b": relays[1].pid,
                            "redis": redis_pid})  # fmt: skip
        rspecs = harness.relay_rooms(args.rooms, 20, relay_urls)
        opt = options(args.relay_duration, ramp=ramp, hold=3, seed=args.seed, **rates)
        results["relay250"] = phase("relay250", rspecs, opt, args.procs, True,
                                    rsampler, stats)  # fmt: skip
        rspecs = harness.relay_rooms(1, 20, relay_urls)
        opt = options(30, ramp=2, hold=2, seed=args.seed, think=4.0)
        results["relay20"] = phase("relay20", rspecs, opt, 1, True, rsampler, stats)
    except Exception as exc:  # the hub's figures still get written
        results["relay_error"] = repr(exc)


def machine() -> dict[str, Any]:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    model = next((ln.split(":", 1)[1].strip() for ln in lscpu.splitlines()
                  if ln.startswith("Model name")), platform.processor())  # fmt: skip
    return {"cpus": os.cpu_count(), "model": model, "ram_gb": psutil.virtual_memory().total / 2**30,
            "python": platform.python_version(), "load_avg_at_start": os.getloadavg()}  # fmt: skip


def finish(results: dict[str, Any], stamp: str) -> None:
    r20, r250 = results["room20"], results["rooms250"]
    idle = results.get("idle", {})
    closes = r20["raw"]["close_ms"] + r250["raw"]["close_ms"]
    silences = r20["raw"]["silence_s"] + r250["raw"]["silence_s"]
    kb = None
    if idle.get("connections"):
        kb = (idle["rss"] - idle["baseline"]) / idle["connections"] / 1024
    ratio = ratio20 = None
    if "relay250" in results:
        hub_p99 = r250["e2e_ms"].get("answer", {}).get("p99")
        relay_p99 = results["relay250"]["latency_ms"].get("answer", {}).get("p99")
        if hub_p99 and relay_p99:
            ratio = hub_p99 / relay_p99
        hub20 = r20["e2e_ms"].get("answer", {}).get("p99")
        relay20 = results.get("relay20", {}).get("latency_ms", {}).get("answer", {}).get("p99")
        if hub20 and relay20:
            ratio20 = hub20 / relay20
    line = report.clean({
        "room20_p50_ms": r20["candidate_actions_ms"]["p50"],
        "room20_p99_ms": r20["candidate_actions_ms"]["p99"],
        "rooms250_p99_ms": r250["candidate_actions_ms"]["p99"],
        "rooms250_candidates": r250["counts"].get("joined", 0),
        "lost_events": r20["lost_events"] + r250["lost_events"],
        "close_to_board_ms": report.summarize(closes)["p99"],
        "silence_to_board_s": report.summarize(silences)["max"],
        "kb_per_idle_conn": kb,
        "ratio_to_relay": ratio,
        "ratio_to_relay_room20": ratio20,
        "rooms250_e2e_answer_p99_ms": r250["e2e_ms"].get("answer", {}).get("p99"),
        "relay250_answer_p99_ms": results.get("relay250", {}).get("latency_ms", {})
        .get("answer", {}).get("p99"),
    })  # fmt: skip
    results["final"] = line
    curves = {"room20 (at->board)": report.merged(r20["raw"]["lat"]),
              "rooms250 (at->board)": report.merged(r250["raw"]["lat"]),
              "rooms250 answer (send->board)": r250["raw"]["e2e"].get("answer", [])}  # fmt: skip
    if "relay250" in results:
        curves["relay250 answer (send->board)"] = results["relay250"]["raw"]["lat"].get(
            "answer", []
        )
    report.plot_cdf(curves, RESULTS / f"bench-{stamp}-cdf.png", "Vigie: event latency to boards")
    for name in ("room20", "rooms250", "relay250", "relay20"):
        if name in results:
            results[name].pop("raw")
    (RESULTS / f"bench-{stamp}.json").write_text(json.dumps(report.clean(results), indent=1))
    print_table(results, line)
    print(f"report: {RESULTS / f'bench-{stamp}.json'}  plot: {RESULTS / f'bench-{stamp}-cdf.png'}")
    print(json.dumps(line))


def print_table(results: dict[str, Any], line: dict[str, Any]) -> None:
    m = results["machine"]
    print(f"\nmachine: {m['cpus']} cpu ({m['model']}), {m['ram_gb']:.1f} GB, "
          f"load at start {m['load_avg_at_start']}")  # fmt: skip
    for name in ("room20", "rooms250", "relay250", "relay20"):
        if name not in results:
            continue
        r = results[name]
        print()
        print(report.table(f"{name}: event latency at->board, by type", r["latency_ms"]))
        if r["e2e_ms"]:
            print(report.table(f"{name}: candidate send->board", r["e2e_ms"]))
        print(report.table(f"{name}: harness event-loop lag", {"lag": r["harness_lag_ms"]}))
        procs = ", ".join(f"{k} cpu {v['cpu_avg_pct'] or 0:.0f}%/{v['cpu_max_pct'] or 0:.0f}% "
                          f"rss {v['rss_max_mb']:.0f} MB"
                          for k, v in r["processes"].items() if isinstance(v, dict))  # fmt: skip
        print(f"  processes (avg/max cpu): {procs}; machine cpu "
              f"{r['processes']['machine_cpu_avg_pct'] or 0:.0f}%")  # fmt: skip
        print(f"  redis ops/s avg {r['redis']['ops_per_s_avg']:.0f} "
              f"max {r['redis']['ops_per_s_max']}; boards {r['boards']}, events "
              f"{r['events_received']}/{r['events_expected']}, lost {r['lost_events']}, "
              f"gaps {r['gaps']}")  # fmt: skip
        counts = r["counts"]
        print("  counts: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()) if v))
    print()
    print(f"  {'figure':28} {'value':>10} {'target':>8}  ok")
    for key, target in TARGETS.items():
        value = line.get(key)
        ok = value is not None and value <= target
        shown = "n/a" if value is None else f"{value:.2f}"
        print(f"  {key:28} {shown:>10} {target:>8}  {'yes' if ok else 'NO'}")
    print()


if __name__ == "__main__":
    main()
