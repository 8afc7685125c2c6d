"""The invigilator's board (clients/invigilator/) in a real Chromium against a real hub.

Candidates are real WebSocket clients (hubkit) that heartbeat like a page does; the board
is the real page. Every wait is Playwright's ``expect`` or hubkit's ``expect``, with a
deadline; screenshots of each state land in tests/screenshots/board-*.png.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from browserkit import axe_violations, browser, screenshot
from conftest import UNIT
from hubkit import (
    Client,
    Roster,
    client,
    hub_config,
    joined_candidate,
    logged_board,
    planned_session,
    running_hub,
)

__all__ = ["browser"]  # the fixture, imported for this module's tests

pytestmark = pytest.mark.browser

WAIT_MS = 10_000 * UNIT
LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}


@pytest.fixture
async def hub(tmp_path: Path, redis_url: str, redis_client):  # type: ignore[no-untyped-def]
    async with running_hub(hub_config(tmp_path, redis_url)) as running:
        yield running


class Candidate:
    """A candidate's page: a WebSocket client that heartbeats every 2 s while open."""

    def __init__(self, c: Client, candidate_id: int) -> None:
        self.c = c
        self.id = candidate_id
        self.beat = asyncio.get_running_loop().create_task(self._beat())

    async def _beat(self) -> None:
        while self.c.closed_code is None:
            with contextlib.suppress(Exception):
                await self.c.send({"type": "heartbeat"})
            await asyncio.sleep(2)

    async def close(self) -> None:
        self.beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.beat
        if self.c.closed_code is None:
            await self.c.close()


@contextlib.asynccontextmanager
async def candidate(hub: Any, roster: Roster, index: int) -> AsyncIterator[Candidate]:
    async with client(hub.ws_url, "/ws/candidate") as c:
        joined = await joined_candidate(c, roster, index)
        assert joined["type"] == "joined", joined
        page = Candidate(c, joined["candidate_id"])
        try:
            yield page
        finally:
            await page.close()


async def open_board(browser: Browser, hub: Any, roster: Roster, **context: Any) -> Page:
    ctx = await browser.new_context(
        viewport=context.pop("viewport", LAPTOP), locale="fr-FR", **context
    )
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    await page.goto(hub.url + "/surveillant/")
    await page.get_by_label("Numéro de session").fill(str(roster.session_id))
    await page.get_by_label("Mot de passe de session").fill(roster.password)
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page.locator("#connection")).to_have_attribute(
        "data-state", "online", timeout=WAIT_MS
    )
    await expect(page.locator("#rows tr")).to_have_count(len(roster.candidates), timeout=WAIT_MS)
    return page


def row(page: Page, cid: int) -> Any:
    return page.locator(f'#rows tr[data-cid="{cid}"]')


async def press(page: Page, cid: int, action: str) -> None:
    """Click the row's button whose accessible name starts with ``action``."""
    await row(page, cid).get_by_role("button", name=re.compile("^" + re.escape(action))).click()


async def expect_status(page: Page, cid: int, label: str) -> None:
    await expect(row(page, cid).locator(".status")).to_have_text(label, timeout=WAIT_MS)


