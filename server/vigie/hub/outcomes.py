"""Scoring an ended test: with the attempt in the live store, then copied to the records.

Every path that ends a test (the last answer, the invigilator's end, the end of overdue
tests) asks ``outcome_fields`` for the hash field to store in the same atomic script as the
end, so a test is never ended without its score; ``archive`` then copies the outcome to the
records store in the background, retrying while the database is away. If it stays away, the
outcome is still in the live store with the attempt (``outcome`` field) and the copy is made
again by whatever reads it next (finalization).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any

from vigie.core import outcome as oc
from vigie.core.adaptive import Bank, CatState, new_state
from vigie.core.candidate import Status
from vigie.hub.context import Hub

log = logging.getLogger(__name__)

ARCHIVE_ATTEMPTS = 4
ARCHIVE_FIRST_DELAY = 0.5


def outcome_fields(bank: Bank, status: Status, cat: CatState | str | None) -> dict[str, str]:
    """``{"outcome": json}`` for a command that ends the test with ``status``, else ``{}``.

    ``cat`` is the adaptive test as of the end (or its stored JSON); a test ended before its
    first question was stored scores as one with no answer (rejected).
    """
    if isinstance(cat, str):
        cat = CatState.from_dict(json.loads(cat)) if cat else None
    done = oc.outcome(bank, status, cat if cat is not None else new_state(0))
    return {} if done is None else {"outcome": json.dumps(done.to_dict())}


def archive(hub: Hub, session_id: int, candidate_id: int, fields: dict[str, str]) -> None:
    """Copy an outcome just stored with the attempt to the records store, in the background."""
    if "outcome" not in fields or hub.records is None:
        return
    data = json.loads(fields["outcome"])
    task = asyncio.get_running_loop().create_task(_save(hub, session_id, candidate_id, data))
    hub.background.add(task)
    task.add_done_callback(hub.background.discard)


async def _save(hub: Hub, session_id: int, candidate_id: int, data: dict[str, Any]) -> None:
    assert hub.records is not None
    delay = ARCHIVE_FIRST_DELAY
    for attempt in range(1, ARCHIVE_ATTEMPTS + 1):
        try:
            await hub.records.outcomes.save(
                session_id, candidate_id, data, now=datetime.fromtimestamp(hub.now(), UTC)
            )
            return
        except Exception:  # the database away: the live store keeps the outcome meanwhile
            if attempt == ARCHIVE_ATTEMPTS:
                log.error(
                    "outcome of candidate %s (session %s) not archived; kept in the live store",
                    candidate_id, session_id, exc_info=True,
                )  # fmt: skip
                return
            await asyncio.sleep(delay)
            delay *= 2
