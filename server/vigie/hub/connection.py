"""One WebSocket connection's outbound side: a bounded buffer and its own sender task.

A client that stops reading fills only its own buffer; past the bound it is closed (1008
would blame the client's content, so 1013 "try again later") and recovers on reconnect,
while every other connection keeps flowing (docs/architecture.md "Slow consumers never
stall the hub").

The sender task exists only while frames wait: an idle connection holds no task and no
buffer, which keeps thousands of idle candidate pages cheap (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Mapping
from typing import Any

from starlette.websockets import WebSocket, WebSocketState

from vigie.codec import Codec

log = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 1013
CLOSE_REASONS = {
    1008: "trop de messages",
    1009: "message trop volumineux",
    1012: "redémarrage du service, reconnexion",
    1013: "client trop lent, reconnectez-vous",
    4001: "test ouvert sur une autre page",
}
"""The reason sent with each close the hub decides (docs/protocol.md, "Close codes")."""
CLOSE_FLUSH_TIMEOUT = 2.0
"""How long a connection that ends waits for its close frame to go out."""


class _Close:
    """The last item of a buffer: close the socket with ``code`` once the rest is sent."""

    __slots__ = ("code",)

    def __init__(self, code: int) -> None:
        self.code = code


class Connection:
    """Sends frames in order without ever making the caller wait."""

    __slots__ = ("closed", "closing", "codec", "frames", "limit", "sender", "websocket")

    def __init__(self, websocket: WebSocket, codec: Codec, limit: int) -> None:
        self.websocket = websocket
        self.codec = codec
        self.limit = limit
        self.frames: deque[str | bytes | _Close] | None = None
        self.sender: asyncio.Task[None] | None = None
        self.closed = False
        self.closing = False
        """A close frame is queued behind the frames still to send."""

    def send(self, message: Mapping[str, Any]) -> None:
        self.send_frame(self.codec.encode(message))

    def send_frame(self, frame: str | bytes) -> None:
        """Buffer an encoded frame; drop the connection if it is too far behind."""
        if self.closed:
            return
        if self.frames is None:
            self.frames = deque()
        if len(self.frames) >= self.limit:
            log.warning("dropping a connection whose outbound buffer is full")
            self.closed = True
            self.frames.clear()
            if self.sender is not None:
                self.sender.cancel()  # it may be stuck in a send the peer never reads
            self.sender = asyncio.get_running_loop().create_task(self._abort(CLOSE_TOO_SLOW))
            return
        self.frames.append(frame)
        self._wake()

    async def send_frame_waiting(self, frame: str | bytes, patience: float = 30.0) -> None:
        """Buffer a frame of a long burst (a replay), waiting for room as the sender drains;
        a peer that reads nothing for ``patience`` seconds is dropped as too slow."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + patience
        while self.frames is not None and len(self.frames) >= self.limit:
            if self.closed or loop.time() > give_up:
                break
            await asyncio.sleep(0.005)  # a replay is rare: polling beats a wakeup per frame
        self.send_frame(frame)

    def close(self, code: int = 1000) -> None:
        """Close after what is buffered."""
        if self.closed:
            return
        self.closed = True
        self.closing = True
        if self.frames is None:
            self.frames = deque()
        self.frames.append(_Close(code))
        self._wake()

    def _wake(self) -> None:
        if self.sender is None:
            self.sender = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        ws = self.websocket
        frames = self.frames
        assert frames is not None
        try:
            while frames:
                frame = frames.popleft()
                if isinstance(frame, _Close):
                    await ws.close(frame.code, CLOSE_REASONS.get(frame.code))
                    return
                if isinstance(frame, bytes):
                    await ws.send_bytes(frame)
                else:
                    await ws.send_text(frame)
        except Exception:  # the peer went away; the receive loop ends too
            self.closed = True
            if ws.application_state is WebSocketState.CONNECTED:
                with contextlib.suppress(Exception):
                    await ws.close(1011)
        finally:
            if self.sender is asyncio.current_task():
                self.sender = None
                if not frames and self.frames is frames:
                    self.frames = None  # an idle connection keeps no buffer

    async def _abort(self, code: int) -> None:
        # The close handshake cannot complete through a full socket; the server's close
        # timeout then drops the TCP connection and the receive loop ends.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.websocket.close(code, CLOSE_REASONS[code]), timeout=5)

    async def finish(self) -> None:
        """Stop the sender once the connection's receive loop has ended; a close the hub
        decided (flood, oversized frame...) is sent first, so the client gets its code and
        reason rather than a bare connection loss (1006)."""
        self.closed = True
        sender = self.sender
        if sender is not None and self.closing:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(sender), CLOSE_FLUSH_TIMEOUT)
        sender, self.sender = self.sender, None
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