async def statuses(page: Page) -> dict[str, str]:
    result: dict[str, str] = await page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#rows tr')].map(
            (tr) => [tr.dataset.cid, tr.querySelector('.status').textContent]))"""
    )
    return result


async def no_serious_violations(page: Page) -> None:
    violations = await axe_violations(page)
    assert not violations, [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in violations
    ]


async def test_wrong_password_is_refused_in_french(hub, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    roster = await planned_session(hub.hub)
    ctx = await browser.new_context(viewport=LAPTOP, locale="fr-FR")
    page = await ctx.new_page()
    await page.goto(hub.url + "/surveillant/")
    await no_serious_violations(page)
    await screenshot(page, "board-login")
    await page.get_by_label("Numéro de session").fill(str(roster.session_id))
    await page.get_by_label("Mot de passe de session").fill("mauvais")
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page.locator("#login-error")).to_have_text(
        "Numéro de session ou mot de passe incorrect.", timeout=WAIT_MS
    )
    await expect(page.locator("#board-view")).to_be_hidden()
    await ctx.close()


async def test_the_board_follows_candidates_and_its_actions_reach_them(
    hub, browser: Browser
) -> None:  # type: ignore[no-untyped-def]
    roster = await planned_session(hub.hub)
    page = await open_board(browser, hub, roster)
    ids = [c["id"] for c in roster.candidates]
    for cid in ids:
        await expect_status(page, cid, "Inscrit")
    await expect(page.locator("#s-room")).to_have_text("Salle 12")
    await expect(page.locator("#s-code")).to_be_hidden()
    await no_serious_violations(page)
    await screenshot(page, "board-registered")

    async with contextlib.AsyncExitStack() as stack:
        aissatou = await stack.enter_async_context(candidate(hub, roster, 0))
        lea = await stack.enter_async_context(candidate(hub, roster, 1))
        noe = await stack.enter_async_context(candidate(hub, roster, 4))

        # Confirm one presence from its row; it reaches the candidate's page.
        await press(page, aissatou.id, "Confirmer la présence")
        await aissatou.c.expect("presence_confirmed")
        await expect_status(page, aissatou.id, "Présent")
        await expect(page.locator("#action-result")).to_contain_text("Présence confirmée")

        # Confirm the selected ones at once.
        await row(page, lea.id).locator("input.select").check()
        await row(page, noe.id).locator("input.select").check()
        await page.get_by_role("button", name="Confirmer la présence de la sélection (2)").click()
        await lea.c.expect("presence_confirmed")
        await noe.c.expect("presence_confirmed")
        await expect_status(page, lea.id, "Présent")
        await expect_status(page, noe.id, "Présent")
        # The non-eligible candidate cannot be selected nor confirmed.
        bonnet = ids[3]
        await expect(row(page, bonnet).locator("input.select")).to_be_hidden()
        await expect(row(page, bonnet)).to_contain_text("non certifiable")

        # Cancel a presence: pushed to the candidate; then confirm again.
        await press(page, noe.id, "Annuler la présence")
        await noe.c.expect("presence_cancelled")
        await expect_status(page, noe.id, "Inscrit")
        await press(page, noe.id, "Confirmer la présence")
        await noe.c.expect("presence_confirmed")
        await expect_status(page, noe.id, "Présent")
        await screenshot(page, "board-present")

        # Reveal the access code, then the candidates start with it.
        await page.get_by_role("button", name="Afficher le code d'accès").click()
        await expect(page.locator("#s-code")).to_have_text(roster.access_code, timeout=WAIT_MS)
        first_question = {}
        for who in (aissatou, lea, noe):
            started = await who.c.request({"type": "start", "access_code": roster.access_code})
            assert started["type"] == "started", started
            first_question[who.id] = await who.c.expect("question")
        for who in (aissatou, lea, noe):
            await expect_status(page, who.id, "En cours")
        await expect(row(page, lea.id)).to_contain_text("1 / 32")
        await expect(page.locator("#s-first-start")).not_to_have_text("pas encore")

        # Answers move the question number; heartbeats show as "vu il y a".
        await answer(lea.c, first_question[lea.id])
        await expect(row(page, lea.id)).to_contain_text("2 / 32", timeout=WAIT_MS)
        await expect(row(page, lea.id).locator(".seen")).to_contain_text(
            "vu il y a", timeout=WAIT_MS
        )
        await screenshot(page, "board-in-progress")

        # A live alert: first row, banner, badge; validated with an E-subcategory.
        alert = await aissatou.c.request({"type": "alert", "category": "E1"})
        assert alert["type"] == "alert_raised", alert
        await expect(page.locator("#alert-banner")).to_be_visible(timeout=WAIT_MS)
        await expect(page.locator("#rows tr").first).to_have_attribute("data-cid", str(aissatou.id))
        await expect(row(page, aissatou.id).locator(".badge-alert")).to_have_text(
            "⚠ Signalement E1"
        )
        await no_serious_violations(page)
        await screenshot(page, "board-alert")
        await press(page, aissatou.id, "Traiter le signalement")
        dialog = page.locator("#dlg-alert")
        await expect(dialog).to_be_visible()
        await dialog.get_by_label("Catégorie retenue").select_option("E4")
        await screenshot(page, "board-alert-dialog")
        await dialog.get_by_role("button", name="Valider : remplacer la question").click()
        await aissatou.c.expect("alert_validated")
        current = await aissatou.c.expect("question")
        assert current["question_number"] == 1
        await expect(page.locator("#alert-banner")).to_be_hidden(timeout=WAIT_MS)
        await expect(row(page, aissatou.id).locator(".badge-alert")).to_have_count(0)

        # Another alert, dismissed: the candidate answers the same question.
        await aissatou.c.request({"type": "alert", "category": "E3"})
        await expect(row(page, aissatou.id).locator(".badge-alert")).to_be_visible(timeout=WAIT_MS)
        await (
            page.locator("#alert-banner").get_by_role("button", name=re.compile("^Traiter")).click()
        )
        await (
            page.locator("#dlg-alert").get_by_role("button", name="Refuser : même question").click()
        )
        await aissatou.c.expect("alert_dismissed")
        await expect(row(page, aissatou.id).locator(".badge-alert")).to_have_count(
            0, timeout=WAIT_MS
        )

        # Extra time with a reason: the new deadline reaches the candidate.
        await press(page, noe.id, "Temps +")
        time_dialog = page.locator("#dlg-time")
        await time_dialog.get_by_label("Minutes supplémentaires").fill("10")
        await time_dialog.get_by_label("Raison").fill("Temps perdu : problème technique")
        await time_dialog.get_by_role("button", name="Accorder le temps").click()
        granted = await noe.c.expect("time_granted")
        assert granted["minutes"] == 10
        await expect(row(page, noe.id)).to_contain_text("dont +10 min accordées", timeout=WAIT_MS)
        end = (
            await row(page, noe.id).locator('td[data-label="Fin prévue"] > span').first.inner_text()
        )
        await expect(page.locator("#action-result")).to_have_text(
            f"10 min accordées à Dubois Noé. Nouvelle fin : {end}."
        )

        # A page closes: disconnected at once; a new page waits for the authorization.
        await lea.close()
        await expect_status(page, lea.id, "Déconnecté")
        await expect(row(page, lea.id).locator(".seen")).to_contain_text("déconnecté depuis")
        await screenshot(page, "board-disconnected")
        lea_again = await stack.enter_async_context(candidate(hub, roster, 1))
        await lea_again.c.expect("resume_required")
        await press(page, lea.id, "Autoriser la reprise")
        resumed = await lea_again.c.expect("resumed")
        assert resumed["deadline"]
        await expect_status(page, lea.id, "En cours")
        await expect(row(page, lea.id)).to_contain_text("2 / 32")

        # An incident on the report, with its question number.
        await press(page, aissatou.id, "Incident")
        incident = page.locator("#dlg-incident")
        await incident.get_by_label("Catégorie").select_option("E9")
        await incident.get_by_label("Numéro de la question").fill("3")
        await incident.get_by_label("Description").fill(
            "Le tableur ne s'ouvre pas <b>ni</b> ne répond."
        )
        await screenshot(page, "board-incident-dialog")
        await incident.get_by_role("button", name="Consigner l'incident").click()
        await expect(page.locator("#incident-count")).to_have_text("1", timeout=WAIT_MS)
        await expect(page.locator("#incident-list")).to_contain_text("<b>ni</b>")  # shown as text
        stored = await hub.hub.live.incidents(roster.session_id)
        assert stored[0]["category"] == "E9" and stored[0]["question_number"] == 3

        # End a test: a confirm dialog first; the candidate's page is told.
        await press(page, noe.id, "Terminer")
        confirm = page.locator("#dlg-confirm")
        await expect(confirm).to_contain_text("irréversible")
        await screenshot(page, "board-end-confirm")
        await confirm.get_by_role("button", name="Annuler").click()
        await expect_status(page, noe.id, "En cours")
        await press(page, noe.id, "Terminer")
        await confirm.get_by_role("button", name="Terminer le test").click()
        ended = await noe.c.expect("test_ended")
        assert ended["status"] == "ended_by_invigilator"
        await expect_status(page, noe.id, "Arrêté par le surveillant")

        # A candidate finishes the 32 questions.
        question = current
        while True:
            await answer(aissatou.c, question)
            if question["question_number"] == 32:
                break
            question = await aissatou.c.expect("question")
        await aissatou.c.expect("test_ended")
        await expect_status(page, aissatou.id, "Terminé")
        await no_serious_violations(page)
        await screenshot(page, "board-mixed")
    assert page.errors == []  # type: ignore[attr-defined]


async def answer(c: Client, question: dict[str, Any]) -> None:
    q = question["question"]
    value: Any = "réponse" if q["type"] == "short" else q["options"][0]["id"]
    if q["type"] == "multiple":
        value = [value]
    ack = await c.request(
        {"type": "answer", "question_number": question["question_number"], "answer": value}
    )
    assert ack["type"] == "answer_ack", ack


async def confirmed_and_started(hub: Any, roster: Roster, who: list[Candidate]) -> None:
    """Presence confirmed by a board WebSocket client, then each candidate starts."""
    async with client(hub.ws_url, "/ws/invigilator") as other:
        await logged_board(other, roster)
        ack = await other.request(
            {"type": "confirm_presence", "candidate_ids": [c.id for c in who]}
        )
        assert ack["type"] == "ack", ack
    for c in who:
        await c.c.expect("presence_confirmed")
        started = await c.c.request({"type": "start", "access_code": roster.access_code})
        assert started["type"] == "started", started


async def test_two_boards_stay_identical_and_a_lost_race_is_explained(  # type: ignore[no-untyped-def]
    hub, browser: Browser
) -> None:
    roster = await planned_session(hub.hub)
    first = await open_board(browser, hub, roster)
    second = await open_board(browser, hub, roster)
    async with candidate(hub, roster, 0) as aissatou, candidate(hub, roster, 4) as noe:
        await press(first, aissatou.id, "Confirmer la présence")
        await press(second, noe.id, "Confirmer la présence")
        await aissatou.c.expect("presence_confirmed")
        await noe.c.expect("presence_confirmed")
        for board in (first, second):
            await expect_status(board, aissatou.id, "Présent")
            await expect_status(board, noe.id, "Présent")
        for c in (aissatou, noe):
            assert (await c.c.request({"type": "start", "access_code": roster.access_code}))[
                "type"
            ] == "started"
        for board in (first, second):
            await expect_status(board, noe.id, "En cours")

        # The first board opens "Temps +" while the second ends the same test: the first
        # board's request loses and says why, in French.
        await press(first, noe.id, "Temps +")
        dialog = first.locator("#dlg-time")
        await dialog.get_by_label("Minutes supplémentaires").fill("5")
        await dialog.get_by_label("Raison").fill("Aménagement d'épreuve")
        await press(second, noe.id, "Terminer")
        await second.locator("#dlg-confirm").get_by_role("button", name="Terminer le test").click()
        await noe.c.expect("test_ended")
        await dialog.get_by_role("button", name="Accorder le temps").click()
        await expect(dialog.locator(".form-error")).to_have_text(
            "Impossible d'accorder du temps : le candidat est « Arrêté par le surveillant ».",
            timeout=WAIT_MS,
        )
        await screenshot(first, "board-conflict")
        await dialog.get_by_role("button", name="Annuler").click()
        await expect(dialog).to_be_hidden()

        await expect_status(first, noe.id, "Arrêté par le surveillant")
        await expect_status(second, noe.id, "Arrêté par le surveillant")
        assert await statuses(first) == await statuses(second)
        assert (
            await first.locator("#counters").inner_text()
            == await second.locator("#counters").inner_text()
        )


async def test_a_board_that_was_offline_catches_up(hub, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    roster = await planned_session(hub.hub)
    page = await open_board(browser, hub, roster)
    logins: list[dict[str, Any]] = []

    def on_socket(ws: Any) -> None:
        ws.on("framesent", lambda payload: logins.append(json.loads(payload)))

    page.on("websocket", on_socket)
    async with candidate(hub, roster, 1) as lea, candidate(hub, roster, 2) as homonym:
        await press(page, lea.id, "Confirmer la présence")
        await expect_status(page, lea.id, "Présent")

        await page.context.set_offline(True)
        await expect(page.locator("#connection")).to_have_attribute("data-state", "offline")
        await expect(page.locator("#connection")).to_have_text("Hors ligne")
        await expect(page.locator("#stale-banner")).to_contain_text("Hors ligne depuis")
        # An action while offline is not sent, and the board says so.
        await press(page, roster.candidates[0]["id"], "Confirmer la présence")
        await expect(page.locator("#action-result")).to_contain_text(
            "Pas de connexion au serveur : l'action n'a pas été envoyée."
        )
        # Meanwhile, in the room: starts, answers, a second confirmation, a closed page.
        await confirmed_and_started(hub, roster, [homonym])
        await lea.c.request({"type": "start", "access_code": roster.access_code})
        question = await lea.c.expect("question")
        await answer(lea.c, question)
        await homonym.close()
        await screenshot(page, "board-offline")
        await expect_status(page, lea.id, "Présent")  # nothing reached the offline board

        await page.context.set_offline(False)
        await expect(page.locator("#connection")).to_have_attribute(
            "data-state", "online", timeout=WAIT_MS
        )
        await expect(page.locator("#stale-banner")).to_be_hidden()
        await expect_status(page, lea.id, "En cours")
        await expect_status(page, homonym.id, "Déconnecté")
        await expect(row(page, lea.id)).to_contain_text("2 / 32")
        await screenshot(page, "board-caught-up")

    # It logged in again from its last (epoch, seq) and got the missing events, not a snapshot.
    relogin = [m for m in logins if m.get("type") == "login"]
    assert relogin and relogin[-1]["epoch"] and relogin[-1]["seq"] > 0, relogin
    caught_up = await page.evaluate("document.body.dataset.caughtUp")
    assert int(caught_up) > relogin[-1]["seq"]
    assert await page.evaluate("vigieBoard.board.seq") >= int(caught_up)  # then live events


async def test_overdue_tests_are_highlighted_and_ended_together(hub, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    roster = await planned_session(hub.hub)
    async with (
        candidate(hub, roster, 0) as aissatou,
        candidate(hub, roster, 1) as lea,
        candidate(hub, roster, 4) as noe,
    ):
        await confirmed_and_started(hub, roster, [aissatou, lea, noe])
        # Léa started 106 minutes ago (105 min regulatory time, no extra time): overdue.
        # Aïssatou too, but her 33 % extra time keeps her within her personal time.
        long_ago = hub.hub.now() - 106 * 60
        for late in (lea, aissatou):
            await hub.hub.live.set_fields(roster.session_id, late.id, started_at=repr(long_ago))
        await noe.c.request({"type": "alert", "category": "E2"})

        page = await open_board(browser, hub, roster)
        order = page.locator("#rows tr")
        await expect(order.nth(0)).to_have_attribute("data-cid", str(noe.id))  # alert first
        await expect(order.nth(1)).to_have_attribute("data-cid", str(lea.id))  # then overtime
        await expect(row(page, lea.id).locator(".badge-overdue")).to_have_text("Hors délai")
        await expect(row(page, lea.id)).to_have_class(re.compile("overdue"))
        await expect(row(page, aissatou.id).locator(".badge-overdue")).to_have_count(0)
        await expect(row(page, lea.id).locator(".remaining")).to_contain_text("dépassé de")
        await no_serious_violations(page)
        await screenshot(page, "board-overdue")

        tablet = await open_board(browser, hub, roster, viewport=TABLET, has_touch=True)
        await no_serious_violations(tablet)
        await screenshot(tablet, "board-tablet")

        await page.get_by_role("button", name="Terminer les tests hors délai (1)").click()
        await expect(page.locator("#dlg-confirm")).to_contain_text("Martin Léa")
        await (
            page.locator("#dlg-confirm")
            .get_by_role("button", name="Terminer les tests hors délai")
            .click()
        )
        ended = await lea.c.expect("test_ended")
        assert ended["status"] == "ended_by_invigilator"
        await expect_status(page, lea.id, "Arrêté par le surveillant")
        await expect_status(tablet, lea.id, "Arrêté par le surveillant")
        await expect(page.locator("#action-result")).to_have_text(
            "Tests hors délai terminés : Martin Léa."
        )
        await expect(
            page.get_by_role("button", name="Terminer les tests hors délai (0)")
        ).to_be_disabled()
        await expect_status(page, aissatou.id, "En cours")
