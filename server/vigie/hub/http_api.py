"""The JSON API of school staff: log in, plan sessions, register candidates.

Thin handlers (STYLE.md 4): read the body, check the bearer token and the school, call the
records store, refresh the live store, reply. Stores come from ``request.app.state.records``
(``vigie.records.Records``) and ``request.app.state.live`` (``vigie.live.LiveStore``).
The contract is ``OPENAPI`` (``hub/api_schema.py``), served at ``GET /openapi.json``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from vigie.exceptions import Forbidden, NotAuthenticated, NotFound, Refused
from vigie.hub.api_input import candidate_rows, login_fields, session_request
from vigie.hub.api_schema import OPENAPI
from vigie.hub.http_errors import api_endpoint, error_response, read_body, read_json
from vigie.live import LiveStore
from vigie.records import Candidate, Records, SessionRecord, StaffMember
from vigie.roster_csv import parse_roster

__all__ = ["OPENAPI", "error_response", "routes"]

LOGIN_ATTEMPTS = 5
LOGIN_WINDOW = 60.0
REMOVABLE_STATUSES = ("registered", "present")
"""A candidate who started has a test to account for (docs/domain.md flow, step 13)."""


def _records(request: Request) -> Records:
    records: Records = request.app.state.records
    return records


def _live(request: Request) -> LiveStore:
    live: LiveStore = request.app.state.live
    return live


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Connexion requise.", code="not_authenticated")
    return token.strip()


MAX_ID = 2**31 - 1
"""Identifiers are SQL INTEGERs (32-bit on PostgreSQL): a larger number in a path names nothing."""


def _path_id(request: Request, name: str) -> int:
    value: int = request.path_params[name]
    if value > MAX_ID:
        raise NotFound("Élément introuvable.", code="not_found")
    return value


async def _staff(request: Request) -> StaffMember:
    return await _records(request).staff_for_token(_bearer(request))


async def _own_session(request: Request) -> tuple[StaffMember, SessionRecord]:
    """The session of the path, if it belongs to the caller's school."""
    staff = await _staff(request)
    session = await _records(request).get_session(_path_id(request, "number"))
    if staff.role != "admin" or staff.school_id != session.school_id:
        raise Forbidden("Cette session appartient à un autre établissement.")
    return staff, session


async def _refresh_live(request: Request, number: int) -> None:
    """Idempotent: adds what is new, never overwrites a candidate's live state."""
    records = _records(request)
    await _live(request).load_session(
        await records.session_info(number), await records.roster(number)
    )


def session_json(session: SessionRecord, *, kit: bool = False) -> dict[str, Any]:
    local = session.starts_at.astimezone(ZoneInfo(session.timezone))
    body: dict[str, Any] = {
        "number": session.id, "school_id": session.school_id,
        "starts_at": session.starts_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "local_starts_at": local.isoformat(), "timezone": session.timezone,
        "room": session.room, "address": session.address, "examiner": session.examiner,
        "status": session.status,
    }  # fmt: skip
    if kit:  # the invigilator kit (docs/domain.md flow, step 3)
        body["password"] = session.password
        body["access_code"] = session.access_code
    return body


def candidate_json(candidate: Candidate) -> dict[str, Any]:
    return {
        "id": candidate.id, "session_number": candidate.session_id,
        "last_name": candidate.last_name, "first_name": candidate.first_name,
        "birthdate": candidate.birthdate.isoformat(),
        "extra_time_percent": round(candidate.extra_time * 100, 2),
        "external_id": candidate.external_id, "email": candidate.email,
        "eligible": candidate.eligible,
    }  # fmt: skip


@api_endpoint
async def login(request: Request) -> Response:
    email, password = login_fields(await read_json(request))
    live, now = _live(request), time.time()
    address = request.client.host if request.client else "unknown"
    # Each attempt is counted before the password is checked, per address and per account,
    # whichever the attacker varies. A success takes back only its own attempts: it must not
    # wipe the failures this address made against other accounts (password spraying).
    attempts = [
        await live.reserve_attempt(scope, key, now, LOGIN_ATTEMPTS, LOGIN_WINDOW)
        for scope, key in (("login-ip", address), ("login-email", email.strip().lower()))
    ]
    staff = await _records(request).authenticate_staff(email, password)
    for attempt in attempts:
        await live.release_attempt(attempt)
    token = await _records(request).issue_token(staff.id)
    return JSONResponse({"token": token, "token_type": "Bearer"})


