"""The presence sweep: 12 s without a heartbeat marks a candidate disconnected.

Every hub runs it; it is idempotent because the disconnect is applied by the Lua script
only while the candidate's last heartbeat is still older than the threshold and its version
unchanged: with 3 hubs the first wins and the others change nothing (no double events).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from vigie.core import candidate as cand
from vigie.exceptions import VigieError
from vigie.hub.outage import as_store_unavailable

if TYPE_CHECKING:
    from vigie.hub.context import Hub

log = logging.getLogger(__name__)


class Heartbeats:
    """Heartbeats received by this hub, written to Redis together once a second.

    Each beat keeps the time it was received, so silence is measured from the page's
    last beat, not from the write: a beat costs no round trip of its own, and at 5,000
    candidates the hub makes one pipelined write a second instead of 1,000.
    """

    def __init__(self) -> None:
        self.pending: dict[int, dict[int, float]] = {}

    def beat(self, session_id: int, candidate_id: int, now: float) -> None:
        self.pending.setdefault(session_id, {})[candidate_id] = now

    def forget(self, session_id: int, candidate_id: int) -> None:
        """A page that leaves must not be kept alive by a beat still waiting here."""
        beats = self.pending.get(session_id)
        if beats is not None:
            beats.pop(candidate_id, None)
            if not beats:  # an empty entry would be an empty ZADD, refused by Redis
                del self.pending[session_id]

    async def flush(self, hub: Hub) -> None:
        """Write the waiting beats; if Redis is away they wait for the next flush, so a
        restart of Redis does not make every page look silent once it is back."""
        beats, self.pending = self.pending, {}
        if not beats:
            return
        try:
            await hub.live.heartbeat_batch(beats)
        except BaseException:
            for session_id, candidates in beats.items():
                newer = self.pending.setdefault(session_id, {})
                for candidate_id, at in candidates.items():
                    newer[candidate_id] = max(at, newer.get(candidate_id, at))
            raise


SWEEP_CONCURRENCY = 32


async def sweep_once(hub: Hub) -> int:
    """Mark every silent candidate disconnected; return how many this hub marked."""
    threshold = hub.now() - hub.config.heartbeat_timeout
    # Each hub sweeps the sessions it serves (a board or a page of theirs is connected here):
    # the cost follows the hub's own load, not every session ever planned. A session whose
    # pages all lost their hub is swept by the hub they reconnect to, or the board's hub.
    stale = await hub.live.stale(list(hub.fanout.sessions), threshold)
    if not stale:
        return 0
    # Candidates go silent together when a room's network fails: mark them concurrently, so
    # the last of them is not shown late (each mark is two round trips).
    limit = asyncio.Semaphore(SWEEP_CONCURRENCY)

    async def mark(session_id: int, candidate_id: int) -> bool:
        async with limit:
            try:
                state = await hub.live.state(session_id, candidate_id)
                if state.status is not cand.Status.IN_PROGRESS:
                    await hub.live.drop_heartbeat(session_id, candidate_id)
                    return False
                applied = await hub.live.execute(
                    state, cand.Disconnect(reason="silent"), hub.now(),
                    heartbeat="del", stale_before=threshold,
                )  # fmt: skip
                return applied.event is not None
            except VigieError:
                return False  # another hub or the candidate acted first

    # One session's failure (Redis away mid-sweep) must not cost the others their marks.
    results = await asyncio.gather(*(mark(sid, cid) for sid, cid in stale), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise failures[0]
    return sum(r is True for r in results)


async def sweep_forever(hub: Hub, stop: asyncio.Event) -> None:
    """Sweep every ``sweep_interval`` until ``stop`` is set.

    Stopping is by an event, not by cancellation alone: redis-py can swallow a
    cancellation that lands inside a command, which would leave the loop running.
    """
    failing = False
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), hub.config.sweep_interval)
            return
        try:
            await hub.heartbeats.flush(hub)
            await sweep_once(hub)
            failing = False
        except Exception as exc:
            if as_store_unavailable(exc) is None:
                log.exception("presence sweep failed; retrying")
            elif not failing:  # once per outage, not twice a second
                log.warning("presence sweep: store unavailable (%r); retrying", exc)
            failing = True
