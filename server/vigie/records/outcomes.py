"""The outcomes repository: the scored result of each ended test, kept in SQL.

The live store keeps an outcome with the attempt the moment a test ends; this copy is what
finalization, the jury and the results read once the room is gone. Saving is an upsert: the
hub may save the same outcome twice (a retry after the database was away), and a rescoring
replaces the earlier one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vigie.records.schema import OutcomeRow


class Outcomes:
    """Outcomes by candidate, over the records' session factory."""

    def __init__(self, db: async_sessionmaker[AsyncSession]) -> None:
        self._db = db

    async def save(
        self, session_id: int, candidate_id: int, data: dict[str, Any], *, now: datetime
    ) -> None:
        """Insert or replace the outcome of one candidate (``Outcome.to_dict()``)."""
        values = {
            "session_id": session_id,
            "status": str(data["status"]),
            "score": int(data["result"]["score"]),
            "rejected": bool(data["result"]["rejected"]),
            "data": json.dumps(data, ensure_ascii=False, sort_keys=True),
            "scored_at": now.astimezone(UTC),
        }
        try:
            await self._upsert(candidate_id, values)
        except IntegrityError:  # a concurrent first insert won: this one is now an update
            await self._upsert(candidate_id, values)

    async def _upsert(self, candidate_id: int, values: dict[str, Any]) -> None:
        async with self._db.begin() as db:
            row = await db.get(OutcomeRow, candidate_id, with_for_update=True)
            if row is None:
                db.add(OutcomeRow(candidate_id=candidate_id, **values))
            else:
                for key, value in values.items():
                    setattr(row, key, value)

    async def of_session(self, session_id: int) -> dict[int, dict[str, Any]]:
        """Every stored outcome of a session, by candidate id."""
        query = select(OutcomeRow).where(OutcomeRow.session_id == session_id)
        async with self._db() as db:
            rows = await db.scalars(query)
            return {row.candidate_id: json.loads(row.data) for row in rows}