@api_endpoint
async def logout(request: Request) -> Response:
    await _records(request).revoke_token(_bearer(request))
    return Response(status_code=204)


@api_endpoint
async def me(request: Request) -> Response:
    staff = await _staff(request)
    school = None
    if staff.school_id is not None:
        found = await _records(request).get_school(staff.school_id)
        school = {"id": found.id, "name": found.name, "uai": found.uai, "timezone": found.timezone}
    return JSONResponse({
        "id": staff.id, "email": staff.email, "name": staff.name, "role": staff.role,
        "school": school,
    })  # fmt: skip


async def _admin_school(request: Request) -> int:
    staff = await _staff(request)
    if staff.role != "admin" or staff.school_id is None:
        raise Forbidden("Réservé aux administrateurs d'un établissement.")
    return staff.school_id


@api_endpoint
async def create_session(request: Request) -> Response:
    school_id = await _admin_school(request)
    records = _records(request)
    school = await records.get_school(school_id)
    wanted = session_request(await read_json(request), school.timezone)
    session = await records.create_session(
        school_id, wanted.starts_at, room=wanted.room, address=wanted.address,
        examiner=wanted.examiner, timezone=wanted.timezone,
    )  # fmt: skip
    await _refresh_live(request, session.id)
    return JSONResponse(session_json(session, kit=True), status_code=201)


@api_endpoint
async def list_sessions(request: Request) -> Response:
    school_id = await _admin_school(request)
    records = _records(request)
    sessions = await records.list_sessions(school_id)
    counts = await records.candidate_counts(school_id)
    return JSONResponse({
        "sessions": [{**session_json(s), "candidate_count": counts.get(s.id, 0)} for s in sessions]
    })  # fmt: skip


@api_endpoint
async def get_session(request: Request) -> Response:
    _, session = await _own_session(request)
    count = len(await _records(request).list_candidates(session.id))
    return JSONResponse({**session_json(session, kit=True), "candidate_count": count})


@api_endpoint
async def register_candidates(request: Request) -> Response:
    _, session = await _own_session(request)
    today = datetime.now(UTC).date()
    if request.headers.get("content-type", "").split(";")[0].strip() == "text/csv":
        rows = parse_roster(await read_body(request), today)
    else:
        rows = candidate_rows(await read_json(request), today)
    created = await _records(request).register_candidates(session.id, rows)
    await _refresh_live(request, session.id)
    return JSONResponse({"candidates": [candidate_json(c) for c in created]}, status_code=201)


@api_endpoint
async def list_candidates(request: Request) -> Response:
    _, session = await _own_session(request)
    candidates = await _records(request).list_candidates(session.id)
    return JSONResponse({"candidates": [candidate_json(c) for c in candidates]})


@api_endpoint
async def remove_candidate(request: Request) -> Response:
    _, session = await _own_session(request)
    candidate_id = _path_id(request, "candidate_id")
    try:
        live_state = await _live(request).candidate(session.id, candidate_id)
    except NotFound:
        live_state = {}
    if live_state.get("status", "registered") not in REMOVABLE_STATUSES:
        raise Refused(
            "Ce candidat a commencé son test : il ne peut plus être désinscrit.",
            code="candidate_started",
        )
    await _records(request).remove_candidate(session.id, candidate_id)
    await _live(request).remove_candidate(session.id, candidate_id)
    return Response(status_code=204)


async def openapi(request: Request) -> Response:
    return JSONResponse(OPENAPI)


routes: list[BaseRoute] = [
    Route("/api/login", login, methods=["POST"]),
    Route("/api/logout", logout, methods=["POST"]),
    Route("/api/me", me, methods=["GET"]),
    Route("/api/sessions", create_session, methods=["POST"]),
    Route("/api/sessions", list_sessions, methods=["GET"]),
    Route("/api/sessions/{number:int}", get_session, methods=["GET"]),
    Route("/api/sessions/{number:int}/candidates", register_candidates, methods=["POST"]),
    Route("/api/sessions/{number:int}/candidates", list_candidates, methods=["GET"]),
    Route(
        "/api/sessions/{number:int}/candidates/{candidate_id:int}",
        remove_candidate,
        methods=["DELETE"],
    ),
    Route("/openapi.json", openapi, methods=["GET"]),
]
