"""The student client in a real Chromium against a real hub (issue 4).

The board side is a plain WebSocket client logged in as the invigilator. Every screen is
checked with axe-core and saved as ``tests/screenshots/student-<screen>.png``.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from browserkit import axe_violations, browser, screenshot
from conftest import UNIT
from hubkit import Client, Roster, client, hub_config, logged_board, planned_session, running_hub

__all__ = ["browser"]  # the fixture, re-exported for pytest

pytestmark = pytest.mark.browser

WAIT = 10_000 * UNIT  # milliseconds, for Playwright's expect
DESKTOP = {"width": 1366, "height": 768}
TABLET = {"width": 820, "height": 1180}


@pytest.fixture
async def hub(tmp_path: Path, redis_url: str, redis_client):  # type: ignore[no-untyped-def]
    async with running_hub(hub_config(tmp_path, redis_url)) as running:
        yield running


@asynccontextmanager
async def board_for(hub: Any, roster: Roster) -> AsyncIterator[Client]:
    async with client(hub.ws_url, "/ws/invigilator") as board:
        await logged_board(board, roster)
        yield board


async def act(board: Client, message: dict[str, Any]) -> None:
    reply = await board.request(message)
    assert reply["type"] == "ack", reply


async def new_page(browser: Browser, hub: Any, viewport: dict[str, int] = DESKTOP) -> Page:
    context: BrowserContext = await browser.new_context(viewport=viewport, locale="fr-FR")
    page = await context.new_page()
    await page.goto(hub.url + "/")
    return page


async def check(page: Page, name: str) -> None:
    """No serious or critical axe-core violation; a screenshot for people to look at."""
    violations = await axe_violations(page)
    assert violations == [], [(v["id"], v["help"], len(v["nodes"])) for v in violations]
    await screenshot(page, f"student-{name}")


async def fill_join(page: Page, roster: Roster, index: int) -> None:
    person = roster.candidates[index]
    year, month, day = person["birthdate"].split("-")
    await page.get_by_label("Numéro de session").fill(str(roster.session_id))
    await page.get_by_label("Nom de famille").fill(person["last_name"].lower())
    await page.get_by_label("Prénom", exact=True).fill(person["first_name"])
    await page.get_by_label("Jour").fill(day)
    await page.get_by_label("Mois").fill(month)
    await page.get_by_label("Année").fill(year)


async def heading(page: Page) -> str:
    return await page.locator("#question-heading").inner_text()


async def question_number(page: Page) -> int:
    match = re.match(r"Question (\d+) sur 32", await heading(page))
    assert match, await heading(page)
    return int(match.group(1))


async def reach_question(page: Page, board: Client, roster: Roster, index: int) -> None:
    """Join, have presence confirmed, read the rules, enter the code: question 1 shows."""
    await fill_join(page, roster, index)
    await page.get_by_role("button", name="Rejoindre la session").click()
    await expect(page.get_by_role("heading", name="Vous avez rejoint la session")).to_be_visible(
        timeout=WAIT
    )
    await act(
        board, {"type": "confirm_presence", "candidate_ids": [roster.candidates[index]["id"]]}
    )
    await page.get_by_role("button", name="J'ai lu les consignes").click()
    await page.get_by_label("Code d'accès donné par votre surveillant").fill(roster.access_code)
    await page.get_by_role("button", name="Commencer le test").click()
    await expect(page.locator("#question-heading")).to_have_text("Question 1 sur 32", timeout=WAIT)


async def choose_answer(page: Page) -> str:
    """Pick the first option (or type a short answer); returns the question type."""
    if await page.locator("#short-answer").count():
        await page.get_by_label("Votre réponse").fill("réponse")
        return "short"
    kind = (
        "multiple" if await page.locator("#answer-area input[type=checkbox]").count() else "single"
    )
    await page.locator("#answer-area label").first.click()
    return kind


async def answer_current(page: Page) -> str:
    kind = await choose_answer(page)
    await page.get_by_role("button", name="Valider ma réponse").click()
    await page.get_by_role("button", name="Confirmer ma réponse").click()
    return kind


@pytest.mark.timeout(240)
async def test_a_whole_test_from_join_to_the_end(browser: Browser, hub: Any) -> None:
    roster = await planned_session(hub.hub)
    page = await new_page(browser, hub)
    async with board_for(hub, roster) as board:
        await expect(page.get_by_role("heading", name=re.compile("Rejoindre"))).to_be_visible(
            timeout=WAIT
        )
        await check(page, "join")
        await page.get_by_role("button", name="Rejoindre la session").click()
        await expect(page.locator("#join-error")).to_contain_text("numéro de session")
        await fill_join(page, roster, 0)
        await page.get_by_label("Année").fill("2011")
        await page.get_by_role("button", name="Rejoindre la session").click()
        await expect(page.locator("#join-error")).to_contain_text("feuille d'émargement")
        await check(page, "join-error")
        await page.get_by_label("Année").fill(roster.candidates[0]["birthdate"][:4])
        await page.get_by_role("button", name="Rejoindre la session").click()

        await expect(
            page.get_by_role("heading", name="Vous avez rejoint la session")
        ).to_be_visible(timeout=WAIT)
        await expect(page.locator("#who")).to_have_text("Aïssatou N'Diaye")
        await check(page, "waiting")
        await act(
            board, {"type": "confirm_presence", "candidate_ids": [roster.candidates[0]["id"]]}
        )
        await expect(
            page.get_by_role("heading", name=re.compile("lisez les consignes"))
        ).to_be_focused(timeout=WAIT)
        await check(page, "instructions")
        await page.get_by_role("button", name="J'ai lu les consignes").click()
        code = page.get_by_label("Code d'accès donné par votre surveillant")
        await code.fill("BBBB22")
        await page.get_by_role("button", name="Commencer le test").click()
        await expect(page.locator("#code-error")).to_contain_text("Code d'accès incorrect")
        await check(page, "code")
        await code.fill(roster.access_code.lower())  # case-insensitive
        await page.get_by_role("button", name="Commencer le test").click()

        heading_box = page.locator("#question-heading")
        await expect(heading_box).to_have_text("Question 1 sur 32", timeout=WAIT)
        await expect(heading_box).to_be_focused()
        await expect(page.locator("#clock-value")).to_have_text(re.compile(r"^2 h 1\d min$"))
        await check(page, "question")
        kinds = set()
        for number in range(1, 33):
            await expect(heading_box).to_have_text(f"Question {number} sur 32", timeout=WAIT)
            kind = await choose_answer(page)
            kinds.add(kind)
            await page.get_by_role("button", name="Valider ma réponse").click()
            confirm = page.get_by_role("button", name="Confirmer ma réponse")
            await expect(confirm).to_be_visible()
            if number == 1:
                await check(page, "confirm")
            await confirm.click()
            if number < 32:
                await expect(heading_box).to_have_text(
                    f"Question {number + 1} sur 32", timeout=WAIT
                )
                await expect(heading_box).to_be_focused()
                await expect(page.locator("#saved")).to_have_text(
                    f"Réponse à la question {number} enregistrée."
                )
                if kind == "short" and "short-shot" not in kinds:
                    kinds.add("short-shot")
        await expect(page.get_by_role("heading", name="Votre test est terminé")).to_be_visible(
            timeout=WAIT
        )
        await check(page, "ended")
        assert {"single", "multiple"} <= kinds, kinds
        finished = await board.expect(lambda m: m.get("event", {}).get("type") == "finish")
        assert finished["event"]["status"] == "finished"


async def test_a_network_cut_resumes_by_itself_on_the_same_question(
    browser: Browser, hub: Any
) -> None:
    roster = await planned_session(hub.hub)
    page = await new_page(browser, hub)
    async with board_for(hub, roster) as board:
        await reach_question(page, board, roster, 1)
        await answer_current(page)
        await expect(page.locator("#question-heading")).to_have_text(
            "Question 2 sur 32", timeout=WAIT
        )

        await page.context.set_offline(True)
        await expect(page.locator("#connection-banner")).to_be_visible(timeout=WAIT)
        await check(page, "reconnecting")
        await board.expect(lambda m: m.get("event", {}).get("type") == "disconnect")
        # An answer confirmed while offline is kept, then sent once the page is back.
        await answer_current(page)
        await expect(page.locator("#sending-panel")).to_be_visible()

        await page.context.set_offline(False)
        await board.expect(lambda m: m.get("event", {}).get("type") == "reconnect", timeout=20)
        await expect(page.locator("#connection-banner")).to_be_hidden(timeout=WAIT)
        await expect(page.locator("#question-heading")).to_have_text(
            "Question 3 sur 32", timeout=WAIT
        )
        await expect(page.locator("#saved")).to_have_text("Réponse à la question 2 enregistrée.")
        assert sorted(
            await hub.hub.live.answers(roster.session_id, roster.candidates[1]["id"])
        ) == [
            1,
            2,
        ]


async def test_a_reload_waits_for_the_invigilator_then_resumes(browser: Browser, hub: Any) -> None:
    roster = await planned_session(hub.hub)
    page = await new_page(browser, hub, TABLET)
    candidate_id = roster.candidates[4]["id"]
    async with board_for(hub, roster) as board:
        await reach_question(page, board, roster, 4)
        await answer_current(page)
        await expect(page.locator("#question-heading")).to_have_text(
            "Question 2 sur 32", timeout=WAIT
        )
        await screenshot(page, "student-question-tablet")
        text = await page.locator("#question-text").inner_text()
        deadline = await page.locator("#clock").get_attribute("data-deadline")
        assert deadline

        await page.reload()
        await expect(page.get_by_role("heading", name="Appelez votre surveillant")).to_be_visible(
            timeout=WAIT
        )
        await check(page, "resume-required")
        await board.expect(lambda m: m.get("event", {}).get("reason") == "closed")

        await act(board, {"type": "authorize_resume", "candidate_id": candidate_id})
        await expect(page.locator("#question-heading")).to_have_text(
            "Question 2 sur 32", timeout=WAIT
        )
        await expect(page.locator("#question-heading")).to_be_focused()
        await expect(page.locator("#question-text")).to_have_text(text)
        assert await page.locator("#clock").get_attribute("data-deadline") == deadline
        await answer_current(page)
        await expect(page.locator("#question-heading")).to_have_text(
            "Question 3 sur 32", timeout=WAIT
        )


async def test_ended_by_the_invigilator_shows_the_end_at_once(browser: Browser, hub: Any) -> None:
    roster = await planned_session(hub.hub)
    page = await new_page(browser, hub)
    async with board_for(hub, roster) as board:
        await reach_question(page, board, roster, 0)
        await act(board, {"type": "end_test", "candidate_id": roster.candidates[0]["id"]})
        await expect(
            page.get_by_role("heading", name="Votre surveillant a terminé votre test")
        ).to_be_visible(timeout=WAIT)
        await check(page, "ended-by-invigilator")


async def test_the_live_alert_both_ways(browser: Browser, hub: Any) -> None:
    roster = await planned_session(hub.hub)
    page = await new_page(browser, hub)
    candidate_id = roster.candidates[0]["id"]
    async with board_for(hub, roster) as board:
        await reach_question(page, board, roster, 0)
        first_text = await page.locator("#question-text").inner_text()

        # Validated: the question is dropped and a replacement comes, same number.
        await page.get_by_role("button", name="Signaler un problème").click()
        await expect(page.locator("#alert-heading")).to_be_focused()
        await check(page, "alert-form")
        await page.get_by_label("L'image ne s'affiche pas").check()
        await page.get_by_role("button", name="Envoyer le signalement").click()
        await expect(page.get_by_role("heading", name="Signalement envoyé")).to_be_visible(
            timeout=WAIT
        )
        await expect(page.get_by_role("button", name="Valider ma réponse")).to_be_hidden()
        await check(page, "alert-waiting")
        await board.expect(lambda m: m.get("event", {}).get("type") == "raise_alert")
        await act(
            board, {"type": "validate_alert", "candidate_id": candidate_id, "subcategory": "E1"}
        )
        await expect(page.locator("#saved")).to_contain_text("nouvelle question", timeout=WAIT)
        await expect(page.locator("#question-heading")).to_have_text("Question 1 sur 32")
        await expect(page.locator("#question-text")).not_to_have_text(first_text)
        await check(page, "alert-validated")
        second_text = await page.locator("#question-text").inner_text()

        # Dismissed: the same question, answerable again.
        await page.get_by_role("button", name="Signaler un problème").click()
        await page.get_by_label("Le site est indisponible").check()
        await page.get_by_role("button", name="Envoyer le signalement").click()
        await expect(page.get_by_role("heading", name="Signalement envoyé")).to_be_visible(
            timeout=WAIT
        )
        await act(board, {"type": "dismiss_alert", "candidate_id": candidate_id})
        await expect(page.locator("#saved")).to_contain_text("examiné le signalement", timeout=WAIT)
        await expect(page.get_by_role("button", name="Valider ma réponse")).to_be_visible()
        await expect(page.locator("#question-text")).to_have_text(second_text)
        await check(page, "alert-dismissed")
        await answer_current(page)
        await expect(page.locator("#question-heading")).to_have_text(
            "Question 2 sur 32", timeout=WAIT
        )


async def test_time_granted_and_warnings_reach_the_page(browser: Browser, hub: Any) -> None:
    roster = await planned_session(hub.hub)
    page = await new_page(browser, hub)
    candidate_id = roster.candidates[1]["id"]
    async with board_for(hub, roster) as board:
        await reach_question(page, board, roster, 1)
        before = float(await page.locator("#clock").get_attribute("data-deadline") or 0)
        grant = {"type": "grant_time", "candidate_id": candidate_id, "minutes": 10,
                 "reason": "Panne du poste"}  # fmt: skip
        await act(board, grant)
        await expect(page.locator("#announce")).to_contain_text("10 minutes de plus", timeout=WAIT)
        after = float(await page.locator("#clock").get_attribute("data-deadline") or 0)
        assert after == pytest.approx(before + 600)
        # The server's clock jumps to 14 minutes before the deadline: the page measures the
        # new offset with its pings and warns, though its own clock did not move.
        shift = after - 14 * 60 - time.time()
        hub.hub.clock = lambda: time.time() + shift
        await expect(page.locator("#alarm")).to_have_text(
            "Attention : il reste 15 minutes.", timeout=WAIT
        )
        await expect(page.locator("#time-banner")).to_be_visible()
        await expect(page.locator("#clock-value")).to_have_text(re.compile(r"^1[34] min$"))
        await check(page, "time-warning")


async def tab_to(page: Page, selector: str, limit: int = 15) -> None:
    """Press Tab until ``selector`` has the focus: the keyboard path a candidate takes."""
    target = page.locator(selector)
    for _ in range(limit):
        if await target.evaluate("el => el === document.activeElement"):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


async def test_keyboard_only_from_join_to_an_answer(browser: Browser, hub: Any) -> None:
    roster = await planned_session(hub.hub)
    page = await new_page(browser, hub)
    person = roster.candidates[4]
    year, month, day = person["birthdate"].split("-")
    async with board_for(hub, roster) as board:
        await expect(page.locator("#screen-join h1")).to_be_focused(timeout=WAIT)
        for selector, text in [("#session", str(roster.session_id)),
                               ("#last-name", person["last_name"]),
                               ("#first-name", person["first_name"]),
                               ("#birth-day", day), ("#birth-month", month),
                               ("#birth-year", year)]:  # fmt: skip
            await tab_to(page, selector)
            await page.keyboard.type(text)
        await page.keyboard.press("Enter")
        await expect(page.locator("#screen-waiting h1")).to_be_focused(timeout=WAIT)
        await act(board, {"type": "confirm_presence", "candidate_ids": [person["id"]]})
        await expect(page.locator("#screen-instructions h1")).to_be_focused(timeout=WAIT)
        await tab_to(page, "#rules-done")
        await page.keyboard.press("Enter")
        await tab_to(page, "#access-code")
        await page.keyboard.type(roster.access_code.lower())
        await page.keyboard.press("Enter")
        await expect(page.locator("#question-heading")).to_be_focused(timeout=WAIT)

        first = page.locator("#answer-area input").first
        await tab_to(page, "#answer-area input >> nth=0")
        if await page.locator("#short-answer").count():
            await page.keyboard.type("réponse")
        else:
            await page.keyboard.press("Space")
            await expect(first).to_be_checked()
        await tab_to(page, "#answer-submit")
        await page.keyboard.press("Enter")
        await expect(page.locator("#confirm-heading")).to_be_focused()
        await page.keyboard.press("Escape")  # back out, then confirm for real
        await expect(page.locator("#confirm-panel")).to_be_hidden()
        await tab_to(page, "#answer-submit")
        await page.keyboard.press("Enter")
        await tab_to(page, "#confirm-yes")
        await page.keyboard.press("Enter")
        await expect(page.locator("#question-heading")).to_have_text(
            "Question 2 sur 32", timeout=WAIT
        )
        await expect(page.locator("#question-heading")).to_be_focused()


async def test_a_second_page_takes_over_and_the_first_is_told(browser: Browser, hub: Any) -> None:
    roster = await planned_session(hub.hub)
    first = await new_page(browser, hub)
    second = await new_page(browser, hub)
    candidate_id = roster.candidates[1]["id"]
    async with board_for(hub, roster) as board:
        await reach_question(first, board, roster, 1)
        await fill_join(second, roster, 1)
        await second.get_by_role("button", name="Rejoindre la session").click()
        await expect(second.get_by_role("heading", name="Appelez votre surveillant")).to_be_visible(
            timeout=WAIT
        )
        await act(board, {"type": "authorize_resume", "candidate_id": candidate_id})
        await expect(second.locator("#question-heading")).to_have_text(
            "Question 1 sur 32", timeout=WAIT
        )
        # The old page is told at once, without any action of its own.
        await expect(
            first.get_by_role("heading", name="Votre test est ouvert sur une autre page")
        ).to_be_visible(timeout=WAIT)
        await check(first, "replaced")
        await answer_current(second)
        await expect(second.locator("#question-heading")).to_have_text(
            "Question 2 sur 32", timeout=WAIT
        )
