"""``/ws/candidate``: a candidate's page (docs/protocol.md, "Candidate").

join -> (presence pushed) -> start with the access code -> questions and answers, with
heartbeats; resumes by token within the grace window, else after the invigilator's
authorization. Every change goes through the core (``vigie.core.candidate``) and one Lua
script (``LiveStore.execute``); this module only translates.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
from datetime import date
from typing import Any

import msgpack

from vigie.codec import InvalidField
from vigie.core import adaptive
from vigie.core import candidate as cand
from vigie.core.candidate import Status
from vigie.core.deadlines import may_enter
from vigie.core.identity import Identity, match_identity
from vigie.core.session import SessionStatus, accepts_candidates
from vigie.exceptions import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    RateLimited,
    Refused,
)
from vigie.hub.connection import Connection
from vigie.hub.context import Hub
from vigie.hub.fanout import Frames
from vigie.hub.outcomes import archive, outcome_fields
from vigie.live import CODE_LOCK_SECONDS, CODE_LOCKED_MESSAGE, Applied, state_from_hash

log = logging.getLogger(__name__)

JOIN_FAILURES_PER_MINUTE = 20
JOIN_WINDOW = 60.0
CLOSE_REPLACED = 4001

_ENDED = {
    "end_by_invigilator": "ended_by_invigilator",
    "finalize": "ended_by_finalization",
}


class NotJoined(NotAuthenticated):
    code = "not_joined"
    message = "Rejoignez d'abord la session."


class NotEligible(Refused):
    code = "not_eligible"
    message = (
        "Vous n'êtes pas certifiable pour cette session : votre surveillant va vous donner "
        "un autre code pour passer un parcours d'entraînement."
    )


class SessionClosed(Refused):
    code = "session_closed"
    message = "Cette session est close : on ne peut plus la rejoindre."


class WrongAccessCode(InvalidInput):
    code = "wrong_access_code"
    message = "Code d'accès incorrect. Vérifiez le code donné par votre surveillant."


class Replaced(Refused):
    code = "session_replaced"
    message = "Votre test a été ouvert sur une autre page. Fermez celle-ci."


class OutOfOrder(Refused):
    code = "out_of_order"
    message = "Cette réponse ne correspond pas à la question en cours."


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class CandidateHandler:
    """The server side of one candidate page."""

    def __init__(self, hub: Hub, conn: Connection, address: str) -> None:
        self.hub = hub
        self.conn = conn
        self.address = address
        self.conn_id = secrets.token_hex(8)
        self.session_id = 0
        self.candidate_id = 0
        self.lock = asyncio.Lock()
        self.tasks: set[asyncio.Task[None]] = set()
        self.last_heartbeat = 0.0
        self.silenced = False
        self.moved = False

    # --- messages from the page ------------------------------------------------------

    async def handle(self, kind: str, message: dict[str, Any]) -> None:
        if kind == "join":
            async with self.lock:
                await self._join(message)
            return
        if not self.candidate_id:
            raise NotJoined()
        await self._alive()
        if kind == "heartbeat":
            return
        async with self.lock:
            handler = {"start": self._start, "answer": self._answer, "alert": self._alert}[kind]
            try:
                await handler(message)
            except Conflict:
                # An invigilator changed this candidate meanwhile (time granted, alert
                # decided...): the page's request is still valid, apply it on the new state.
                await handler(message)

    async def _join(self, message: dict[str, Any]) -> None:
        if self.candidate_id:
            raise Refused("Vous avez déjà rejoint la session.", code="already_joined")
        hub = self.hub
        try:
            birthdate = date.fromisoformat(message["birthdate"])
        except ValueError as exc:
            raise InvalidField("birthdate") from exc
        now = hub.now()
        # Counted before the identity is compared, released when it matches: the roster is
        # personal data, and this keeps anyone from enumerating names and birthdates.
        attempt = await hub.live.reserve_attempt(
            "join", self.address, now, JOIN_FAILURES_PER_MINUTE, JOIN_WINDOW
        )
        session_id = message["session"]
        meta = await hub.cached_meta(session_id)
        roster = await hub.live.roster(session_id)
        wanted = Identity(message["last_name"], message["first_name"], birthdate)
        candidate_id = match_identity(wanted, ((e.identity, cid) for cid, e in roster.items()))
        await hub.live.release_attempt(attempt)
        if not accepts_candidates(SessionStatus(meta.get("status", "created"))):
            raise SessionClosed()
        entry = roster[candidate_id]
        if not entry.eligible:
            raise NotEligible()
        self.session_id, self.candidate_id = session_id, candidate_id
        await hub.fanout.add_candidate(session_id, candidate_id, self)
        fields = await hub.live.candidate(session_id, candidate_id)
        previous_token = fields.get("token", "")
        await hub.live.set_fields(session_id, candidate_id, conn=self.conn_id)
        state = state_from_hash(session_id, fields)
        self._reply(message, {
            "type": "joined", "candidate_id": candidate_id, "session": session_id,
            "last_name": entry.last_name, "first_name": entry.first_name,
            "status": state.status.value, "room": meta.get("room", ""),
            "question_count": adaptive.TEST_LENGTH,
        })  # fmt: skip
        token = message.get("resume_token") or ""
        token_ok = bool(token) and hmac.compare_digest(_token_hash(token), previous_token)
        await self._after_join(state, token_ok, now)

    async def _after_join(self, state: cand.CandidateState, token_ok: bool, now: float) -> None:
        status = state.status
        if status in cand.FINAL:
            self.conn.send({"type": "test_ended", "status": status.value})
        elif status is Status.PRESENT:
            self.conn.send({"type": "presence_confirmed"})
        elif status is Status.IN_PROGRESS and token_ok:
            await self._continue(state, None, now)  # same page, its hub went away
        elif status is Status.IN_PROGRESS:
            # Another page or device: the old one no longer owns the test (docs/domain.md step 10).
            await self._execute(state, cand.Disconnect(reason="replaced"), now, heartbeat="del")
            self.conn.send({"type": "resume_required"})
        elif status is Status.DISCONNECTED and token_ok and self._in_grace(state, now):
            await self._continue(state, cand.Reconnect(), now)
        elif status is Status.RESUME_AUTHORIZED:
            await self._resume(state, now)
        elif status is Status.DISCONNECTED:
            self.conn.send({"type": "resume_required"})

    def _in_grace(self, state: cand.CandidateState, now: float) -> bool:
        since = state.disconnected_at or now
        return now - since <= self.hub.config.resume_grace

    async def _resume(self, state: cand.CandidateState, now: float) -> None:
        try:
            await self._continue(state, cand.Resume(), now)
        except cand.ResumeExpired as exc:
            self.conn.send({"type": "resume_required", "code": exc.code, "message": exc.message})

    async def _continue(
        self, state: cand.CandidateState, command: cand.Command | None, now: float
    ) -> None:
        """Back to the test on the same question with the same deadline; a new token."""
        token = secrets.token_urlsafe(24)
        extra = {"token": _token_hash(token), "conn": self.conn_id}
        if command is not None:
            applied = await self._execute(state, command, now, extra=extra, heartbeat="set")
            state = applied.state
        else:
            await self.hub.live.set_fields(self.session_id, self.candidate_id, **extra)
            await self.hub.live.add_heartbeat(self.session_id, self.candidate_id, now)
        self.conn.send({"type": "resumed", "resume_token": token, "deadline": state.deadline,
                        "started_at": state.started_at})  # fmt: skip
        await self._send_question()

    async def _start(self, message: dict[str, Any]) -> None:
        hub, now = self.hub, self.hub.now()
        fields = await hub.live.candidate(self.session_id, self.candidate_id)
        state = state_from_hash(self.session_id, fields)
        if state.status is not Status.PRESENT:
            raise cand.refusal("start", state.status)
        # The attempt is counted (per candidate, whatever the page) before the code is
        # compared; the lock and the 10-in-10-minutes window are checked in the same script.
        attempt = await hub.live.reserve_code_attempt(self.session_id, self.candidate_id, now)
        meta = await hub.cached_meta(self.session_id)
        typed = message["access_code"].strip().upper().encode()
        if not hmac.compare_digest(typed, meta["access_code"].encode()):
            if await hub.live.code_failure(self.session_id, self.candidate_id, now):
                raise _locked(CODE_LOCK_SECONDS)
            raise WrongAccessCode()
        await hub.live.release_attempt(attempt)
        first = float(meta["first_start"]) if meta.get("first_start") else None
        if not may_enter(first, now):
            raise Refused("Plus de 24 h depuis le début de la session : entrée impossible.",
                          code="entry_window_closed")  # fmt: skip
        cat, question_id = adaptive.next_question(
            hub.bank, adaptive.new_state(secrets.randbits(64))
        )
        token = secrets.token_urlsafe(24)
        extra = {"cat": json.dumps(cat.to_dict()), "question": question_id or "",
                 "token": _token_hash(token), "conn": self.conn_id}  # fmt: skip
        applied = await self._execute(state, cand.Start(), now, extra=extra, heartbeat="set")
        if first is None:  # the session's first start opens the 24 h entry window
            await hub.live.mark_first_start(self.session_id, now)
        self._reply(message, {"type": "started", "resume_token": token,
                              "started_at": now, "deadline": applied.state.deadline})  # fmt: skip
        await self._send_question((applied.state, cat, question_id or ""))

    async def _answer(self, message: dict[str, Any]) -> None:
        hub, now = self.hub, self.hub.now()
        number = message["question_number"]
        request_id = message.get("id")
        fields = await hub.live.candidate(self.session_id, self.candidate_id)
        state = state_from_hash(self.session_id, fields)
        if fields.get("conn") != self.conn_id:
            self._replaced()
            return
        # A retry of an answer already stored (the last one included) is acknowledged again
        # and changes nothing (docs/architecture.md "No acknowledged answer is lost").
        maybe_retry = number < state.question_number or (
            number == state.question_number and state.status is not Status.IN_PROGRESS
        )
        if maybe_retry and await hub.live.has_answer(self.session_id, self.candidate_id, number):
            self._ack(number, request_id, duplicate=True)
            return
        if number != state.question_number or state.status is not Status.IN_PROGRESS:
            if state.status is not Status.IN_PROGRESS:
                raise cand.refusal("answer", state.status)
            raise OutOfOrder()
        if state.alert is not None:
            raise cand.AlertPending()
        cat = adaptive.CatState.from_dict(json.loads(fields["cat"]))
        question_id = fields["question"]
        # Stored in the bank's option ids, so the jury and a rescoring read the same answer.
        given = adaptive.bank_answer(hub.bank, cat, question_id, message["answer"])
        cat, correct = adaptive.record_answer(hub.bank, cat, question_id, message["answer"])
        cat, next_id = adaptive.next_question(hub.bank, cat)
        command: cand.Command = cand.Finish() if next_id is None else cand.Answer(number + 1)
        stored_answer = msgpack.packb({"question_id": question_id, "answer": given,
                                       "correct": correct, "at": now})  # fmt: skip
        extra = {"cat": json.dumps(cat.to_dict()), "question": next_id or ""}
        if next_id is None:  # the last answer ends the test: scored in the same write
            extra |= outcome_fields(hub.bank, Status.FINISHED, cat)
        applied = await self._execute(
            state, command, now, extra=extra,
            answer=(number, stored_answer), conn_guard=self.conn_id,
            heartbeat="del" if next_id is None else "",
        )  # fmt: skip
        if applied.event is None and applied.duplicate_answer is None:
            self._replaced()
            return
        self._ack(number, request_id, duplicate=applied.duplicate_answer is not None)
        if applied.duplicate_answer is not None:
            return
        if next_id is None:
            self.conn.send({"type": "test_ended", "status": Status.FINISHED.value})
            archive(hub, self.session_id, self.candidate_id, extra)
        else:
            await self._send_question((applied.state, cat, next_id))

    def _reply(self, request: dict[str, Any], reply: dict[str, Any]) -> None:
        if request.get("id") is not None:
            reply["id"] = request["id"]
        self.conn.send(reply)

    def _ack(self, number: int, request_id: Any, *, duplicate: bool) -> None:
        ack: dict[str, Any] = {"type": "answer_ack", "question_number": number}
        if duplicate:
            ack["duplicate"] = True
        if request_id is not None:
            ack["id"] = request_id
        self.conn.send(ack)

    async def _alert(self, message: dict[str, Any]) -> None:
        now = self.hub.now()
        state = await self.hub.live.state(self.session_id, self.candidate_id)
        applied = await self._execute(
            state, cand.RaiseAlert(message["category"]), now, conn_guard=self.conn_id
        )
        if applied.event is None:
            self._replaced()
            return
        reply: dict[str, Any] = {"type": "alert_raised", "category": message["category"],
                                 "question_number": state.question_number}  # fmt: skip
        if message.get("id") is not None:
            reply["id"] = message["id"]
        self.conn.send(reply)

    async def _alive(self) -> None:
        """Any message from the page proves it is there: it counts as a heartbeat, and a page
        the sweep marked silent reconnects by itself (a brief ``reconnect`` on the board)."""
        if self.silenced:
            async with self.lock:
                await self._heal()
            self.silenced = False  # only once healed: a failed heal (store away) is retried
        now = self.hub.now()
        if now - self.last_heartbeat < 1.0:
            return  # a page sending faster than its 5 s beat costs nothing more
        self.last_heartbeat = now
        self.hub.heartbeats.beat(self.session_id, self.candidate_id, now)

    async def _send_question(
        self, known: tuple[cand.CandidateState, adaptive.CatState, str] | None = None
    ) -> None:
        """Send the current question, as this candidate sees it (own option order and ids);
        ``known`` (state, adaptive test, question id) saves a read when the caller just
        wrote them."""
        cat: adaptive.CatState | None
        if known is None:
            fields = await self.hub.live.candidate(self.session_id, self.candidate_id)
            state, question_id = state_from_hash(self.session_id, fields), fields.get("question")
            cat = adaptive.CatState.from_dict(json.loads(fields["cat"])) if question_id else None
        else:
            state, cat, question_id = known
        if state.status is not Status.IN_PROGRESS or not question_id or cat is None:
            return
        self.conn.send({
            "type": "question", "question_number": state.question_number,
            "question_count": adaptive.TEST_LENGTH, "deadline": state.deadline,
            "question": adaptive.present(self.hub.bank, cat, question_id), "alert": state.alert,
        })  # fmt: skip

    async def _execute(
        self, state: cand.CandidateState, command: cand.Command, now: float, **options: Any
    ) -> Applied:
        return await self.hub.live.execute(state, command, now, **options)

    def _replaced(self) -> None:
        self.conn.send({"type": "error", "code": Replaced.code, "message": Replaced.message})
        self.conn.close(CLOSE_REPLACED)

    # --- events pushed from the session's log --------------------------------------------

    def on_event(self, frames: Frames) -> None:
        kind = frames.event.get("type")
        if kind in ("start", "answer", "finish", "raise_alert", "reconnect", "resume"):
            return  # this page caused it and was answered directly
        task = asyncio.get_running_loop().create_task(self._react(kind, frames.event))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def on_resync(self) -> None:
        """A candidate page needs no history: its next request reads fresh state."""

    async def _react(self, kind: Any, event: dict[str, Any]) -> None:
        async with self.lock:
            if self.conn.closed:
                return
            send = self.conn.send
            if kind == "confirm_presence":
                send({"type": "presence_confirmed"})
            elif kind == "cancel_presence":
                send({"type": "presence_cancelled"})
            elif kind in _ENDED:
                send({"type": "test_ended", "status": event.get("status", _ENDED[kind])})
            elif kind == "grant_time":
                send({"type": "time_granted", "minutes": event.get("minutes"),
                      "deadline": event.get("deadline")})  # fmt: skip
            elif kind == "dismiss_alert":
                send({"type": "alert_dismissed"})
            elif kind == "validate_alert":
                send({"type": "alert_validated"})
                await self._send_question()
            elif kind == "authorize_resume":
                fields = await self.hub.live.candidate(self.session_id, self.candidate_id)
                if fields.get("conn") == self.conn_id:  # not an older page of the same candidate
                    await self._resume(state_from_hash(self.session_id, fields), self.hub.now())
            elif kind == "disconnect":
                await self._check_owner(event)

    async def _state(self) -> cand.CandidateState:
        return await self.hub.live.state(self.session_id, self.candidate_id)

    async def _check_owner(self, event: dict[str, Any]) -> None:
        """After a disconnect: a replaced page closes; a page the sweep found silent stays
        disconnected until it proves it is alive (its next message), so a stalled page is
        shown once, not flapping."""
        fields = await self.hub.live.candidate(self.session_id, self.candidate_id)
        if fields.get("conn") != self.conn_id:
            self._replaced()
        elif event.get("reason") == "silent":
            self.silenced = True

    async def _heal(self) -> None:
        fields = await self.hub.live.candidate(self.session_id, self.candidate_id)
        state = state_from_hash(self.session_id, fields)
        if fields.get("conn") == self.conn_id and state.status is Status.DISCONNECTED:
            await self._execute(state, cand.Reconnect(), self.hub.now(), heartbeat="set",
                                conn_guard=self.conn_id)  # fmt: skip

    def moving(self) -> None:
        """This hub stops: the page reconnects to another one with its resume token and
        continues as after a lost network, so it is not marked disconnected here."""
        self.moved = True

    async def closed(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if not self.candidate_id:
            return
        hub = self.hub
        hub.fanout.remove(self.session_id, self, self.candidate_id)
        hub.heartbeats.forget(self.session_id, self.candidate_id)
        if self.moved:
            return  # a page that does not come back is found silent by the sweep
        for _ in range(3):  # a board may change the candidate at the same moment: read again
            try:
                state = await self._state()
                if state.status is Status.IN_PROGRESS:
                    # A closed page is disconnected at once
                    # (docs/architecture.md "Presence by heartbeat").
                    await self._execute(state, cand.Disconnect(reason="closed"), hub.now(),
                                        heartbeat="del", conn_guard=self.conn_id)  # fmt: skip
                return
            except Conflict:
                continue
            except Exception:  # the store may be unreachable while the hub stops
                log.warning("could not mark a closed page disconnected", exc_info=True)
                return


def _locked(retry_after: float) -> RateLimited:
    return RateLimited(CODE_LOCKED_MESSAGE, code="code_locked", retry_after=retry_after)
