"""Encoding at the edge: the two subprotocols and the shape of every message."""

from __future__ import annotations

import json
from typing import Any

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigie import codec
from vigie.codec import (
    BOARD_MESSAGES,
    CANDIDATE_MESSAGES,
    JSON,
    MSGPACK,
    Codec,
    InvalidField,
    MalformedFrame,
    UnknownType,
    choose,
    message_id,
    validate,
)
from vigie.exceptions import InvalidInput, VigieError

JSON_CODEC, MSGPACK_CODEC = Codec(JSON), Codec(MSGPACK)
TABLES = (CANDIDATE_MESSAGES, BOARD_MESSAGES)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
FIELD_NAMES = sorted(
    {"type", "id"} | {name for table in TABLES for shape in table.values() for name in shape}
)
TYPE_NAMES = sorted({kind for table in TABLES for kind in table})
messages = st.dictionaries(
    st.sampled_from(FIELD_NAMES) | st.text(max_size=8),
    values | st.sampled_from(TYPE_NAMES),
    max_size=8,
)


# --- round trips ----------------------------------------------------------------------------


def test_the_subprotocols() -> None:
    assert codec.SUBPROTOCOLS == ("vigie.json.v1", "vigie.msgpack.v1")
    assert not JSON_CODEC.binary
    assert MSGPACK_CODEC.binary


def test_json_is_compact_text_that_keeps_accents() -> None:
    frame = JSON_CODEC.encode({"type": "error", "message": "Élève introuvable"})
    assert frame == '{"type":"error","message":"Élève introuvable"}'


def test_msgpack_is_bytes() -> None:
    frame = MSGPACK_CODEC.encode({"type": "pong", "server_time": 1.5})
    assert isinstance(frame, bytes)
    assert msgpack.unpackb(frame) == {"type": "pong", "server_time": 1.5}


@given(st.dictionaries(st.text(), values).map(lambda d: {**d, "type": "x"}))
def test_both_codecs_round_trip(message: dict[str, Any]) -> None:
    for chosen in (JSON_CODEC, MSGPACK_CODEC):
        frame = chosen.encode(message)
        assert isinstance(frame, bytes if chosen.binary else str)
        assert chosen.decode(frame) == message


def test_a_full_join_message_round_trips_and_validates() -> None:
    join = {"type": "join", "id": "r1", "session": 12345678, "last_name": "N'Diaye",
            "first_name": "Aïssatou", "birthdate": "2010-06-21"}  # fmt: skip
    for chosen in (JSON_CODEC, MSGPACK_CODEC):
        decoded = chosen.decode(chosen.encode(join))
        assert decoded == join
        assert validate(decoded, CANDIDATE_MESSAGES) == "join"
        assert message_id(decoded) == "r1"


# --- malformed frames ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    ["", "{", "{'type': 'ping'}", '{"type": "ping"} x', "nope", "[" * 70_000, "{" * 70_000,
     '{"type": "ping"', "\x00"],
)  # fmt: skip
def test_malformed_json_is_refused(frame: str) -> None:
    with pytest.raises(MalformedFrame) as malformed:
        JSON_CODEC.decode(frame)
    assert malformed.value.code == "malformed"
    assert isinstance(malformed.value, InvalidInput)


@pytest.mark.parametrize(
    "frame",
    [b"", b"\xc1", b"\x81", b"\x92\x01", msgpack.packb({"type": "ping"}) + b"\x00",
     b"\x91" * 70_000, b"\x81\x01\xa1x", b"\x81\x91\x01\xa1x", b"\xc7\x01\xff\x00",
     b"\x81\xa4type\xa2\xff\xfe"],
)  # fmt: skip
def test_malformed_msgpack_is_refused(frame: bytes) -> None:
    with pytest.raises(MalformedFrame):
        MSGPACK_CODEC.decode(frame)


@pytest.mark.parametrize(
    "value",
    [[], ["type", "ping"], "ping", 1, None, True, {}, {"id": 1}, {"type": 1}, {"type": None},
     {"type": ["ping"]}, {"type": {"a": 1}}, {"Type": "ping"}],
)  # fmt: skip
def test_a_non_map_or_a_map_without_a_string_type_is_malformed(value: object) -> None:
    for frame in (json.dumps(value), msgpack.packb(value)):
        with pytest.raises(MalformedFrame):
            JSON_CODEC.decode(frame)


