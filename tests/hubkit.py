"""Test kit for the hub: a real uvicorn on port 0, real stores, real WebSocket clients.

Every wait has a deadline scaled by ``conftest.UNIT``; nothing sleeps and hopes.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import msgpack
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from conftest import UNIT
from vigie.config import Config
from vigie.hub.app import create_app, uvicorn_config
from vigie.hub.context import Hub
from vigie.records import Records
from vigie.redis_server import EmbeddedRedis
from vigie.registration import NewCandidate

Message = dict[str, Any]


@dataclass
class RunningHub:
    url: str
    app: Any
    server: uvicorn.Server

    @property
    def hub(self) -> Hub:
        hub: Hub = self.app.state.hub
        return hub

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")


@asynccontextmanager
async def running_hub(config: Config) -> AsyncIterator[RunningHub]:
    """A hub in this event loop, on a free port, stopped (lifespan included) at exit."""
    app = create_app(config)
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", 0))
    server.config.install_signal_handlers = False  # type: ignore[attr-defined]
    task = asyncio.get_running_loop().create_task(server.serve())
    await wait_for(lambda: server.started or task.done(), 20 * UNIT, "hub start")
    if task.done():
        task.result()
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield RunningHub(f"http://127.0.0.1:{port}", app, server)
    finally:
        server.should_exit = True
        loop = asyncio.get_running_loop()
        began = loop.time()
        done, _ = await asyncio.wait([task], timeout=20 * UNIT)
        if not done:
            raise AssertionError(
                f"the hub did not stop in {loop.time() - began:.1f} s:\n" + _await_chains()
            )


def _await_chains() -> str:
    """Where each task is suspended, down its await chain (for a stuck shutdown)."""
    lines = []
    for running in asyncio.all_tasks():
        coro: Any = running.get_coro()
        chain = []
        while coro is not None and hasattr(coro, "cr_frame"):
            frame = coro.cr_frame
            if frame is not None:
                chain.append(f"{frame.f_code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno}")
            coro = coro.cr_await
        lines.append(" -> ".join(chain))
    return "\n".join(lines)


def hub_config(tmp_path: Path, redis_url: str, **overrides: Any) -> Config:
    return Config(
        redis_url=redis_url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'vigie.db'}",
        var_dir=tmp_path / "var",
        **overrides,
    )


async def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@dataclass
class Roster:
    session_id: int
    password: str
    access_code: str
    candidates: list[dict[str, Any]] = field(default_factory=list)


DEFAULT_PEOPLE = [
    ("N'Diaye", "Aïssatou", date(2010, 6, 21), 0.33, True),
    ("Martin", "Léa", date(2010, 2, 17), 0.0, True),
    ("Martin", "Léa", date(2010, 9, 8), 0.0, True),
    ("Bonnet", "Jade", date(2010, 6, 6), 0.0, False),
    ("Dubois", "Noé", date(2010, 4, 11), 0.0, True),
]


async def planned_session(hub: Hub, people: list[tuple[Any, ...]] | None = None) -> Roster:
    """A school, a session and its candidates, in the records and loaded live."""
    records: Records | None = hub.records
    assert records is not None
    school = await records.create_school("Collège Test")
    session = await records.create_session(
        school.id, datetime.now(UTC), room="Salle 12", address="1 rue de l'École",
        examiner="M. Surveillant",
    )  # fmt: skip
    entries = [
        NewCandidate(last, first, born, extra, eligible=eligible)
        for last, first, born, extra, eligible in (people or DEFAULT_PEOPLE)
    ]
    created = await records.register_candidates(session.id, entries)
    await hub.live.load_session(
        await records.session_info(session.id), await records.roster(session.id)
    )
    rows = [
        {"id": c.id, "last_name": c.last_name, "first_name": c.first_name,
         "birthdate": c.birthdate.isoformat()}
        for c in created
    ]  # fmt: skip
    return Roster(session.id, session.password, session.access_code, rows)


class Client:
    """A real WebSocket client that keeps every message it receives, in order."""

    def __init__(self, ws: ClientConnection, binary: bool) -> None:
        self.ws = ws
        self.binary = binary
        self.inbox: list[Message] = []
        self.history: list[Message] = []
        """Every message received, never consumed (for checks on the whole sequence)."""
        self.closed_code: int | None = None
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self._next_id = 0

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                message = msgpack.unpackb(frame) if self.binary else json.loads(frame)
                self.inbox.append(message)
                self.history.append(message)
        finally:
            self.closed_code = self.ws.close_code if self.ws.close_code is not None else 1006

    async def send(self, message: Message) -> int:
        self._next_id += 1
        message = {"id": self._next_id, **message}
        await self.ws.send(msgpack.packb(message) if self.binary else json.dumps(message))
        return self._next_id

    async def expect(
        self, predicate: Callable[[Message], bool] | str, timeout: float = 5.0
    ) -> Message:
        """The first unseen message matching; consumes it (others stay in the inbox)."""
        if isinstance(predicate, str):
            wanted = predicate
            predicate = lambda m: m.get("type") == wanted  # noqa: E731
        found: list[Message] = []

        def match() -> bool:
            for index, message in enumerate(self.inbox):
                if predicate(message):
                    found.append(message)
                    del self.inbox[index]
                    return True
            return self.closed_code is not None

        await wait_for(match, timeout * UNIT, "a message")
        if not found:
            raise AssertionError(f"connection closed ({self.closed_code}) before the message")
        return found[0]

    async def request(self, message: Message, timeout: float = 5.0) -> Message:
        """Send and wait for the reply carrying the same id (ack, error or typed reply)."""
        request_id = await self.send(message)
        return await self.expect(lambda m: m.get("id") == request_id, timeout)

    def seen(self, kind: str) -> list[Message]:
        return [m for m in self.inbox if m.get("type") == kind]

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.wait_for(self._reader, 5 * UNIT)


@asynccontextmanager
async def client(url: str, path: str, *, binary: bool = False) -> AsyncIterator[Client]:
    protocol = "vigie.msgpack.v1" if binary else "vigie.json.v1"
    async with connect(url + path, subprotocols=[protocol], open_timeout=10 * UNIT) as ws:  # type: ignore[list-item]
        c = Client(ws, binary)
        await c.expect("hello")
        try:
            yield c
        finally:
            if c.closed_code is None:
                await c.close()


async def joined_candidate(
    c: Client, roster: Roster, index: int, *, resume_token: str | None = None
) -> Message:
    """Join as the roster's candidate ``index`` (with a page's token to resume alone)."""
    person = roster.candidates[index]
    message = {
        "type": "join", "session": roster.session_id, "last_name": person["last_name"],
        "first_name": person["first_name"], "birthdate": person["birthdate"],
    }  # fmt: skip
    if resume_token is not None:
        message["resume_token"] = resume_token
    return await c.request(message)


async def logged_board(c: Client, roster: Roster) -> Message:
    await c.send({"type": "login", "session": roster.session_id, "password": roster.password})
    return await c.expect("snapshot")


def answer_for(question: dict[str, Any]) -> Any:
    q = question["question"]
    if q["type"] == "multiple":
        return [q["options"][0]["id"]]
    if q["options"]:
        return q["options"][0]["id"]
    return "réponse"


async def started(page: Client, board: Client, roster: Roster, index: int = 0) -> dict[str, Any]:
    """Join, confirm presence from the board, start: returns the first question."""
    joined = await joined_candidate(page, roster, index)
    await board.request({"type": "confirm_presence", "candidate_ids": [joined["candidate_id"]]})
    await page.expect("presence_confirmed")
    reply = await page.request({"type": "start", "access_code": roster.access_code})
    assert reply["type"] == "started", reply
    question = await page.expect("question")
    question["candidate_id"] = joined["candidate_id"]
    question["resume_token"] = reply["resume_token"]
    question["deadline"] = reply["deadline"]
    return question


def board_event(kind: str, candidate_id: int | None = None) -> Any:
    def match(message: dict[str, Any]) -> bool:
        event = message.get("event", {})
        return (
            message.get("type") == "event"
            and event.get("type") == kind
            and (candidate_id is None or event.get("candidate_id") == candidate_id)
        )

    return match


# --- hub processes --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HubProcess:
    def __init__(self, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.url = f"ws://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vigie.cli", "serve", "--port", str(self.port)],
            env={**env, "VIGIE_PORT": str(self.port)},
            stdout=subprocess.DEVNULL,
        )

    async def ready(self) -> None:
        async with httpx.AsyncClient() as http:

            async def answers() -> bool:
                try:
                    reply = await http.get(f"http://127.0.0.1:{self.port}/healthz")
                    return reply.status_code == 200
                except httpx.TransportError:
                    return False

            loop = asyncio.get_running_loop()
            end = loop.time() + 30 * UNIT
            while not await answers():
                if self.process.poll() is not None or loop.time() > end:
                    raise AssertionError(f"hub on port {self.port} did not start")
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def hub_processes(
    count: int, tmp_path: Path, redis_url: str, **settings: str
) -> Iterator[list[HubProcess]]:
    """``count`` hub processes on one Redis and one SQLite file; ``settings`` override
    their environment (``VIGIE_HEARTBEAT_TIMEOUT="60"``...)."""
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'vigie.db'}",
        "VIGIE_VAR_DIR": str(tmp_path / "var"),
        "VIGIE_HEARTBEAT_TIMEOUT": "2",
        "VIGIE_SWEEP_INTERVAL": "0.2",
        **settings,
    }
    hubs = [HubProcess(env) for _ in range(count)]
    try:
        yield hubs
    finally:
        for hub in hubs:
            hub.stop()


def redis_server(data_dir: Path) -> EmbeddedRedis:
    """A redis-server of the test's own on a free loopback port (AOF on, as in production),
    to stop with any signal and start again on the same port and data."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    return EmbeddedRedis(data_dir, port=port)
