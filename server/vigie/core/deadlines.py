"""Regulatory time (docs/domain.md flow, step 11).

A test lasts 105 minutes x (1 + extra time) plus the minutes granted live, never more than
24 h; nobody may enter more than 24 h after the session's first start.
"""

from __future__ import annotations

BASE_MINUTES = 105
MAX_TEST_SECONDS = 24 * 3600
ENTRY_WINDOW_SECONDS = 24 * 3600
MAX_EXTRA_TIME = 10.0  # exclusive: 0 <= x < 1000 %


def is_valid_extra_time(fraction: float) -> bool:
    return 0.0 <= fraction < MAX_EXTRA_TIME


def deadline(started_at: float, extra_time: float, granted_minutes: float) -> float:
    """The candidate's personal end time, in epoch seconds."""
    seconds = BASE_MINUTES * 60 * (1 + extra_time) + granted_minutes * 60
    return started_at + min(seconds, MAX_TEST_SECONDS)


def is_overdue(started_at: float, extra_time: float, granted_minutes: float, now: float) -> bool:
    return now >= deadline(started_at, extra_time, granted_minutes)


def may_enter(first_start: float | None, now: float) -> bool:
    """The 24 h entry window opens with the session's first start."""
    return first_start is None or now <= first_start + ENTRY_WINDOW_SECONDS