def test_a_msgpack_map_with_a_bytes_type_is_malformed() -> None:
    with pytest.raises(MalformedFrame):
        MSGPACK_CODEC.decode(msgpack.packb({b"type": b"ping"}))
    with pytest.raises(MalformedFrame):
        MSGPACK_CODEC.decode(msgpack.packb({"type": b"ping"}))


@pytest.mark.parametrize("value", [{}, {"id": 3}, {"type": 3}, {"type": ["ping"]}, {"type": {}}])
def test_validate_refuses_a_message_without_a_string_type(value: dict[str, Any]) -> None:
    with pytest.raises(MalformedFrame):
        validate(value, CANDIDATE_MESSAGES)


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["", "Ping", "login", "confirm_presence", "error", "__class__"])
def test_unknown_types_are_refused(kind: str) -> None:
    with pytest.raises(UnknownType) as unknown:
        validate({"type": kind}, CANDIDATE_MESSAGES)
    assert unknown.value.code == "unknown_type"


def test_each_table_knows_its_own_types() -> None:
    assert validate({"type": "login", "session": 1, "password": "abc"}, BOARD_MESSAGES) == "login"
    with pytest.raises(UnknownType):
        validate({"type": "join"}, BOARD_MESSAGES)
    assert validate({"type": "heartbeat"}, CANDIDATE_MESSAGES) == "heartbeat"


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"type": "join", "last_name": "A", "first_name": "B", "birthdate": "x"}, "session"),
        ({"type": "join", "session": None, "last_name": "A", "first_name": "B",
          "birthdate": "x"}, "session"),
        ({"type": "join", "session": "12", "last_name": "A", "first_name": "B",
          "birthdate": "x"}, "session"),
        ({"type": "join", "session": 1.0, "last_name": "A", "first_name": "B",
          "birthdate": "x"}, "session"),
        ({"type": "join", "session": 1, "last_name": 5, "first_name": "B",
          "birthdate": "x"}, "last_name"),
        ({"type": "join", "session": 1, "last_name": "A" * 2001, "first_name": "B",
          "birthdate": "x"}, "last_name"),
        ({"type": "join", "session": 1, "last_name": "\ud800", "first_name": "B",
          "birthdate": "x"}, "last_name"),
        ({"type": "join", "session": 1, "last_name": "A", "first_name": "B",
          "birthdate": "x", "resume_token": 7}, "resume_token"),
        ({"type": "answer", "question_number": True, "answer": "a"}, "question_number"),
        ({"type": "answer", "question_number": 2**53, "answer": "a"}, "question_number"),
        ({"type": "answer", "question_number": -(2**53), "answer": "a"}, "question_number"),
        ({"type": "answer", "question_number": 3}, "answer"),
        ({"type": "answer", "question_number": 3, "answer": None}, "answer"),
        ({"type": "answer", "question_number": 3, "answer": {"a": 1}}, "answer"),
        ({"type": "answer", "question_number": 3, "answer": "\udfff"}, "answer"),
        ({"type": "ping", "client_time": "now"}, "client_time"),
        ({"type": "ping", "client_time": False}, "client_time"),
        ({"type": "ping", "client_time": float("nan")}, "client_time"),
        ({"type": "ping", "client_time": float("inf")}, "client_time"),
        ({"type": "alert", "category": ["E1"]}, "category"),
    ],
)  # fmt: skip
def test_wrong_fields_name_the_field(message: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as invalid:
        validate(message, CANDIDATE_MESSAGES)
    assert invalid.value.field == field
    assert invalid.value.code == "invalid_field"
    assert field in invalid.value.message


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"type": "confirm_presence", "candidate_ids": 3}, "candidate_ids"),
        ({"type": "confirm_presence", "candidate_ids": list(range(101))}, "candidate_ids"),
        ({"type": "grant_time", "candidate_id": 1, "minutes": 5.5, "reason": "x"}, "minutes"),
        ({"type": "grant_time", "candidate_id": 1, "minutes": True, "reason": "x"}, "minutes"),
        ({"type": "grant_time", "candidate_id": False, "minutes": 5, "reason": "x"},
         "candidate_id"),
        ({"type": "login", "session": 1, "password": "p", "seq": "3"}, "seq"),
        ({"type": "record_incident", "category": "E1", "description": "d",
          "question_number": "3"}, "question_number"),
    ],
)  # fmt: skip
def test_board_fields_name_the_field(message: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidField) as invalid:
        validate(message, BOARD_MESSAGES)
    assert invalid.value.field == field


