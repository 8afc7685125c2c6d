"""What every endpoint of a hub process shares: configuration, stores, fan-out, the clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vigie.config import Config
from vigie.core.adaptive import Bank
from vigie.exceptions import NotFound
from vigie.hub.fanout import Fanout
from vigie.hub.presence import Heartbeats
from vigie.live import LiveStore

if TYPE_CHECKING:
    from vigie.hub.drain import OpenSocket
    from vigie.records import Records


@dataclass
class Hub:
    config: Config
    live: LiveStore
    fanout: Fanout
    bank: Bank
    records: Records | None = None
    clock: Callable[[], float] = time.time
    """The server owns the clock (docs/architecture.md): every ``now`` of the core comes
    from here."""
    heartbeats: Heartbeats = field(default_factory=Heartbeats)
    """Beats received by this hub, written to Redis by the sweep loop."""
    meta_cache: dict[int, tuple[float, dict[str, str]]] = field(default_factory=dict)
    background: set[asyncio.Task[None]] = field(default_factory=set)
    sockets: set[OpenSocket] = field(default_factory=set)
    """Every socket this hub serves, for a graceful stop (``vigie.hub.drain``)."""
    draining: bool = False
    """Set on SIGTERM: not ready, new sockets closed at once (1012)."""
    """Work that outlives the request that started it (outcome archiving), awaited at stop."""

    def now(self) -> float:
        return self.clock()

    async def cached_meta(self, session_id: int, max_age: float = 2.0) -> dict[str, str]:
        """The session's meta as read at most ``max_age`` seconds ago: its password, access
        code and epoch do not change during a session, so a burst of 20 starts or logins
        reads it once."""
        now = self.now()
        cached = self.meta_cache.get(session_id)
        if cached is not None and now - cached[0] <= max_age:
            return cached[1]
        meta = await self.session_meta(session_id)
        if len(self.meta_cache) > 10_000:
            self.meta_cache.clear()
        self.meta_cache[session_id] = (now, meta)
        return meta

    async def session_meta(self, session_id: int) -> dict[str, str]:
        """The live meta of a session, loading it from the records if Redis lost it."""
        meta = await self.live.meta(session_id)
        if meta is None and self.records is not None:
            try:
                info = await self.records.session_info(session_id)
            except NotFound:
                info = None
            if info is not None:
                await self.live.load_session(info, await self.records.roster(session_id))
                meta = await self.live.meta(session_id)
        if meta is None:
            raise NotFound("Session introuvable. Vérifiez le numéro.", code="session_not_found")
        return meta
