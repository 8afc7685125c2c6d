"""The session's status machine (docs/domain.md "Statuses": created -> finalized -> in_review ->
published). Candidates can join only while the session is ``created``."""

from __future__ import annotations

import enum

from vigie.exceptions import TransitionRefused


class SessionStatus(enum.StrEnum):
    CREATED = "created"
    FINALIZED = "finalized"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"


SESSION_TRANSITIONS: dict[tuple[SessionStatus, str], SessionStatus] = {
    (SessionStatus.CREATED, "finalize"): SessionStatus.FINALIZED,
    (SessionStatus.FINALIZED, "assign_jury"): SessionStatus.IN_REVIEW,
    (SessionStatus.IN_REVIEW, "publish"): SessionStatus.PUBLISHED,
}


def next_status(status: SessionStatus, command: str) -> SessionStatus:
    """Where ``command`` takes a session, or a refusal naming both."""
    target = SESSION_TRANSITIONS.get((status, command))
    if target is None:
        raise TransitionRefused(command, status.value)
    return target


def accepts_candidates(status: SessionStatus) -> bool:
    return status is SessionStatus.CREATED
