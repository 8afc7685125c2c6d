"""Regulatory time (docs/domain.md flow, step 11)."""

from __future__ import annotations

import pytest

from vigie.core import deadlines
from vigie.core.deadlines import deadline, is_overdue, is_valid_extra_time, may_enter

T0 = 1_750_000_000.0
HOUR = 3600.0


@pytest.mark.parametrize(
    ("extra_time", "granted", "seconds"),
    [
        (0.0, 0.0, 105 * 60),
        (0.33, 0.0, 105 * 60 * 1.33),
        (0.5, 0.0, 157.5 * 60),
        (0.0, 10.0, 115 * 60),
        (0.33, 15.0, 105 * 60 * 1.33 + 15 * 60),
        (9.99, 0.0, 105 * 60 * 10.99),
        (9.99, 300.0, 24 * HOUR),
        (0.0, 24 * 60, 24 * HOUR),
        (0.0, 24 * 60 - 105, 24 * HOUR),
    ],
)
def test_deadline(extra_time: float, granted: float, seconds: float) -> None:
    assert deadline(T0, extra_time, granted) == pytest.approx(T0 + seconds, abs=1e-6)


def test_a_test_never_lasts_more_than_24_hours() -> None:
    assert deadlines.MAX_TEST_SECONDS == 24 * HOUR
    assert deadline(T0, 9.99, 10_000) == T0 + 24 * HOUR


def test_is_overdue_from_the_deadline_on() -> None:
    end = T0 + 105 * 60 * 1.33
    assert not is_overdue(T0, 0.33, 0, end - 0.001)
    assert is_overdue(T0, 0.33, 0, end)
    assert is_overdue(T0, 0.33, 0, end + HOUR)
    assert not is_overdue(T0, 0.33, 30, end + 29 * 60)


@pytest.mark.parametrize(
    ("fraction", "valid"),
    [(0.0, True), (0.33, True), (9.99, True), (10.0, False), (-0.01, False), (float("nan"), False)],
)
def test_extra_time_is_0_to_below_1000_percent(fraction: float, valid: bool) -> None:
    assert is_valid_extra_time(fraction) is valid


def test_entry_window_is_24_hours_from_the_first_start() -> None:
    assert may_enter(None, T0)
    assert may_enter(T0, T0)
    assert may_enter(T0, T0 + 24 * HOUR)
    assert not may_enter(T0, T0 + 24 * HOUR + 0.001)
