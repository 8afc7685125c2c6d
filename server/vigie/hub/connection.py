"""One WebSocket connection's outbound side: a bounded queue and its own sender task.

A client that stops reading fills only its own queue; past the bound it is closed (1008
would blame the client's content, so 1013 "try again later") and recovers on reconnect,
while every other connection keeps flowing (DESIGN.md "Slow consumers never stall the hub").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from starlette.websockets import WebSocket, WebSocketState

from vigie.codec import Codec

log = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 1013
_CLOSE = object()


class Connection:
    """Sends frames in order without ever making the caller wait."""

    __slots__ = ("closed", "codec", "queue", "sender", "websocket")

    def __init__(self, websocket: WebSocket, codec: Codec, maxsize: int) -> None:
        self.websocket = websocket
        self.codec = codec
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize)
        self.closed = False
        self.sender = asyncio.get_running_loop().create_task(self._send_loop())

    def send(self, message: Mapping[str, Any]) -> None:
        self.send_frame(self.codec.encode(message))

    def send_frame(self, frame: str | bytes) -> None:
        """Queue an encoded frame; drop the connection if it is too far behind."""
        if self.closed:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            log.warning("dropping a connection whose outbound queue is full")
            self.closed = True
            self.sender.cancel()  # it may be stuck in a send the peer never reads
            self.sender = asyncio.get_running_loop().create_task(self._abort(CLOSE_TOO_SLOW))

    async def send_frame_waiting(self, frame: str | bytes, patience: float = 30.0) -> None:
        """Queue a frame of a long burst (a replay), waiting for room as the sender drains;
        a peer that reads nothing for ``patience`` seconds is dropped as too slow."""
        if self.closed:
            return
        try:
            await asyncio.wait_for(self.queue.put(frame), patience)
        except TimeoutError:
            self.send_frame(frame)  # still full: this drops the connection

    def close(self, code: int = 1000) -> None:
        """Close after what is queued, or at once when the queue is full."""
        if self.closed:
            return
        self.closed = True
        while self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait((_CLOSE, code))

    async def _send_loop(self) -> None:
        ws = self.websocket
        try:
            while True:
                frame = await self.queue.get()
                if isinstance(frame, tuple):
                    await ws.close(frame[1])
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

    async def _abort(self, code: int) -> None:
        # The close handshake cannot complete through a full socket; the server's close
        # timeout then drops the TCP connection and the receive loop ends.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.websocket.close(code), timeout=5)

    async def finish(self) -> None:
        """Stop the sender once the connection's receive loop has ended."""
        self.closed = True
        self.sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.sender
