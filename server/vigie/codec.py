"""Encoding at the edge: the two WebSocket subprotocols and the shape of every message.

``vigie.json.v1`` carries JSON in text frames (browsers); ``vigie.msgpack.v1`` carries
msgpack in binary frames (the load harness, programs). Both carry the same messages: a map
with a ``type`` and, for requests, an optional ``id`` echoed by the answer. Decoding checks
the shape of each known type, so handlers receive well-typed values (docs/protocol.md).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import msgpack

from vigie.exceptions import InvalidInput

JSON = "vigie.json.v1"
MSGPACK = "vigie.msgpack.v1"
SUBPROTOCOLS = (JSON, MSGPACK)
MAX_FRAME = 64 * 1024
"""Frames above this are refused with close code 1009 (message too big)."""

Kind = Literal["str", "int", "num", "bool", "list", "answer"]
_SURROGATE = re.compile("[\ud800-\udfff]")
"""JSON may escape a lone surrogate (``"\\ud800"``): such a string cannot be re-encoded."""


def _is_text(v: object, limit: int = 2000) -> bool:
    return isinstance(v, str) and len(v) <= limit and not _SURROGATE.search(v)


_CHECKS: dict[str, Any] = {
    "str": _is_text,
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool) and -(2**53) < v < 2**53,
    # NaN and infinities (JSON's NaN/Infinity extensions) would be echoed as invalid JSON.
    "num": lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
    "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list) and len(v) <= 100,
    # An answer: an option id or a short text, or a list of option ids (multiple choice).
    "answer": lambda v: (
        _is_text(v, 1000)
        or (isinstance(v, list) and len(v) <= 20 and all(_is_text(i, 200) for i in v))
    ),
}

# type -> {field: (kind, required)}; fields not listed are ignored.
CANDIDATE_MESSAGES: dict[str, dict[str, tuple[Kind, bool]]] = {
    "ping": {"client_time": ("num", False)},
    "join": {
        "session": ("int", True), "last_name": ("str", True), "first_name": ("str", True),
        "birthdate": ("str", True), "resume_token": ("str", False),
    },
    "start": {"access_code": ("str", True)},
    "answer": {"question_number": ("int", True), "answer": ("answer", True)},
    "heartbeat": {},
    "alert": {"category": ("str", True)},
}  # fmt: skip

BOARD_MESSAGES: dict[str, dict[str, tuple[Kind, bool]]] = {
    "ping": {"client_time": ("num", False)},
    "login": {
        "session": ("int", True), "password": ("str", True),
        "epoch": ("str", False), "seq": ("int", False),
    },
    "confirm_presence": {"candidate_ids": ("list", True)},
    "cancel_presence": {"candidate_id": ("int", True)},
    "authorize_resume": {"candidate_id": ("int", True)},
    "end_test": {"candidate_id": ("int", True)},
    "end_overdue": {},
    "grant_time": {
        "candidate_id": ("int", True), "minutes": ("int", True), "reason": ("str", True),
    },
    "validate_alert": {"candidate_id": ("int", True), "subcategory": ("str", True)},
    "dismiss_alert": {"candidate_id": ("int", True)},
    "record_incident": {
        "candidate_id": ("int", False), "category": ("str", True),
        "question_number": ("int", False), "description": ("str", True),
    },
    "reveal_access_code": {},
}  # fmt: skip


class MalformedFrame(InvalidInput):
    code = "malformed"
    message = "Message illisible : le format n'est pas respecté."


class UnknownType(InvalidInput):
    code = "unknown_type"
    message = "Type de message inconnu."


class InvalidField(InvalidInput):
    code = "invalid_field"

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(f"Champ « {field} » manquant ou invalide.")


@dataclass(frozen=True, slots=True)
class Codec:
    subprotocol: str

    @property
    def binary(self) -> bool:
        return self.subprotocol == MSGPACK

    def encode(self, message: Mapping[str, Any]) -> str | bytes:
        if self.binary:
            return msgpack.packb(message)
        return json.dumps(message, separators=(",", ":"), ensure_ascii=False)

    def decode(self, frame: str | bytes) -> dict[str, Any]:
        """The frame as a map with a string ``type``, or ``MalformedFrame``."""
        try:
            if isinstance(frame, bytes):
                value = msgpack.unpackb(frame, strict_map_key=True, max_str_len=MAX_FRAME)
            else:
                value = json.loads(frame)
        except (ValueError, RecursionError) as exc:  # msgpack's errors are ValueErrors;
            # RecursionError: json nests "[[[..." deeper than the stack within MAX_FRAME.
            raise MalformedFrame() from exc
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            raise MalformedFrame()
        return value


def message_id(message: Mapping[str, Any]) -> str | int | None:
    """The request id to echo; anything but a short string or an int is dropped."""
    value = message.get("id")
    if isinstance(value, str) and len(value) <= 64:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53:
        return value
    return None


def validate(
    message: Mapping[str, Any], table: Mapping[str, Mapping[str, tuple[Kind, bool]]]
) -> str:
    """Check ``message`` against its type's shape; return the type."""
    kind = message.get("type")
    if not isinstance(kind, str):
        raise MalformedFrame()
    shape = table.get(kind)
    if shape is None:
        raise UnknownType()
    for name, (field_kind, required) in shape.items():
        if name not in message or message[name] is None:
            if required:
                raise InvalidField(name)
            continue
        if not _CHECKS[field_kind](message[name]):
            raise InvalidField(name)
    return str(kind)


def choose(offered: list[str]) -> Codec | None:
    """The first of our subprotocols the client offers, in the client's order."""
    for name in offered:
        if name in SUBPROTOCOLS:
            return Codec(name)
    return None
