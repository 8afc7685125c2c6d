"""A graceful stop: on SIGTERM a hub hands its room over to the other hubs.

What a hub does before uvicorn's own shutdown (docs/deploy.md, "Rolling restart"):

1. it says it is not ready (``/readyz`` 503 "draining") and answers any new WebSocket
   handshake with HTTP 503, which nginx retries on the next hub (``proxy_next_upstream``);
2. it closes each open socket with 1012 "service restart" at a random instant within
   ``drain_spread`` seconds, after the action that socket has in flight is answered: twenty
   pages of a room do not all reconnect in the same millisecond, and no acknowledged answer
   is cut off;
3. a candidate page moved this way is **not** marked disconnected: it reconnects to another
   hub with its resume token and continues without the invigilator (a page that does not
   come back is found silent by the presence sweep, as any other);
4. after ``drain_timeout`` seconds at most, whatever is left is closed by uvicorn.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from vigie.hub.connection import Connection
    from vigie.hub.context import Hub

log = logging.getLogger(__name__)

CLOSE_RESTART = 1012


class Movable(Protocol):
    def moving(self) -> None:
        """The socket is closed for a restart: the client will reconnect elsewhere."""


@dataclass(eq=False)
class OpenSocket:
    """One socket a hub serves, as the drain sees it."""

    conn: Connection
    handler: Movable
    busy: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held while a message is handled: the drain closes between two messages."""
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the socket's receive loop has ended and the handler cleaned up."""


async def drain(hub: Hub) -> None:
    """Close every socket for a restart, spread over ``drain_spread`` seconds, within
    ``drain_timeout``; return when they are all gone or the bound is reached."""
    hub.draining = True
    spread, bound = hub.config.drain_spread, hub.config.drain_timeout
    sockets = list(hub.sockets)
    log.info("draining %d sockets over %.1f s, %.1f s at most", len(sockets), spread, bound)
    loop = asyncio.get_running_loop()
    moves = [loop.create_task(_move(s, random.uniform(0, spread))) for s in sockets]
    if moves:
        _, late = await asyncio.wait(moves, timeout=bound)
        for move in late:  # uvicorn's shutdown closes what is left
            move.cancel()
    log.info("drained; %d sockets left for the server to close", len(hub.sockets))


async def _move(socket: OpenSocket, delay: float) -> None:
    """Close one socket at its instant, between two messages, and wait for its end (the
    client answers the close frame, the handler cleans up)."""
    await asyncio.sleep(delay)
    async with socket.busy:
        socket.handler.moving()
        socket.conn.close(CLOSE_RESTART)
    await socket.ended.wait()
