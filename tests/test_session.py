"""The session's status machine (docs/domain.md "Statuses": created -> finalized -> in_review ->
published)."""

from __future__ import annotations

import itertools

import pytest

from vigie.core.session import SessionStatus, accepts_candidates, next_status
from vigie.exceptions import Refused, TransitionRefused

S = SessionStatus
COMMANDS = ("finalize", "assign_jury", "publish", "reopen", "")
EXPECTED = {
    (S.CREATED, "finalize"): S.FINALIZED,
    (S.FINALIZED, "assign_jury"): S.IN_REVIEW,
    (S.IN_REVIEW, "publish"): S.PUBLISHED,
}


@pytest.mark.parametrize(("status", "command"), list(itertools.product(S, COMMANDS)))
def test_every_status_command_pair(status: SessionStatus, command: str) -> None:
    target = EXPECTED.get((status, command))
    if target is not None:
        assert next_status(status, command) is target
        return
    with pytest.raises(TransitionRefused) as refused:
        next_status(status, command)
    assert isinstance(refused.value, Refused)
    assert (refused.value.command, refused.value.status) == (command, status.value)
    assert status.value in refused.value.message


def test_a_session_goes_from_created_to_published_in_order() -> None:
    status = S.CREATED
    for command in ("finalize", "assign_jury", "publish"):
        status = next_status(status, command)
    assert status is S.PUBLISHED


@pytest.mark.parametrize("status", list(S))
def test_candidates_join_only_a_created_session(status: SessionStatus) -> None:
    assert accepts_candidates(status) is (status is S.CREATED)
