"""``/ws/invigilator``: the invigilator's live board (docs/protocol.md, "Invigilator").

Login with session number + session password, then a snapshot (or the exact missing events
after a reconnect) and live events tagged ``(epoch, seq)``. Actions are checked against the
board's session: a board can only name candidates of its own session.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
from typing import Any

import msgpack

from vigie.codec import InvalidField
from vigie.core import adaptive
from vigie.core import candidate as cand
from vigie.core.candidate import Status
from vigie.core.incidents import CATEGORIES, needs_question_number
from vigie.exceptions import InvalidInput, NotAuthenticated, NotFound, Refused, VigieError
from vigie.hub.connection import Connection
from vigie.hub.context import Hub
from vigie.hub.endpoint import error_frame
from vigie.hub.fanout import Frames
from vigie.hub.outcomes import archive, outcome_fields
from vigie.hub.views import board_snapshot
from vigie.live import Applied, state_from_hash

LOGIN_FAILURES = 5
LOGIN_WINDOW = 60.0
PRESENCE_INTERVAL = 5.0
MAX_DESCRIPTION = 2000


class WrongPassword(NotAuthenticated):
    code = "wrong_password"
    message = "Numéro de session ou mot de passe incorrect."


class NotLoggedIn(NotAuthenticated):
    code = "not_logged_in"
    message = "Connectez-vous d'abord avec le numéro et le mot de passe de session."


class BoardHandler:
    """The server side of one open board."""

    def __init__(self, hub: Hub, conn: Connection, address: str) -> None:
        self.hub = hub
        self.conn = conn
        self.address = address
        self.session_id = 0
        self.delivered = 0
        self.ready = False
        self.pending: list[Frames] = []
        self.ticker: asyncio.Task[None] | None = None
        self.resync: asyncio.Task[None] | None = None

    async def handle(self, kind: str, message: dict[str, Any]) -> None:
        if kind == "login":
            await self._login(message)
            return
        if not self.session_id:
            raise NotLoggedIn()
        reply = await getattr(self, f"_do_{kind}")(message)
        reply = {"type": "ack", "action": kind, **(reply or {})}
        if message.get("id") is not None:
            reply["id"] = message["id"]
        self.conn.send(reply)

    # --- login and catch-up ----------------------------------------------------------

    async def _login(self, message: dict[str, Any]) -> None:
        if self.session_id:
            raise Refused("Ce tableau est déjà connecté.", code="already_logged_in")
        hub, now = self.hub, self.hub.now()
        seq = message.get("seq")
        if seq is not None and seq < 0:
            raise InvalidField("seq")
        # Counted before the password is compared (across hubs), taken back on success.
        attempt = await hub.live.reserve_attempt(
            "board", self.address, now, LOGIN_FAILURES, LOGIN_WINDOW
        )
        session_id = message["session"]
        try:
            meta = await hub.cached_meta(session_id)
        except NotFound:
            raise WrongPassword() from None
        if not hmac.compare_digest(message["password"].encode(), meta["password"].encode()):
            raise WrongPassword()
        await hub.live.release_attempt(attempt)
        # A refused or failed login leaves the socket exactly as it was: logged in only once
        # the catch-up is sent, and no longer subscribed if it fails.
        await hub.fanout.add_board(session_id, self)  # live events wait in self.pending
        try:
            self.session_id = session_id
            await self._catch_up(message.get("epoch"), seq, meta["epoch"], message.get("id"))
        except BaseException:
            self.session_id = 0
            self.ready = False
            self.pending.clear()
            hub.fanout.remove(session_id, self)
            raise
        self.ticker = asyncio.get_running_loop().create_task(self._presence_loop())

    async def _catch_up(
        self, epoch: str | None, seq: int | None, current_epoch: str, request_id: Any = None
    ) -> None:
        live = self.hub.live
        events = None
        if epoch == current_epoch and seq is not None:
            events = await live.events_after(self.session_id, seq)
        if events is None:
            snap = await live.snapshot(self.session_id)
            fresh = seq is not None  # the board asked for a replay and gets a fresh start
            reply = board_snapshot(self.session_id, snap, fresh=fresh)
            if request_id is not None:
                reply["id"] = request_id
            self.conn.send(reply)
            self.delivered = snap.seq
        else:
            assert seq is not None
            self.delivered = seq
            for event_seq, payload in events:
                frames = Frames(current_epoch, event_seq, msgpack.unpackb(payload))
                # A replay is a burst longer than the queue: wait for room instead of
                # dropping the board (it would come back and replay again, forever).
                await self.conn.send_frame_waiting(frames.board_frame(self.conn.codec))
                self.delivered = event_seq
            reply = {"type": "caught_up", "epoch": current_epoch, "seq": self.delivered}
            if request_id is not None:
                reply["id"] = request_id
            self.conn.send(reply)
        self.ready = True
        for frames in self.pending:
            self.on_event(frames)
        self.pending.clear()
        with contextlib.suppress(Exception):  # pushed again within 5 s anyway
            await self._send_presence()

    def on_event(self, frames: Frames) -> None:
        if not self.ready:
            self.pending.append(frames)
            return
        if frames.seq <= self.delivered:
            return  # already in the snapshot or the replay
        self.delivered = frames.seq
        self.conn.send_frame(frames.board_frame(self.conn.codec))

    def on_resync(self) -> None:
        """Events were lost beyond the stream: send a fresh snapshot, flagged as such."""
        self.ready = False
        self.resync = asyncio.get_running_loop().create_task(self._catch_up(None, 0, ""))

    async def _presence_loop(self) -> None:
        while not self.conn.closed:
            await asyncio.sleep(PRESENCE_INTERVAL)
            with contextlib.suppress(Exception):
                await self._send_presence()

    async def _send_presence(self) -> None:
        """Last heartbeats, pushed every 5 s: 'last seen N s ago' without any polling."""
        beats = await self.hub.live.heartbeats(self.session_id)
        self.conn.send({"type": "presence", "server_time": self.hub.now(),
                        "heartbeats": {str(cid): at for cid, at in beats.items()}})  # fmt: skip

    # --- actions -----------------------------------------------------------------------

    async def _apply(self, candidate_id: int, command: cand.Command, **options: Any) -> Applied:
        state = await self.hub.live.state(self.session_id, candidate_id)
        return await self.hub.live.execute(state, command, self.hub.now(), **options)

    async def _do_confirm_presence(self, message: dict[str, Any]) -> dict[str, Any]:
        ids = message["candidate_ids"]
        if not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise InvalidInput("Choisissez au moins un candidat.", code="invalid_field")
        roster = await self.hub.live.roster(self.session_id)
        results = []
        for candidate_id in ids:
            try:
                entry = roster.get(candidate_id)
                if entry is None:
                    raise _not_in_session()
                if not entry.eligible:
                    raise Refused("Ce candidat n'est pas certifiable : donnez-lui le code SOS.",
                                  code="not_eligible")  # fmt: skip
                await self._apply(candidate_id, cand.ConfirmPresence())
                results.append({"candidate_id": candidate_id, "ok": True})
            except VigieError as exc:
                results.append({"candidate_id": candidate_id, **error_frame(exc, None)})
        if len(ids) == 1 and not results[0].get("ok"):
            raise VigieError(results[0]["message"], code=results[0]["code"])
        return {"results": results}

    async def _do_cancel_presence(self, message: dict[str, Any]) -> None:
        await self._apply(message["candidate_id"], cand.CancelPresence())

    async def _do_authorize_resume(self, message: dict[str, Any]) -> None:
        await self._apply(message["candidate_id"], cand.AuthorizeResume())

    async def _do_end_test(self, message: dict[str, Any]) -> None:
        candidate_id = message["candidate_id"]
        fields = await self.hub.live.candidate(self.session_id, candidate_id)
        await self._end(state_from_hash(self.session_id, fields), fields, self.hub.now())

    async def _end(self, state: cand.CandidateState, fields: dict[str, str], now: float) -> None:
        """End a test by the invigilator, scored in the same write."""
        hub = self.hub
        extra = outcome_fields(hub.bank, Status.ENDED_BY_INVIGILATOR, fields.get("cat"))
        await hub.live.execute(state, cand.EndByInvigilator(), now, heartbeat="del", extra=extra)
        archive(hub, self.session_id, state.candidate_id, extra)

    async def _do_end_overdue(self, _: dict[str, Any]) -> dict[str, Any]:
        now = self.hub.now()
        snap = await self.hub.live.snapshot(self.session_id)
        ended = []
        for candidate_id, fields in snap.candidates.items():
            state = state_from_hash(self.session_id, fields)
            if state.is_overdue(now):
                with contextlib.suppress(VigieError):  # changed meanwhile: not overdue now
                    await self._end(state, fields, now)
                    ended.append(candidate_id)
        return {"ended": ended}

    async def _do_grant_time(self, message: dict[str, Any]) -> None:
        command = cand.GrantTime(message["minutes"], message["reason"][:500])
        await self._apply(message["candidate_id"], command)

    async def _do_validate_alert(self, message: dict[str, Any]) -> None:
        candidate_id = message["candidate_id"]
        fields = await self.hub.live.candidate(self.session_id, candidate_id)
        state = state_from_hash(self.session_id, fields)
        extra = {}
        if fields.get("cat"):
            bank = self.hub.bank
            cat = adaptive.CatState.from_dict(json.loads(fields["cat"]))
            cat = adaptive.neutralize_current(bank, cat)
            cat, replacement = adaptive.next_question(bank, cat)
            extra = {"cat": json.dumps(cat.to_dict()), "question": replacement or ""}
        command = cand.ValidateAlert(message["subcategory"])
        await self.hub.live.execute(state, command, self.hub.now(), extra=extra)

    async def _do_dismiss_alert(self, message: dict[str, Any]) -> None:
        await self._apply(message["candidate_id"], cand.DismissAlert())

    async def _do_record_incident(self, message: dict[str, Any]) -> dict[str, Any]:
        category = message["category"]
        if category not in CATEGORIES:
            raise InvalidInput("Catégorie d'incident inconnue.", code="invalid_category")
        number = message.get("question_number")
        if needs_question_number(category) and not (isinstance(number, int) and 1 <= number <= 32):
            raise InvalidInput("Indiquez le numéro de la question (1 à 32).",
                               code="question_number_required")  # fmt: skip
        description = message["description"].strip()
        if not description or len(description) > MAX_DESCRIPTION:
            raise InvalidInput("Décrivez l'incident (2000 caractères au plus).",
                               code="invalid_description")  # fmt: skip
        candidate_id = message.get("candidate_id")
        if candidate_id is not None:
            await self.hub.live.state(self.session_id, candidate_id)  # NotFound if not ours
        seq = await self.hub.live.add_incident(self.session_id, {
            "type": "incident_recorded", "candidate_id": candidate_id, "category": category,
            "question_number": number, "description": description, "at": self.hub.now(),
        })  # fmt: skip
        return {"seq": seq}

    async def _do_reveal_access_code(self, _: dict[str, Any]) -> dict[str, Any]:
        meta = await self.hub.cached_meta(self.session_id)
        return {"access_code": meta["access_code"]}

    def moving(self) -> None:
        """This hub stops: the board reconnects to another one with its last (epoch, seq)."""

    async def closed(self) -> None:
        if self.ticker is not None:
            self.ticker.cancel()
        if self.session_id:
            self.hub.fanout.remove(self.session_id, self)


def _not_in_session() -> VigieError:
    return NotFound("Candidat introuvable dans cette session.", code="candidate_not_found")
