"""The WebSocket loop shared by both endpoints: negotiate, receive, decode, dispatch, reply.

Errors never escape a message: a ``VigieError`` becomes an error frame answering the
offending message's id; a store that is away becomes ``store_unavailable`` (retryable);
anything else is logged and reported as ``internal_error``. Only an
oversized frame (1009), a flood (1008), a replaced connection or a graceful stop of the hub
(1012, ``vigie.hub.drain``) closes the socket.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from starlette.responses import JSONResponse
from starlette.websockets import WebSocket

from vigie import codec
from vigie.exceptions import RateLimited, TransitionRefused, VigieError
from vigie.hub.connection import Connection
from vigie.hub.context import Hub
from vigie.hub.drain import OpenSocket
from vigie.hub.outage import as_store_unavailable

log = logging.getLogger(__name__)

CLOSE_TOO_BIG = 1009
CLOSE_POLICY = 1008
MAX_MESSAGES_PER_SECOND = 50
HEARTBEAT_INTERVAL = 5
_DRAINING = JSONResponse(
    {"error": {"code": "hub_draining",
               "message": "Ce serveur redémarre : reconnexion à un autre serveur."}},
    status_code=503, headers={"Retry-After": "1"},
)  # fmt: skip


class Handler(Protocol):
    async def handle(self, kind: str, message: dict[str, Any]) -> None: ...

    async def closed(self) -> None: ...

    def moving(self) -> None: ...


HandlerFactory = Callable[[Hub, Connection, str], Handler]


def error_frame(exc: VigieError, request_id: str | int | None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": exc.code, "message": exc.message}
    if request_id is not None:
        frame["id"] = request_id
    if isinstance(exc, RateLimited):
        frame["retry_after"] = round(exc.retry_after, 1)
    if isinstance(exc, TransitionRefused):  # lets clients word it for their own screen
        frame["command"], frame["status"] = exc.command, exc.status
    return frame


async def serve_socket(
    websocket: WebSocket,
    make_handler: HandlerFactory,
    table: Mapping[str, Mapping[str, tuple[codec.Kind, bool]]],
) -> None:
    hub: Hub = websocket.app.state.hub
    if hub.draining:  # this hub is stopping: HTTP 503, and nginx tries the next hub
        await websocket.send_denial_response(_DRAINING)
        return
    chosen = codec.choose(list(websocket.scope.get("subprotocols", [])))
    if chosen is None:
        await websocket.close(CLOSE_POLICY)  # before accept: the handshake gets HTTP 403
        return
    await websocket.accept(subprotocol=chosen.subprotocol)
    conn = Connection(websocket, chosen, hub.config.outbound_queue)
    address = websocket.client.host if websocket.client else "unknown"
    handler = make_handler(hub, conn, address)
    conn.send({"type": "hello", "server_time": hub.now(), "protocol": chosen.subprotocol,
               "heartbeat_interval": HEARTBEAT_INTERVAL})  # fmt: skip
    window_start, count = time.monotonic(), 0
    socket = OpenSocket(conn, handler)
    hub.sockets.add(socket)
    try:
        while not conn.closed:
            received = await websocket.receive()
            if received["type"] == "websocket.disconnect" or conn.closed:
                break  # a message after the hub's close frame is the client's to send again
            frame = received.get("text")
            if frame is None:
                frame = received.get("bytes")
            if frame is None:
                continue
            if isinstance(frame, bytes) != chosen.binary:
                # vigie.json.v1 is text frames only, vigie.msgpack.v1 binary frames only.
                message = "Type de trame incorrect pour ce sous-protocole."
                conn.send({"type": "error", "code": "wrong_frame_type", "message": message})
                continue
            if len(frame) > codec.MAX_FRAME:
                conn.close(CLOSE_TOO_BIG)
                break
            now = time.monotonic()
            if now - window_start >= 1.0:
                window_start, count = now, 0
            count += 1
            if count > MAX_MESSAGES_PER_SECOND:
                log.warning("closing a connection that floods (%s)", address)
                conn.close(CLOSE_POLICY)
                break
            async with socket.busy:  # a graceful stop closes between two messages
                await _dispatch(hub, conn, handler, chosen, frame, table)
    finally:
        hub.sockets.discard(socket)
        try:
            await handler.closed()
        finally:
            await conn.finish()
            socket.ended.set()


async def _dispatch(
    hub: Hub,
    conn: Connection,
    handler: Handler,
    chosen: codec.Codec,
    frame: str | bytes,
    table: Mapping[str, Mapping[str, tuple[codec.Kind, bool]]],
) -> None:
    request_id: str | int | None = None
    try:
        message = chosen.decode(frame)
        request_id = codec.message_id(message)
        kind = codec.validate(message, table)
        if kind == "ping":
            reply = {"type": "pong", "server_time": hub.now(),
                     "client_time": message.get("client_time")}  # fmt: skip
            if request_id is not None:
                reply["id"] = request_id
            conn.send(reply)
            return
        await handler.handle(kind, message)
    except VigieError as exc:
        conn.send(error_frame(exc, request_id))
    except Exception as exc:
        away = as_store_unavailable(exc)
        if away is not None:  # Redis restarting: the page or board retries, socket kept
            log.warning("store unavailable while handling a message: %r", exc)
            conn.send(error_frame(away, request_id))
            return
        log.exception("unexpected error while handling a message")
        internal = VigieError("Erreur interne du serveur. Réessayez.", code="internal_error")
        conn.send(error_frame(internal, request_id))
