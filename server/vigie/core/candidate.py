"""The candidate's live status machine (docs/domain.md "Statuses", flow steps 6-13).

One transition table says which command each status accepts and where it leads. A command
returns the new state and the events to publish; it mutates nothing. The hub stores both in
one atomic step (see ``vigie.live``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from vigie.core import deadlines
from vigie.core.incidents import QUESTION_CATEGORIES
from vigie.exceptions import InvalidInput, Refused, TransitionRefused

RESUME_AUTHORIZATION_SECONDS = 15 * 60
MAX_GRANTED_MINUTES = 24 * 60


class Status(enum.StrEnum):
    REGISTERED = "registered"
    PRESENT = "present"
    IN_PROGRESS = "in_progress"
    DISCONNECTED = "disconnected"
    RESUME_AUTHORIZED = "resume_authorized"
    FINISHED = "finished"
    ENDED_BY_INVIGILATOR = "ended_by_invigilator"
    ENDED_BY_FINALIZATION = "ended_by_finalization"
    ABSENT = "absent"


FINAL = frozenset(
    {Status.FINISHED, Status.ENDED_BY_INVIGILATOR, Status.ENDED_BY_FINALIZATION, Status.ABSENT}
)
RUNNING = frozenset({Status.IN_PROGRESS, Status.DISCONNECTED, Status.RESUME_AUTHORIZED})
"""Statuses of a started, unfinished test: the clock runs."""


@dataclass(frozen=True, slots=True)
class CandidateState:
    """What the live store keeps for one candidate; ``version`` guards every change."""

    session_id: int
    candidate_id: int
    status: Status = Status.REGISTERED
    version: int = 0
    extra_time: float = 0.0
    granted_minutes: float = 0.0
    started_at: float | None = None
    ended_at: float | None = None
    disconnected_at: float | None = None
    time_lost: float = 0.0
    resume_authorized_at: float | None = None
    question_number: int = 0
    alert: str | None = None

    @property
    def deadline(self) -> float | None:
        if self.started_at is None:
            return None
        return deadlines.deadline(self.started_at, self.extra_time, self.granted_minutes)

    def is_overdue(self, now: float) -> bool:
        end = self.deadline
        return self.status in RUNNING and end is not None and now >= end


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to a candidate; the store adds the session's ``seq``."""

    kind: str
    session_id: int
    candidate_id: int
    at: float
    version: int
    data: Mapping[str, Any] = field(default_factory=dict)


# --- commands ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    name: ClassVar[str]


@dataclass(frozen=True, slots=True)
class ConfirmPresence(Command):
    name = "confirm_presence"


@dataclass(frozen=True, slots=True)
class CancelPresence(Command):
    name = "cancel_presence"


@dataclass(frozen=True, slots=True)
class Start(Command):
    name = "start"


@dataclass(frozen=True, slots=True)
class Answer(Command):
    """An answer to the current question was stored; the next one is ``question_number``."""

    name = "answer"
    question_number: int


@dataclass(frozen=True, slots=True)
class Finish(Command):
    name = "finish"


@dataclass(frozen=True, slots=True)
class Disconnect(Command):
    name = "disconnect"
    reason: str = "closed"  # "closed" (socket closed) or "silent" (heartbeat timeout)


@dataclass(frozen=True, slots=True)
class Reconnect(Command):
    """The same page came back within its grace window, with its resume token."""

    name = "reconnect"


@dataclass(frozen=True, slots=True)
class AuthorizeResume(Command):
    name = "authorize_resume"


@dataclass(frozen=True, slots=True)
class Resume(Command):
    """The candidate continues after the invigilator's authorization."""

    name = "resume"


@dataclass(frozen=True, slots=True)
class EndByInvigilator(Command):
    name = "end_by_invigilator"


@dataclass(frozen=True, slots=True)
class Finalize(Command):
    name = "finalize"


@dataclass(frozen=True, slots=True)
class GrantTime(Command):
    name = "grant_time"
    minutes: float
    reason: str


@dataclass(frozen=True, slots=True)
class RaiseAlert(Command):
    name = "raise_alert"
    category: str


@dataclass(frozen=True, slots=True)
class ValidateAlert(Command):
    name = "validate_alert"
    subcategory: str


