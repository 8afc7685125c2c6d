"""Fan-out of session events from Redis pub/sub to this hub's connections.

A hub subscribes only to the sessions it serves (DESIGN.md "One session, one shard"): one
channel per session, subscribed while a board or a candidate of that session is connected
here. Each event is decoded once and encoded once per subprotocol, whatever the number of
boards. The per-session ``last_seq`` detects gaps (after a lost pub/sub connection) and
backfills them from the session's stream, so listeners always see seq in order, no holes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

import msgpack
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from vigie import live
from vigie.codec import Codec

log = logging.getLogger(__name__)


class Frames:
    """One event, decoded once, its board frame encoded at most once per codec."""

    __slots__ = ("_encoded", "epoch", "event", "seq")

    def __init__(self, epoch: str, seq: int, event: dict[str, Any]) -> None:
        self.epoch = epoch
        self.seq = seq
        self.event = event
        self._encoded: dict[str, str | bytes] = {}

    def board_frame(self, codec: Codec) -> str | bytes:
        frame = self._encoded.get(codec.subprotocol)
        if frame is None:
            message = {"type": "event", "epoch": self.epoch, "seq": self.seq, "event": self.event}
            frame = self._encoded[codec.subprotocol] = codec.encode(message)
        return frame


class Listener(Protocol):
    def on_event(self, frames: Frames) -> None: ...

    def on_resync(self) -> None:
        """Events were lost beyond what the stream keeps: start again from a snapshot."""


class _Session:
    __slots__ = ("boards", "candidates", "epoch", "last_seq", "subscribed")

    def __init__(self) -> None:
        self.boards: set[Listener] = set()
        self.candidates: dict[int, set[Listener]] = {}
        """Usually one page per candidate; two while a new page replaces an old one."""
        self.last_seq: int | None = None
        self.epoch = ""
        self.subscribed = asyncio.Event()


class Fanout:
    """This hub's single pub/sub connection and the listeners of each session."""

    def __init__(self, client: aioredis.Redis, store: live.LiveStore) -> None:
        self.client = client
        self.store = store
        self.pubsub: Any = client.pubsub()
        self.sessions: dict[int, _Session] = {}
        self._ready = asyncio.Event()
        self._subscribing = asyncio.Lock()
        """redis-py opens the pub/sub connection lazily without a lock: two first
        subscriptions at once could lose one."""
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    async def stop(self) -> None:
        self._stopping = True
        self._ready.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, timeout=5)
        with contextlib.suppress(Exception):
            await self.pubsub.aclose()

    async def add_board(self, session_id: int, listener: Listener) -> None:
        session = await self._subscribe(session_id)
        session.boards.add(listener)

    async def add_candidate(self, session_id: int, candidate_id: int, listener: Listener) -> None:
        session = await self._subscribe(session_id)
        session.candidates.setdefault(candidate_id, set()).add(listener)

    def remove(self, session_id: int, listener: Listener, candidate_id: int | None = None) -> None:
        session = self.sessions.get(session_id)
        if session is None:
            return
        session.boards.discard(listener)
        pages = session.candidates.get(candidate_id) if candidate_id is not None else None
        if pages is not None:
            pages.discard(listener)
            if not pages:
                del session.candidates[candidate_id]  # type: ignore[arg-type]
        if not session.boards and not session.candidates:
            del self.sessions[session_id]
            asyncio.get_running_loop().create_task(self._unsubscribe(session_id))

    async def _subscribe(self, session_id: int) -> _Session:
        session = self.sessions.get(session_id)
        if session is None:
            session = self.sessions[session_id] = _Session()
            meta = await self.store.meta(session_id)
            session.epoch = meta["epoch"] if meta else ""
            async with self._subscribing:
                await self.pubsub.subscribe(live.channel(session_id))
            self._ready.set()
        # Events published before the confirmation may not reach us: wait for it, so that a
        # snapshot read afterwards plus the live events leave no hole.
        await asyncio.wait_for(session.subscribed.wait(), timeout=10)
        return session

    async def _unsubscribe(self, session_id: int) -> None:
        if session_id not in self.sessions:
            with contextlib.suppress(Exception):
                await self.pubsub.unsubscribe(live.channel(session_id))

    async def _read_loop(self) -> None:
        await self._ready.wait()
        backoff = 0.05
        # The flag, not only cancellation, ends the loop: redis-py can swallow a cancellation
        # that lands inside a read.
        while not self._stopping:
            try:
                message = await self.pubsub.get_message(timeout=1.0)
                backoff = 0.05
            except (RedisConnectionError, RedisTimeoutError, OSError):
                if self._stopping:
                    return
                log.warning("pub/sub connection lost; resubscribing and backfilling")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                await self._recover()
                continue
            if message is not None:
                await self._handle(message)

    async def _recover(self) -> None:
        try:
            await self.pubsub.reset()
            self.pubsub = self.client.pubsub()
            for session_id, session in list(self.sessions.items()):
                session.subscribed.clear()
                await self.pubsub.subscribe(live.channel(session_id))
        except (RedisConnectionError, RedisTimeoutError, OSError):
            return  # next read fails again and retries with a longer backoff

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        channel = message["channel"]
        session_id = _session_of(channel)
        session = self.sessions.get(session_id)
        if session is None:
            return
        if kind == "subscribe":
            if session.last_seq is not None:
                await self._backfill(session_id, session)  # after a reconnect
            session.subscribed.set()
            return
        if kind != "message":
            return
        seq_text, _, rest = message["data"].partition(b"|")
        epoch_bytes, _, payload = rest.partition(b"|")
        seq, epoch = int(seq_text), epoch_bytes.decode()
        if epoch != session.epoch:
            # The session was rebuilt in Redis (new epoch, seq from 1 again): what listeners
            # hold is from another log; they start again from a snapshot.
            had_history = session.last_seq is not None or session.epoch != ""
            session.epoch, session.last_seq = epoch, None
            if had_history:
                for listener in self._listeners(session):
                    listener.on_resync()
        if session.last_seq is not None and seq > session.last_seq + 1:
            await self._backfill(session_id, session, until=seq - 1)
        if session.last_seq is not None and seq <= session.last_seq:
            return  # already delivered by a backfill
        self._deliver(session, seq, payload)

    async def _backfill(self, session_id: int, session: _Session, until: int | None = None) -> None:
        assert session.last_seq is not None
        events = await self.store.events_after(session_id, session.last_seq)
        if events is None:
            log.warning("session %s: events lost beyond the stream; listeners resync", session_id)
            for listener in self._listeners(session):
                listener.on_resync()
            session.last_seq = None
            return
        for seq, payload in events:
            if until is not None and seq > until:
                break
            self._deliver(session, seq, payload)

    @staticmethod
    def _listeners(session: _Session) -> list[Listener]:
        pages = [page for group in session.candidates.values() for page in group]
        return [*session.boards, *pages]

    def _deliver(self, session: _Session, seq: int, payload: bytes) -> None:
        session.last_seq = seq
        event = msgpack.unpackb(payload)
        frames = Frames(session.epoch, seq, event)
        for board in list(session.boards):
            board.on_event(frames)
        for page in list(session.candidates.get(event.get("candidate_id", -1), ())):
            page.on_event(frames)


def _session_of(channel: bytes) -> int:
    # "{s:123}:ch"
    return int(channel[3 : channel.index(b"}")])
