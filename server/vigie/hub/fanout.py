"""Fan-out of session events from Redis pub/sub to this hub's connections.

A hub subscribes only to the sessions it serves (docs/architecture.md "One session, one shard"): one
channel per session, subscribed while a board or a candidate of that session is connected
here. Each event is decoded once and encoded once per subprotocol, whatever the number of
boards. The per-session ``last_seq`` detects gaps (after a lost pub/sub connection) and
backfills them from the session's stream, so listeners always see seq in order, no holes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import Any, Protocol

import msgpack
import redis.asyncio as aioredis

from vigie import live
from vigie.codec import Codec

log = logging.getLogger(__name__)

SUBSCRIBE_TIMEOUT = 10.0
MIN_BACKOFF = 0.05
MAX_BACKOFF = 1.0


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
    __slots__ = ("boards", "candidates", "epoch", "joining", "last_seq", "requested", "subscribed")

    def __init__(self) -> None:
        self.boards: set[Listener] = set()
        self.candidates: dict[int, set[Listener]] = {}
        """Usually one page per candidate; two while a new page replaces an old one."""
        self.last_seq: int | None = None
        self.epoch = ""
        self.requested = False
        """SUBSCRIBE sent on the current pub/sub connection."""
        self.subscribed = asyncio.Event()
        """Its confirmation received (and the gap since the last event backfilled)."""
        self.joining = 0
        """Listeners being added: the subscription is kept even while it has none yet."""


class Fanout:
    """This hub's single pub/sub connection and the listeners of each session.

    Redis may go away at any time (a restart, a failover): the read loop never dies. It
    marks the subscription broken, retries with jittered exponential backoff for as long as
    it takes, then subscribes again to every session it serves; each subscription's
    confirmation backfills the events published meanwhile from the stream, so listeners
    see every seq exactly once, in order (docs/architecture.md "Guarantees").
    """

    def __init__(self, client: aioredis.Redis, store: live.LiveStore) -> None:
        self.client = client
        self.store = store
        self.pubsub: Any = client.pubsub()
        self.sessions: dict[int, _Session] = {}
        self._ready = asyncio.Event()
        """Set once a subscription exists: the pub/sub connection is opened by the first."""
        self._subscribing = asyncio.Lock()
        """redis-py opens the pub/sub connection lazily without a lock: two first
        subscriptions at once could lose one; a recovery must not interleave with them."""
        self._broken = False
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    @property
    def healthy(self) -> bool:
        """False from a lost pub/sub connection until every session is subscribed again."""
        return not self._broken

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
        await self._subscribe(session_id, lambda session: session.boards.add(listener))

    async def add_candidate(self, session_id: int, candidate_id: int, listener: Listener) -> None:
        def attach(session: _Session) -> None:
            session.candidates.setdefault(candidate_id, set()).add(listener)

        await self._subscribe(session_id, attach)

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
        self._forget_if_unused(session_id)

    def _forget_if_unused(self, session_id: int) -> None:
        session = self.sessions.get(session_id)
        if session is not None and not session.boards and not session.candidates:
            if session.joining:
                return  # a listener is being added: it will use this subscription
            del self.sessions[session_id]
            asyncio.get_running_loop().create_task(self._unsubscribe(session_id))

    async def _subscribe(self, session_id: int, attach: Callable[[_Session], None]) -> None:
        """Subscribe to the session (once per hub), then ``attach`` the listener; raises,
        attaching nothing, while Redis is away."""
        session = self.sessions.get(session_id)
        if session is None:
            session = self.sessions[session_id] = _Session()
        session.joining += 1
        try:
            if session.epoch == "" and session.last_seq is None:
                meta = await self.store.meta(session_id)
                if meta:
                    # Start from the seq current now: an event published before our
                    # subscription is confirmed is then a gap, backfilled from the stream.
                    session.epoch, session.last_seq = meta["epoch"], int(meta["seq"])
            if not session.requested:
                async with self._subscribing:
                    if not session.requested and not self._broken:
                        await self.pubsub.subscribe(live.channel(session_id))
                        session.requested = True
                self._ready.set()
            # Events published before the confirmation may not reach us: wait for it, so
            # that a snapshot read afterwards plus the live events leave no hole. During a
            # Redis outage this ends in TimeoutError, answered as ``store_unavailable``.
            await asyncio.wait_for(session.subscribed.wait(), timeout=SUBSCRIBE_TIMEOUT)
            attach(session)
        finally:
            session.joining -= 1
            self._forget_if_unused(session_id)

    async def _unsubscribe(self, session_id: int) -> None:
        if session_id not in self.sessions:
            with contextlib.suppress(Exception):
                await self.pubsub.unsubscribe(live.channel(session_id))

    async def _read_loop(self) -> None:
        backoff = MIN_BACKOFF
        # The flag, not only cancellation, ends the loop: redis-py can swallow a cancellation
        # that lands inside a read.
        while not self._stopping:
            try:
                if self._broken:
                    await self._resubscribe()
                    backoff = MIN_BACKOFF
                if self.pubsub.connection is None:  # nothing subscribed yet
                    self._ready.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._ready.wait(), timeout=1.0)
                    continue
                message = await self.pubsub.get_message(timeout=1.0)
                if message is not None:
                    await self._handle(message)
            except Exception as exc:
                if self._stopping:
                    return
                if not self._broken:
                    log.warning("pub/sub connection lost (%r); resubscribing", exc)
                self._broken = True
                # Full jitter: the hubs of a region do not all come back at the same instant.
                await asyncio.sleep(random.uniform(0, backoff))
                backoff = min(backoff * 2, MAX_BACKOFF)

    async def _resubscribe(self) -> None:
        """A new pub/sub connection subscribed to every session served here; raises (and
        stays broken) while Redis is away."""
        async with self._subscribing:
            with contextlib.suppress(Exception):
                await self.pubsub.aclose()
            self.pubsub = self.client.pubsub()
            channels = []
            for session_id, session in self.sessions.items():
                session.subscribed.clear()
                session.requested = True
                channels.append(live.channel(session_id))
            if channels:
                await self.pubsub.subscribe(*channels)
            self._broken = False
        log.warning("pub/sub subscription restored for %d sessions", len(channels))

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
