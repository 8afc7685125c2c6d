"""How a candidate appears on the invigilator's board (snapshot rows)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigie.live import Snapshot, state_from_hash


def candidate_row(
    session_id: int,
    identity: Mapping[str, Any],
    fields: Mapping[str, str],
    last_heartbeat: float | None,
) -> dict[str, Any]:
    state = state_from_hash(session_id, fields)
    locked = fields.get("locked_until")
    return {
        "candidate_id": state.candidate_id,
        "last_name": identity["last_name"],
        "first_name": identity["first_name"],
        "birthdate": identity["birthdate"],
        "eligible": identity["eligible"],
        "status": state.status.value,
        "version": state.version,
        "extra_time": state.extra_time,
        "granted_minutes": state.granted_minutes,
        "started_at": state.started_at,
        "deadline": state.deadline,
        "ended_at": state.ended_at,
        "disconnected_at": state.disconnected_at,
        "time_lost": state.time_lost,
        "resume_authorized_at": state.resume_authorized_at,
        "question_number": state.question_number,
        "alert": state.alert,
        "last_heartbeat": last_heartbeat,
        "locked_until": float(locked) if locked else None,
    }


def board_snapshot(session_id: int, snap: Snapshot, *, fresh: bool) -> dict[str, Any]:
    meta = snap.meta
    rows = [
        candidate_row(session_id, snap.roster[cid], fields, snap.heartbeats.get(cid))
        for cid, fields in snap.candidates.items()
        if cid in snap.roster
    ]
    rows.sort(key=lambda row: (row["last_name"], row["first_name"]))
    return {
        "type": "snapshot",
        "epoch": snap.epoch,
        "seq": snap.seq,
        "fresh": fresh,
        "session": {
            "session_id": session_id,
            "school": meta.get("school", ""),
            "room": meta.get("room", ""),
            "address": meta.get("address", ""),
            "examiner": meta.get("examiner", ""),
            "starts_at": float(meta.get("starts_at") or 0) or None,
            "timezone": meta.get("timezone", "Europe/Paris"),
            "first_start": float(meta["first_start"]) if meta.get("first_start") else None,
            "status": meta.get("status", "created"),
        },
        "candidates": rows,
        "incidents": snap.incidents,
    }
