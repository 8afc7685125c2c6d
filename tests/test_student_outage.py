"""The student page in a real Chromium while the hub's Redis restarts: the answer confirmed
during the outage is kept, the page says why it waits, and it is sent again by itself."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from browserkit import browser, screenshot
from hubkit import hub_config, planned_session, redis_server, running_hub
from test_student_client import WAIT, answer_current, board_for, new_page, reach_question

__all__ = ["browser"]  # the fixture, re-exported for pytest

pytestmark = pytest.mark.browser


@pytest.mark.timeout(120)
async def test_an_answer_confirmed_while_redis_restarts_is_sent_again(
    tmp_path: Path, browser: Browser
) -> None:
    server = redis_server(tmp_path / "redis")
    server.start()
    try:
        async with running_hub(hub_config(tmp_path, server.url)) as hub:
            roster = await planned_session(hub.hub)
            async with board_for(hub, roster) as board:
                page = await new_page(browser, hub)
                await reach_question(page, board, roster, 1)
                server.stop(signal.SIGKILL)
                await answer_current(page)
                waiting = page.locator("#sending-text")
                await expect(waiting).to_contain_text("momentanément indisponible", timeout=WAIT)
                await screenshot(page, "student-store-unavailable")
                server.start()
                await expect(page.locator("#question-heading")).to_have_text(
                    "Question 2 sur 32", timeout=3 * WAIT
                )
                stored = await hub.hub.live.answers(roster.session_id, roster.candidates[1]["id"])
                assert list(stored) == [1]
                await page.context.close()
    finally:
        server.stop(signal.SIGKILL)