@dataclass(frozen=True, slots=True)
class DismissAlert(Command):
    name = "dismiss_alert"


# --- the transition table -----------------------------------------------------------------

S = Status
TRANSITIONS: dict[tuple[Status, str], Status] = {
    (S.REGISTERED, "confirm_presence"): S.PRESENT,
    (S.PRESENT, "cancel_presence"): S.REGISTERED,
    (S.PRESENT, "start"): S.IN_PROGRESS,
    (S.IN_PROGRESS, "answer"): S.IN_PROGRESS,
    (S.IN_PROGRESS, "finish"): S.FINISHED,
    (S.IN_PROGRESS, "disconnect"): S.DISCONNECTED,
    (S.DISCONNECTED, "reconnect"): S.IN_PROGRESS,
    (S.DISCONNECTED, "authorize_resume"): S.RESUME_AUTHORIZED,
    (S.RESUME_AUTHORIZED, "authorize_resume"): S.RESUME_AUTHORIZED,  # renews the 15 min
    (S.RESUME_AUTHORIZED, "resume"): S.IN_PROGRESS,
    (S.REGISTERED, "finalize"): S.ABSENT,
    (S.PRESENT, "finalize"): S.ABSENT,
    (S.IN_PROGRESS, "raise_alert"): S.IN_PROGRESS,
}
for _status in RUNNING:
    TRANSITIONS[(_status, "end_by_invigilator")] = S.ENDED_BY_INVIGILATOR
    TRANSITIONS[(_status, "finalize")] = S.ENDED_BY_FINALIZATION
    TRANSITIONS[(_status, "validate_alert")] = _status
    TRANSITIONS[(_status, "dismiss_alert")] = _status
for _status in (S.REGISTERED, S.PRESENT, *RUNNING):
    TRANSITIONS[(_status, "grant_time")] = _status

COMMAND_NAMES = frozenset(name for _, name in TRANSITIONS)


def _check_table() -> None:
    """Every status is reachable from ``registered``; every non-final status has a way out."""
    reachable = {S.REGISTERED}
    frontier = [S.REGISTERED]
    while frontier:
        source = frontier.pop()
        for (origin, _), target in TRANSITIONS.items():
            if origin is source and target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(Status), f"unreachable: {set(Status) - reachable}"
    for status in set(Status) - FINAL:
        assert any(o is status and t is not status for (o, _), t in TRANSITIONS.items()), status
    assert not any(o in FINAL for o, _ in TRANSITIONS), "a final status has a transition"


_check_table()


STATUS_LABELS = {
    S.REGISTERED: "inscrit", S.PRESENT: "présent", S.IN_PROGRESS: "en cours",
    S.DISCONNECTED: "déconnecté", S.RESUME_AUTHORIZED: "reprise autorisée",
    S.FINISHED: "terminé", S.ENDED_BY_INVIGILATOR: "arrêté par le surveillant",
    S.ENDED_BY_FINALIZATION: "arrêté à la finalisation", S.ABSENT: "absent",
}  # fmt: skip
ACTION_LABELS = {
    "confirm_presence": "confirmer la présence", "cancel_presence": "annuler la présence",
    "start": "démarrer le test", "answer": "répondre", "finish": "terminer le test",
    "disconnect": "marquer déconnecté", "reconnect": "reprendre (même page)",
    "authorize_resume": "autoriser la reprise", "resume": "reprendre le test",
    "end_by_invigilator": "arrêter le test", "finalize": "finaliser",
    "grant_time": "accorder du temps", "raise_alert": "signaler un problème",
    "validate_alert": "valider le signalement", "dismiss_alert": "refuser le signalement",
}  # fmt: skip


def refusal(command: str, status: Status) -> TransitionRefused:
    """The refusal of ``command`` in ``status``, in words an invigilator understands."""
    return TransitionRefused(
        command, status.value,
        action_label=ACTION_LABELS.get(command, ""), status_label=STATUS_LABELS[status],
    )  # fmt: skip


class AlertPending(Refused):
    code = "alert_pending"
    message = "Un signalement est en cours : attendez la décision du surveillant."


class NoAlert(Refused):
    code = "no_alert"
    message = "Ce candidat n'a pas de signalement en cours."


class ResumeExpired(Refused):
    code = "resume_expired"
    message = "L'autorisation de reprise a expiré (15 minutes). Appelez votre surveillant."


