"""The hub process: the Starlette application, its lifespan, and ``serve``.

The lifespan connects the stores (starting an embedded Redis when no ``REDIS_URL`` is set),
applies the migrations, loads the question bank, and runs this hub's pub/sub fan-out and
presence sweep. Any number of hubs may share one Redis: they hold no session state.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import FrameType

import redis.asyncio as aioredis
import uvicorn
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from vigie import codec
from vigie.config import PROJECT_ROOT, Config
from vigie.core.adaptive import load_bank
from vigie.hub import http_api
from vigie.hub.board_ws import BoardHandler
from vigie.hub.candidate_ws import CandidateHandler
from vigie.hub.context import Hub
from vigie.hub.drain import drain
from vigie.hub.endpoint import serve_socket
from vigie.hub.fanout import Fanout
from vigie.hub.presence import sweep_forever
from vigie.live import LiveStore
from vigie.records import Records
from vigie.redis_server import resolve_url

log = logging.getLogger(__name__)

REDIS_POOL_WAIT = 10.0
"""Seconds a command waits for a free pooled connection under a burst."""

CLIENTS = PROJECT_ROOT / "clients"
GC_THRESHOLDS = (10_000, 50, 100)
"""Thousands of connections make a full collection last 100-300 ms (measured with
VIGIE_GC_LOG=1 under `make bench`): collect young objects in larger batches and the old
generations far less often (docs/performance.md)."""


async def candidate_socket(websocket: WebSocket) -> None:
    await serve_socket(websocket, CandidateHandler, codec.CANDIDATE_MESSAGES)


async def board_socket(websocket: WebSocket) -> None:
    await serve_socket(websocket, BoardHandler, codec.BOARD_MESSAGES)


async def health(request: Request) -> Response:
    """Liveness: the process answers. It says nothing of the stores (that is ``/readyz``):
    a hub riding out a Redis restart is alive and must not be restarted."""
    hub: Hub = request.app.state.hub
    return JSONResponse({"status": "ok", "server_time": hub.now()})


READY_TIMEOUT = 2.0


async def ready(request: Request) -> Response:
    """Readiness: 200 when Redis and the records store answer and the fan-out subscription
    is live; 503 with the reasons otherwise (nginx and systemd use it, docs/deploy.md)."""
    hub: Hub = request.app.state.hub
    reasons: list[str] = []

    async def check(name: str, probe: Callable[[], Awaitable[object]]) -> None:
        try:
            await asyncio.wait_for(probe(), READY_TIMEOUT)
        except Exception as exc:  # any failure means "not ready", with why
            reasons.append(f"{name}: {type(exc).__name__}")

    await check("redis", hub.live.client.ping)
    if hub.records is not None:
        await check("records", hub.records.ping)
    if not hub.fanout.healthy:
        reasons.append("fanout: pub/sub subscription lost, resubscribing")
    if hub.draining:
        reasons.append("draining: the hub is stopping, its sockets move to the others")
    if reasons:
        return JSONResponse({"status": "unavailable", "reasons": reasons}, status_code=503)
    return JSONResponse({"status": "ready"})


def _log_gc_pauses() -> Callable[[str, dict[str, int]], None]:
    """A gc callback logging collections longer than 5 ms (diagnostics: VIGIE_GC_LOG=1)."""
    began = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
            return
        pause = (time.perf_counter() - began[0]) * 1000
        if pause > 5:
            log.warning("gc generation %s: %.1f ms, %s collected",
                        info["generation"], pause, info["collected"])  # fmt: skip

    return callback


def _static(folder: Path) -> StaticFiles:
    # check_dir=False: the hub never writes into its install (it may be read-only).
    return StaticFiles(directory=folder, html=True, check_dir=False)


def create_app(config: Config) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        config.var_dir.mkdir(parents=True, exist_ok=True)
        url, embedded = resolve_url(config.redis_url, config.var_dir)
        # Thousands of sockets share a bounded pool: a command waits for a free connection
        # rather than failing ("Too many connections") under a burst.
        # A connection broken by a Redis restart is replaced and the command retried
        # (every write is a versioned or idempotent script), within about a second; past
        # that the caller answers ``store_unavailable``.
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=64, timeout=REDIS_POOL_WAIT, health_check_interval=30,
            retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=3),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            socket_connect_timeout=2,
        )  # fmt: skip
        client = aioredis.Redis(connection_pool=pool)
        records = Records(config.sqlalchemy_url)
        await records.migrate()
        live = LiveStore(client, stream_maxlen=config.stream_maxlen)
        fanout = Fanout(client, live)
        fanout.start()
        hub = Hub(config, live, fanout, load_bank(), records)
        app.state.hub, app.state.live, app.state.records = hub, live, records
        stop_sweep = asyncio.Event()
        sweep = asyncio.get_running_loop().create_task(sweep_forever(hub, stop_sweep))
        # Long-lived start-up objects (the bank, modules) never become garbage: keep them
        # out of the collector's generations so its pauses stay short under load.
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        if os.environ.get("VIGIE_GC_LOG"):
            gc.callbacks.append(_log_gc_pauses())
        try:
            yield
        finally:
            stop_sweep.set()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(sweep, timeout=5)
            if hub.background:  # outcomes on their way to the records store
                await asyncio.wait(hub.background, timeout=5)
            await fanout.stop()
            await client.aclose()
            await records.close()
            if embedded is not None:
                embedded.stop()

    routes: list[BaseRoute] = [
        WebSocketRoute("/ws/candidate", candidate_socket),
        WebSocketRoute("/ws/invigilator", board_socket),
        Route("/healthz", health),
        Route("/readyz", ready),
        *http_api.routes,
        Route("/surveillant", lambda _: RedirectResponse("/surveillant/")),
        Mount("/surveillant", _static(CLIENTS / "invigilator"), name="invigilator"),
        Mount("/admin", _static(CLIENTS / "admin"), name="admin"),
        Mount("/common", _static(CLIENTS / "common"), name="common"),
        Mount("/", _static(CLIENTS / "student"), name="student"),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def uvicorn_config(app: Starlette, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ws_max_size=codec.MAX_FRAME,  # larger frames close with 1009
        ws_per_message_deflate=False,  # small frames; deflate state costs ~64 KB/connection
        ws_ping_interval=None,  # candidates heartbeat and boards get presence every 5 s
        ws="websockets-sansio",  # ~7 KB less per idle connection than the legacy protocol
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )


class GracefulServer(uvicorn.Server):
    """uvicorn's server, with a drain before its shutdown on the first SIGTERM: the hub's
    sockets move to the other hubs (``vigie.hub.drain``). Ctrl-C, or a second SIGTERM,
    stops at once as uvicorn does."""

    def __init__(self, config: uvicorn.Config, app: Starlette) -> None:
        super().__init__(config)
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None
        self.drain_started = False

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        hub = getattr(self.app.state, "hub", None)
        if sig != signal.SIGTERM or self.drain_started or hub is None or self.loop is None:
            super().handle_exit(sig, frame)
            return
        self.drain_started = True
        # A signal handler runs between two bytecodes of the loop's thread: hand over.
        self.loop.call_soon_threadsafe(self._start_drain, hub)

    def _start_drain(self, hub: Hub) -> None:
        task = asyncio.get_running_loop().create_task(drain(hub))
        hub.background.add(task)
        task.add_done_callback(lambda _: setattr(self, "should_exit", True))


def serve(config: Config) -> None:
    """Run one hub process until Ctrl-C / SIGTERM (which drains it first)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app(config)
    GracefulServer(uvicorn_config(app, config.host, config.port), app).run()
