"""What every endpoint of a hub process shares: configuration, stores, fan-out, the clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vigie.config import Config
from vigie.core.adaptive import Bank
from vigie.exceptions import NotFound
from vigie.hub.fanout import Fanout
from vigie.live import LiveStore

if TYPE_CHECKING:
    from vigie.records import Records


@dataclass
class Hub:
    config: Config
    live: LiveStore
    fanout: Fanout
    bank: Bank
    records: Records | None = None
    clock: Callable[[], float] = time.time
    """The server owns the clock (DESIGN.md): every ``now`` of the core comes from here."""
    extras: dict[str, Any] = field(default_factory=dict)

    def now(self) -> float:
        return self.clock()

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