@pytest.mark.parametrize(
    "answer", [0, False, None, {"a": 1}, "x" * 1001, ["a", 1], [["a"]], ["x"] * 21, ["\ud800"]]
)
def test_answers_are_a_text_or_a_list_of_texts(answer: Any) -> None:
    message = {"type": "answer", "question_number": 1, "answer": answer}
    with pytest.raises(InvalidField) as invalid:
        validate(message, CANDIDATE_MESSAGES)
    assert invalid.value.field == "answer"


def test_bool_is_not_an_int_but_true_is_a_bool() -> None:
    with pytest.raises(InvalidField):
        validate({"type": "cancel_presence", "candidate_id": True}, BOARD_MESSAGES)
    assert validate({"type": "cancel_presence", "candidate_id": 1}, BOARD_MESSAGES)


@pytest.mark.parametrize(
    "message",
    [
        {"type": "ping"},
        {"type": "ping", "client_time": None},
        {"type": "ping", "client_time": 3},
        {"type": "ping", "client_time": 1.75e9},
        {"type": "answer", "question_number": 2**53 - 1, "answer": "a"},
        {"type": "answer", "question_number": 1, "answer": ["a", "b"]},
        {"type": "answer", "question_number": 1, "answer": []},
        {"type": "answer", "question_number": 1, "answer": "x" * 1000},
        {"type": "alert", "category": "E1", "unknown_field": object()},
    ],
)
def test_valid_messages(message: dict[str, Any]) -> None:
    assert validate(message, CANDIDATE_MESSAGES) == message["type"]


def test_every_type_of_each_table_accepts_its_minimal_message() -> None:
    samples = {"str": "x", "int": 1, "num": 1.5, "bool": True, "list": [1],
               "answer": "a"}  # fmt: skip
    for table in TABLES:
        for kind, shape in table.items():
            message = {"type": kind}
            message |= {name: samples[k] for name, (k, required) in shape.items() if required}
            assert validate(message, table) == kind


# --- message ids and subprotocols ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("abc", "abc"), ("x" * 64, "x" * 64), ("x" * 65, None), (0, 0), (-7, -7),
     (2**53 - 1, 2**53 - 1), (2**53, None), (-(2**53), None), (True, None), (False, None),
     (1.0, None), (None, None), ([1], None), ({"a": 1}, None)],
)  # fmt: skip
def test_message_id(value: object, expected: object) -> None:
    assert message_id({"type": "ping", "id": value}) == expected


def test_message_id_absent() -> None:
    assert message_id({"type": "ping"}) is None


@pytest.mark.parametrize(
    ("offered", "expected"),
    [
        ([], None),
        (["chat", "vigie.json.v2", "VIGIE.JSON.V1"], None),
        (["vigie.json.v1"], JSON),
        (["vigie.msgpack.v1"], MSGPACK),
        (["chat", "vigie.msgpack.v1", "vigie.json.v1"], MSGPACK),
        (["vigie.json.v1", "vigie.msgpack.v1"], JSON),
    ],
)
def test_choose_picks_the_first_of_our_subprotocols(
    offered: list[str], expected: str | None
) -> None:
    chosen = choose(offered)
    assert (chosen.subprotocol if chosen else None) == expected


# --- fuzzing ------------------------------------------------------------------------------


def _decode_and_validate(chosen: Codec, frame: str | bytes) -> None:
    try:
        message = chosen.decode(frame)
        message_id(message)
        for table in TABLES:
            try:
                validate(message, table)
            except VigieError as exc:
                assert isinstance(exc, InvalidInput)
    except VigieError as exc:
        assert isinstance(exc, InvalidInput)


@given(st.binary(max_size=256))
def test_arbitrary_bytes_only_raise_vigie_errors(frame: bytes) -> None:
    _decode_and_validate(MSGPACK_CODEC, frame)


@given(st.text(max_size=256))
def test_arbitrary_text_only_raises_vigie_errors(frame: str) -> None:
    _decode_and_validate(JSON_CODEC, frame)


@given(messages)
def test_arbitrary_maps_only_raise_vigie_errors(message: dict[str, Any]) -> None:
    message_id(message)
    for table in TABLES:
        try:
            kind = validate(message, table)
        except VigieError as exc:
            assert isinstance(exc, InvalidInput)
        else:
            assert kind == message["type"]
    _decode_and_validate(JSON_CODEC, json.dumps(message))
    _decode_and_validate(MSGPACK_CODEC, msgpack.packb(message))


@given(values)
def test_arbitrary_encoded_values_only_raise_vigie_errors(value: object) -> None:
    _decode_and_validate(JSON_CODEC, json.dumps(value))
    _decode_and_validate(MSGPACK_CODEC, msgpack.packb(value))