def apply(state: CandidateState, command: Command, now: float) -> tuple[CandidateState, Event]:
    """Apply ``command`` at ``now``: the new state (version + 1) and the event to publish."""
    target = TRANSITIONS.get((state.status, command.name))
    if target is None:
        raise refusal(command.name, state.status)
    changes, data = _effects(state, command, now)
    new = replace(state, status=target, version=state.version + 1, **changes)
    data = {"status": new.status.value, **data}
    event = Event(command.name, state.session_id, state.candidate_id, now, new.version, data)
    return new, event


def _effects(
    state: CandidateState, command: Command, now: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields a command changes besides the status, and what its event says."""
    match command:
        case Start():
            started = {"started_at": now, "question_number": 1}
            return started, {**started, "deadline": replace(state, started_at=now).deadline}
        case Answer(question_number=number):
            if state.alert is not None:
                raise AlertPending()
            return {"question_number": number}, {"question_number": number}
        case Disconnect(reason=reason):
            return {"disconnected_at": now}, {"reason": reason}
        case Reconnect() | Resume():
            return _back_online(state, command, now)
        case AuthorizeResume():
            return {"resume_authorized_at": now}, {"expires_at": now + RESUME_AUTHORIZATION_SECONDS}
        case Finish():
            if state.alert is not None:
                raise AlertPending()
            return _ended(state, now)
        case EndByInvigilator() | Finalize():
            return _ended(state, now)
        case GrantTime(minutes=minutes, reason=reason):
            return _granted(state, minutes, reason)
        case RaiseAlert(category=category):
            return _alert_raised(state, category)
        case ValidateAlert(subcategory=subcategory):
            if state.alert is None:
                raise NoAlert()
            if subcategory not in QUESTION_CATEGORIES:
                raise InvalidInput(
                    "Choisissez une catégorie de problème sur une question (E1 à E12).",
                    code="invalid_category",
                )
            return {"alert": None}, {"subcategory": subcategory}
        case DismissAlert():
            if state.alert is None:
                raise NoAlert()
            return {"alert": None}, {}
        case _:  # confirm_presence, cancel_presence: the status says it all
            return {}, {}


def _back_online(
    state: CandidateState, command: Command, now: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    if isinstance(command, Resume):
        authorized_at = state.resume_authorized_at or 0.0
        if now > authorized_at + RESUME_AUTHORIZATION_SECONDS:
            raise ResumeExpired()
    lost = max(0.0, now - (state.disconnected_at or now))
    changes = {
        "disconnected_at": None,
        "resume_authorized_at": None,
        "time_lost": state.time_lost + lost,
    }
    return changes, {"time_lost": changes["time_lost"], "deadline": state.deadline}


def _ended(state: CandidateState, now: float) -> tuple[dict[str, Any], dict[str, Any]]:
    changes: dict[str, Any] = {"ended_at": now, "alert": None}
    if state.disconnected_at is not None:
        changes["time_lost"] = state.time_lost + max(0.0, now - state.disconnected_at)
        changes["disconnected_at"] = None
    return changes, {"ended_at": now}


def _granted(
    state: CandidateState, minutes: float, reason: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    if not 1 <= minutes <= MAX_GRANTED_MINUTES:  # the message says 1 to 1440
        raise InvalidInput(
            "Le temps accordé doit être compris entre 1 et 1440 minutes.", code="invalid_minutes"
        )
    if not reason.strip():
        raise InvalidInput("Indiquez la raison du temps accordé.", code="reason_required")
    granted = state.granted_minutes + minutes
    new_deadline = None
    if state.started_at is not None:
        new_deadline = deadlines.deadline(state.started_at, state.extra_time, granted)
    return {"granted_minutes": granted}, {
        "minutes": minutes,
        "granted_minutes": granted,
        "reason": reason.strip(),
        "deadline": new_deadline,
    }


def _alert_raised(state: CandidateState, category: str) -> tuple[dict[str, Any], dict[str, Any]]:
    if state.alert is not None:
        raise AlertPending()
    if category not in QUESTION_CATEGORIES:
        raise InvalidInput("Catégorie de signalement inconnue.", code="invalid_category")
    return {"alert": category}, {"category": category, "question_number": state.question_number}
