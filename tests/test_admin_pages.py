"""The school admin's pages (clients/admin/) in a real Chromium against a real hub.

The school and its admin are made through the hub's records; everything else goes through
the pages. Every screen is checked with axe-core and saved as
``tests/screenshots/admin-<screen>.png``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page, expect

from browserkit import axe_violations, browser, screenshot
from conftest import UNIT
from hubkit import hub_config, running_hub
from vigie.records import Records, SessionRecord

__all__ = ["browser"]  # the fixture, re-exported for pytest

pytestmark = pytest.mark.browser

WAIT = 10_000 * UNIT  # milliseconds, for Playwright's expect
DESKTOP = {"width": 1366, "height": 900}
PASSWORD = "mot-de-passe-2026"
ROSTER_HEADER = "Nom;Prénom;Date de naissance;Temps majoré (%);Identifiant externe;E-mail"


@dataclass
class School:
    id: int
    email: str
    records: Records


@pytest.fixture
async def hub(tmp_path: Path, redis_url: str, redis_client):  # type: ignore[no-untyped-def]
    async with running_hub(hub_config(tmp_path, redis_url)) as running:
        yield running


async def new_school(hub: Any, name: str, email: str, timezone: str = "Europe/Paris") -> School:
    records: Records = hub.hub.records
    school = await records.create_school(name, timezone=timezone)
    await records.create_staff(email, PASSWORD, "admin", school.id, name="Mme Admin")
    return School(school.id, email, records)


@pytest.fixture
async def school(hub: Any) -> School:
    return await new_school(hub, "Collège Jean Moulin", "admin@college.test")


async def new_page(browser: Browser, hub: Any, path: str = "/admin/") -> Page:
    context = await browser.new_context(viewport=DESKTOP, locale="fr-FR")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    await page.goto(hub.url + path)
    return page


async def check(page: Page, name: str) -> None:
    """No serious or critical axe-core violation, no script error; a screenshot to look at."""
    violations = await axe_violations(page)
    assert violations == [], [(v["id"], v["help"], len(v["nodes"])) for v in violations]
    assert page.errors == []  # type: ignore[attr-defined]
    await screenshot(page, f"admin-{name}")


async def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    await page.get_by_label("Adresse e-mail").fill(email)
    await page.get_by_label("Mot de passe").fill(password)
    await page.get_by_role("button", name="Se connecter").click()


async def logged_in(browser: Browser, hub: Any, school: School) -> Page:
    page = await new_page(browser, hub)
    await log_in(page, school.email)
    await expect(page.locator("#screen-sessions h1")).to_be_focused(timeout=WAIT)
    return page


async def planned(school: School, room: str = "Salle 12", days: int = 7) -> SessionRecord:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    return await school.records.create_session(
        school.id, starts, room=room, address="1 rue de l'École, 75005 Paris",
        examiner="M. Dupont",
    )  # fmt: skip


async def open_session(page: Page, number: int) -> None:
    await page.goto(page.url.split("#")[0] + f"#/sessions/{number}")
    await expect(page.locator("#session-title")).to_have_text(f"Session n° {number}")
    await expect(page.locator("#session-body")).to_be_visible(timeout=WAIT)


def roster_file(tmp_path: Path, name: str, rows: list[str]) -> Path:
    """A roster as a French spreadsheet saves it: UTF-8 with BOM, ';', CRLF."""
    path = tmp_path / name
    path.write_bytes(("\r\n".join([ROSTER_HEADER, *rows]) + "\r\n").encode("utf-8-sig"))
    return path


def rows(page: Page) -> Any:
    return page.locator("#candidate-rows tr")


async def test_login_refuses_a_wrong_password_then_logs_in_and_out(
    browser: Browser, hub: Any, school: School
) -> None:
    page = await new_page(browser, hub)
    await expect(page.locator("#screen-login h1")).to_be_visible(timeout=WAIT)
    await expect(page.get_by_label("Adresse e-mail")).to_be_focused()
    await check(page, "login")

    await log_in(page, school.email, "pas-le-bon")
    error = page.locator("#login-error")
    await expect(error).to_have_text("Adresse e-mail ou mot de passe incorrect.", timeout=WAIT)
    await expect(error).to_be_focused()
    await expect(page.get_by_label("Mot de passe")).to_have_value("")
    await check(page, "login-error")

    await log_in(page, school.email)
    await expect(page.locator("#screen-sessions h1")).to_be_focused(timeout=WAIT)
    await expect(page.locator("#who-school")).to_have_text("Collège Jean Moulin")
    await expect(page.locator("#sessions-empty")).to_be_visible(timeout=WAIT)
    token = await page.evaluate("sessionStorage.getItem('vigie.admin.token')")
    assert token
    assert await page.evaluate("localStorage.length") == 0  # sessionStorage only
    assert await page.evaluate("document.cookie") == ""
    await check(page, "sessions-empty")

    await page.get_by_role("button", name="Se déconnecter").click()
    await expect(page.locator("#login-notice")).to_have_text("Vous êtes déconnecté.", timeout=WAIT)
    assert await page.evaluate("sessionStorage.getItem('vigie.admin.token')") is None
    # The token was revoked on the server, not only forgotten by the page.
    answer = await page.request.get(
        hub.url + "/api/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status == 401


async def test_an_expired_token_sends_back_to_login_with_the_message(
    browser: Browser, hub: Any, school: School
) -> None:
    page = await new_page(browser, hub)
    await page.evaluate("sessionStorage.setItem('vigie.admin.token', 'périmé')")
    await page.goto(hub.url + "/admin/#/sessions")
    await expect(page.locator("#login-notice")).to_have_text(
        "Session expirée : reconnectez-vous.", timeout=WAIT
    )
    await expect(page.locator("#screen-login")).to_be_visible()
    # Logging in again lands where the admin was going.
    await log_in(page, school.email)
    await expect(page.locator("#screen-sessions h1")).to_be_focused(timeout=WAIT)


async def test_keyboard_only_login(browser: Browser, hub: Any, school: School) -> None:
    page = await new_page(browser, hub)
    await expect(page.get_by_label("Adresse e-mail")).to_be_focused(timeout=WAIT)
    await page.keyboard.type(school.email)
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Mot de passe")).to_be_focused()
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.locator("#screen-sessions h1")).to_be_focused(timeout=WAIT)


async def test_create_a_session_see_it_listed_and_reveal_its_kit(
    browser: Browser, hub: Any, school: School
) -> None:
    page = await logged_in(browser, hub, school)
    await page.get_by_role("link", name="Créer une session").click()
    await expect(page.locator("#screen-create h1")).to_be_focused(timeout=WAIT)
    await check(page, "create")

    # Nothing filled in: the API's reasons, by field, in French.
    await page.get_by_role("button", name="Créer la session").click()
    error = page.locator("#create-error")
    await expect(error).to_contain_text("Salle : obligatoire", timeout=WAIT)
    await expect(error).to_contain_text("Examinateur : obligatoire")
    form = page.locator("#create-form")
    await expect(form.get_by_label("Salle")).to_have_attribute("aria-invalid", "true")
    await check(page, "create-error")

    day = date.today() + timedelta(days=10)
    await form.get_by_label("Date", exact=True).fill(day.isoformat())
    await form.get_by_label("Heure de début").fill("09:30")
    await form.get_by_label("Salle").fill("Salle informatique B12")
    await form.get_by_label("Adresse").fill("3 rue des Lilas, 69003 Lyon")
    await form.get_by_label("Examinateur").fill("Mme Nguyễn")
    await page.get_by_role("button", name="Créer la session").click()

    await expect(page.locator("#session-body")).to_be_visible(timeout=WAIT)
    number = int(page.url.rsplit("/", 1)[1])
    await expect(page.locator("#session-notice")).to_contain_text(f"Session n° {number} créée")
    stored = await school.records.get_session(number)
    assert stored.room == "Salle informatique B12"
    assert stored.examiner == "Mme Nguyễn"
    assert stored.starts_at == datetime(
        day.year, day.month, day.day, 9, 30, tzinfo=ZoneInfo("Europe/Paris")
    )
    await expect(page.locator("#fact-when")).to_contain_text("à 09:30")
    await expect(page.locator("#kit-number")).to_have_text(str(number))

    # The secrets stay masked until asked for, one by one.
    password, code = page.locator("#kit-password"), page.locator("#kit-code")
    await expect(password).to_have_text("••••••")
    await expect(code).to_have_text("••••••")
    await check(page, "session-new")
    await page.get_by_role("button", name="Afficher le mot de passe de session").click()
    await expect(password).to_have_text(stored.password)
    await expect(code).to_have_text("••••••")
    reveal_code = page.get_by_role("button", name="Afficher le code d'accès")
    await reveal_code.focus()
    await page.keyboard.press("Enter")
    await expect(code).to_have_text(stored.access_code)
    await expect(page.get_by_role("button", name="Masquer le code d'accès")).to_have_attribute(
        "aria-pressed", "true"
    )
    await check(page, "kit-revealed")

    # Printing prints the kit alone, secrets included.
    await page.evaluate("() => { window.printed = 0; window.print = () => window.printed++; }")
    await page.get_by_role("button", name="Imprimer le kit surveillant").click()
    assert await page.evaluate("window.printed") == 1
    await page.emulate_media(media="print")
    kit = page.locator("#print-kit")
    await expect(kit).to_be_visible()
    await expect(page.locator("main")).to_be_hidden()
    await expect(page.locator("header")).to_be_hidden()
    await expect(page.locator("#print-number")).to_have_text(str(number))
    await expect(page.locator("#print-password")).to_have_text(stored.password)
    await expect(page.locator("#print-code")).to_have_text(stored.access_code)
    await expect(page.locator("#print-room")).to_have_text("Salle informatique B12")
    await expect(page.locator("#print-school")).to_have_text("Collège Jean Moulin")
    await screenshot(page, "admin-kit-print")
    await page.emulate_media(media="screen")
    await expect(kit).to_be_hidden()

    await page.get_by_role("link", name="Retour aux sessions").first.click()
    row = page.locator(f'#sessions-rows tr[data-number="{number}"]')
    await expect(row).to_be_visible(timeout=WAIT)
    await expect(row).to_contain_text("Salle informatique B12")
    await expect(row).to_contain_text("à 09:30")
    await expect(row.locator("td.num")).to_have_text("0")
    await check(page, "sessions")
    await row.get_by_role("link", name=f"Ouvrir la session n° {number}").click()
    await expect(page.locator("#session-title")).to_have_text(f"Session n° {number}")


async def test_the_list_shows_times_in_the_sessions_own_zone(browser: Browser, hub: Any) -> None:
    school = await new_school(hub, "Lycée Félix Éboué", "admin@cayenne.test", "America/Cayenne")
    starts = datetime(2031, 3, 12, 8, 15, tzinfo=ZoneInfo("America/Cayenne"))
    session = await school.records.create_session(
        school.id, starts, room="CDI", address="Cayenne", examiner="M. Lony"
    )
    page = await logged_in(browser, hub, school)
    row = page.locator(f'#sessions-rows tr[data-number="{session.id}"]')
    await expect(row).to_contain_text("12 mars 2031 à 08:15 (heure locale, fuseau Cayenne)")


async def test_register_import_and_remove_candidates(
    browser: Browser, hub: Any, school: School, tmp_path: Path
) -> None:
    session = await planned(school)
    page = await logged_in(browser, hub, school)
    await open_session(page, session.id)
    await expect(page.locator("#candidates-empty")).to_be_visible()
    add = page.locator("#add-form")

    # One candidate by hand; a name that looks like markup stays text.
    await add.get_by_label("Nom de famille").fill("<b>Bélégué</b>")
    await add.get_by_label("Prénom", exact=True).fill("Charles")
    await add.get_by_label("Date de naissance").fill("2010-03-14")
    await add.get_by_label("Temps majoré (%)").fill("33")
    await add.get_by_label("Identifiant externe").fill("INE100000")
    await add.get_by_label("E-mail").fill("charles@example.test")
    await add.get_by_label("Éligible à la certification").select_option("Oui")
    await page.get_by_role("button", name="Inscrire le candidat").click()
    await expect(page.locator("#add-notice")).to_have_text(
        "Candidat inscrit : Charles <b>Bélégué</b>.", timeout=WAIT
    )
    await expect(rows(page)).to_have_count(1)
    first = rows(page).first
    await expect(first.locator("th")).to_have_text("<b>Bélégué</b>")
    await expect(first).to_contain_text("14/03/2010")
    await expect(first).to_contain_text("33\u00a0%")
    await expect(first).to_contain_text("Oui")
    await expect(add.get_by_label("Nom de famille")).to_be_focused()
    assert await page.locator("#candidate-rows b").count() == 0
    [stored] = await school.records.list_candidates(session.id)
    assert (stored.last_name, stored.extra_time, stored.eligible) == ("<b>Bélégué</b>", 0.33, True)

    # The same person again (accents and case do not count): the API's reason, on the field.
    await add.get_by_label("Nom de famille").fill("<b>BELEGUE</b>")
    await add.get_by_label("Prénom", exact=True).fill("CHARLES")
    await add.get_by_label("Date de naissance").fill("2010-03-14")
    await page.get_by_role("button", name="Inscrire le candidat").click()
    await expect(page.locator("#add-error")).to_contain_text(
        "Ce candidat est déjà inscrit à la session.", timeout=WAIT
    )
    await expect(add.get_by_label("Nom de famille")).to_have_attribute("aria-invalid", "true")
    await check(page, "add-error")

    # A roster file in the sample's format.
    good = roster_file(tmp_path, "liste-3e.csv", [
        "Jackson;Mary;02/11/2009;;INE100001;",
        "N'Diaye;Aïssatou;21/06/2010;33;INE100003;",
        "Martin;Léa;17/02/2010;;INE100005;lea@example.test",
    ])  # fmt: skip
    await page.get_by_label("Fichier de la liste des candidats").set_input_files(good)
    await page.get_by_role("button", name="Importer le fichier").click()
    await expect(page.locator("#import-notice")).to_have_text(
        "3 candidats importés depuis liste-3e.csv.", timeout=WAIT
    )
    await expect(rows(page)).to_have_count(4)
    await expect(page.locator("#candidate-rows")).to_contain_text("Aïssatou")
    await expect(page.locator("#candidates-title")).to_have_text("Candidats inscrits (4)")
    await expect(page.locator("#staffing")).to_contain_text("au moins 1 surveillant")
    await check(page, "candidates")

    # A refused file: the row at fault, in French, and nothing written.
    bad = roster_file(tmp_path, "liste-erreur.csv", [
        "Dubois;Noé;11/04/2010;;INE100007;",
        "Pouzin;Louis;31/02/2010;;INE100002;",
    ])  # fmt: skip
    await page.get_by_label("Fichier de la liste des candidats").set_input_files(bad)
    await page.get_by_role("button", name="Importer le fichier").click()
    error = page.locator("#import-error")
    await expect(error).to_contain_text(
        "Aucun candidat n'a été inscrit : corrigez les lignes en erreur.", timeout=WAIT
    )
    await expect(error).to_be_focused()
    error_row = error.locator("tbody tr")
    await expect(error_row).to_have_count(1)
    await expect(error_row.locator("td").nth(0)).to_have_text("2")
    await expect(error_row.locator("td").nth(1)).to_have_text("Date de naissance")
    await expect(error_row.locator("td").nth(2)).to_have_text(
        "Date de naissance manquante ou invalide (format JJ/MM/AAAA)."
    )
    await expect(rows(page)).to_have_count(4)
    assert len(await school.records.list_candidates(session.id)) == 4
    await check(page, "import-error")

    # Removing asks first; cancelling keeps the candidate.
    remove = page.get_by_role("button", name="Désinscrire Léa Martin")
    await remove.click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("Léa Martin (date de naissance : 17/02/2010)")
    await expect(dialog.get_by_role("button", name="Annuler")).to_be_focused()
    await check(page, "remove-dialog")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(remove).to_be_focused()
    await expect(rows(page)).to_have_count(4)

    await remove.click()
    await dialog.get_by_role("button", name="Désinscrire", exact=True).click()
    await expect(page.locator("#candidates-notice")).to_have_text(
        "Candidat désinscrit : Léa Martin.", timeout=WAIT
    )
    await expect(rows(page)).to_have_count(3)
    await expect(page.locator("#candidate-rows")).not_to_contain_text("Léa")
    names = {c.first_name for c in await school.records.list_candidates(session.id)}
    assert names == {"Charles", "Mary", "Aïssatou"}
    await check(page, "candidate-removed")

    # The list of sessions counts them.
    await page.get_by_role("link", name="Mes sessions").click()
    await expect(
        page.locator(f'#sessions-rows tr[data-number="{session.id}"] td.num')
    ).to_have_text("3", timeout=WAIT)


async def test_a_file_without_the_required_columns_is_explained(
    browser: Browser, hub: Any, school: School, tmp_path: Path
) -> None:
    session = await planned(school)
    page = await logged_in(browser, hub, school)
    await open_session(page, session.id)
    path = tmp_path / "export.csv"
    path.write_bytes("Élève;Classe\r\nDubois Noé;3e B\r\n".encode("utf-8-sig"))
    await page.get_by_label("Fichier de la liste des candidats").set_input_files(path)
    await page.get_by_role("button", name="Importer le fichier").click()
    error = page.locator("#import-error")
    await expect(error.locator("tbody tr")).to_have_count(3, timeout=WAIT)
    await expect(error.locator("tbody tr").first).to_contain_text("En-tête")
    await expect(error).to_contain_text("Colonne absente de l'en-tête.")
    # No file chosen: said before anything is sent.
    await page.get_by_label("Fichier de la liste des candidats").set_input_files([])
    await page.get_by_role("button", name="Importer le fichier").click()
    await expect(error).to_have_text("Choisissez d'abord un fichier CSV.")


async def test_another_schools_session_is_refused_with_its_message(
    browser: Browser, hub: Any, school: School
) -> None:
    other = await new_school(hub, "Collège Voisin", "admin@voisin.test")
    theirs = await planned(other, room="Salle du voisin")
    page = await logged_in(browser, hub, school)
    await page.goto(hub.url + f"/admin/#/sessions/{theirs.id}")
    await expect(page.locator("#session-title")).to_have_text(f"Session n° {theirs.id}")
    await expect(page.locator("#session-error")).to_have_text(
        "Cette session appartient à un autre établissement.", timeout=WAIT
    )
    await expect(page.locator("#session-body")).to_be_hidden()
    await expect(page.locator("#sessions-rows")).not_to_contain_text("Salle du voisin")


async def test_links_to_the_invigilator_board_and_the_student_page(
    browser: Browser, hub: Any, school: School
) -> None:
    session = await planned(school)
    # A bookmarked session page asks for the login first, then opens.
    page = await new_page(browser, hub, f"/admin/#/sessions/{session.id}")
    await log_in(page, school.email)
    await expect(page.locator("#session-body")).to_be_visible(timeout=WAIT)
    body = page.locator("#session-body")
    board = body.get_by_role("link", name="Ouvrir l'espace surveillant")
    await expect(board).to_have_attribute("href", "/surveillant/")
    await expect(body.get_by_role("link", name="Ouvrir la page candidat")).to_have_attribute(
        "href", "/"
    )
    await board.click()
    await expect(page).to_have_url(re.compile(r"/surveillant/$"), timeout=WAIT)
    await page.go_back()
    await expect(page.locator("#session-body")).to_be_visible(timeout=WAIT)

    # A phone: everything stacks, nothing is cut off.
    await page.set_viewport_size({"width": 390, "height": 844})
    await check(page, "session-phone")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
