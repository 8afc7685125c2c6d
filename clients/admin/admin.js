// The school admin's pages before the session (docs/domain.md flow, steps 1-4): log in, list
// and create sessions, open one (session.js). Screens are chosen by the URL hash, so the
// browser's back button and bookmarks work: #/sessions, #/sessions/nouvelle, #/sessions/123.

import { api, ApiError, token } from "./api.js";
import { SESSION_STATUS, sessionWhen, zoneName } from "./format.js";
import { openSession } from "./session.js";
import { $, announce, busy, clearError, clearFieldErrors, el, notice, show, showError } from "./ui.js";

const state = {
  me: null, // GET /api/me: {email, name, role, school: {name, timezone}}
  flash: null, // {screen, text}: a confirmation shown on the next screen
  after: null, // the screen asked for before logging in
  visit: 0, // bumped on every navigation, so a late answer never paints a newer screen
};

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function flash(screen, text) {
  state.flash = { screen, text };
}

function takeFlash(screen) {
  const found = state.flash && state.flash.screen === screen ? state.flash.text : null;
  state.flash = null;
  return found;
}

/** An expired or revoked token sends back to the login screen with the server's words. */
function signedOut(error) {
  token.clear();
  state.me = null;
  renderWho();
  flash("login", error.message);
  go("#/connexion");
}

function isSignedOut(error) {
  return error instanceof ApiError && error.status === 401;
}

const context = { go, flash, takeFlash, signedOut, isSignedOut, state };

async function route() {
  const visit = ++state.visit;
  const hash = location.hash || "#/sessions";
  if (!token.get()) {
    if (hash !== "#/connexion") {
      state.after = hash; // back there once logged in
      location.replace("#/connexion");
      return;
    }
    return showLogin();
  }
  if (!state.me) {
    try {
      state.me = await api.me();
    } catch (error) {
      if (isSignedOut(error)) return signedOut(error);
      return fatal(error);
    }
    if (visit !== state.visit) return;
    renderWho();
  }
  const current = () => visit === state.visit;
  const match = /^#\/sessions\/(\d+)$/.exec(hash);
  if (hash === "#/sessions/nouvelle") return showCreate();
  if (match) return openSession(Number(match[1]), context, current);
  if (hash !== "#/sessions") {
    location.replace("#/sessions");
    return;
  }
  return showSessions(current);
}

function fatal(error) {
  show("loading");
  $("screen-loading").querySelector("h1").textContent = error.message;
}

function renderWho() {
  const me = state.me;
  $("who").hidden = !me;
  $("nav-sessions-item").hidden = !me;
  if (!me) return;
  $("who-school").textContent = me.school ? me.school.name : "";
  $("who-email").textContent = me.email;
}

// --- login and logout ------------------------------------------------------------------

function showLogin() {
  show("login");
  notice("login-notice", takeFlash("login"));
  $("login-email").focus();
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearError("login-error");
  notice("login-notice", "");
  const email = form.elements.email.value.trim();
  const password = form.elements.password.value;
  if (!email || !password) {
    showError("login-error", { message: "Saisissez votre adresse e-mail et votre mot de passe." });
    return;
  }
  await busy($("login-submit"), async () => {
    try {
      const answer = await api.login(email, password);
      token.set(answer.token);
      form.reset();
      const after = state.after;
      state.after = null;
      go(after || "#/sessions");
    } catch (error) {
      showError("login-error", error);
      form.elements.password.value = "";
    }
  });
});

$("logout").addEventListener("click", async () => {
  try {
    await api.logout();
  } catch {
    // The token is forgotten here whatever the server says: it expires on its own.
  }
  token.clear();
  state.me = null;
  renderWho();
  flash("login", "Vous êtes déconnecté.");
  go("#/connexion");
});

// --- the list of sessions ----------------------------------------------------------------

async function showSessions(current) {
  show("sessions");
  setCurrentNav(true);
  clearError("sessions-error");
  notice("sessions-notice", takeFlash("sessions"));
  $("sessions-school").textContent = state.me.school ? state.me.school.name : "";
  let sessions;
  try {
    const listed = await api.sessions();
    // The list carries no candidate count: each session's page gives it.
    sessions = await Promise.all(listed.sessions.map((s) => api.session(s.number)));
  } catch (error) {
    if (isSignedOut(error)) return signedOut(error);
    if (current()) showError("sessions-error", error);
    return;
  }
  if (!current()) return;
  $("sessions-empty").hidden = sessions.length > 0;
  $("sessions-table-wrap").hidden = sessions.length === 0;
  $("sessions-rows").replaceChildren(...sessions.map(sessionRow));
}

function sessionRow(session) {
  const link = el("a", {
    text: "Ouvrir", className: "button secondary small-button",
    attrs: { href: `#/sessions/${session.number}` },
  }, [
    el("span", { text: ` la session n° ${session.number}`, className: "visually-hidden" }),
  ]);
  return el("tr", { attrs: { "data-number": String(session.number) } }, [
    el("th", { text: String(session.number), attrs: { scope: "row" }, className: "nowrap" }),
    el("td", { text: sessionWhen(session) }),
    el("td", { text: session.room }),
    el("td", { text: String(session.candidate_count), className: "num" }),
    el("td", { text: SESSION_STATUS[session.status] || session.status }),
    el("td", { className: "action" }, [link]),
  ]);
}

function setCurrentNav(active) {
  if (active) $("nav-sessions").setAttribute("aria-current", "page");
  else $("nav-sessions").removeAttribute("aria-current");
}

// --- creating a session ------------------------------------------------------------------

function showCreate() {
  show("create");
  setCurrentNav(false);
  const form = $("create-form");
  clearError("create-error");
  clearFieldErrors(form);
  const zone = state.me.school ? state.me.school.timezone : "Europe/Paris";
  $("create-timezone").textContent =
    `Date et heure locales de l'établissement (${zoneName(zone)}, ${zone}).`;
}

$("create-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearError("create-error");
  const fields = {};
  for (const name of ["date", "time", "room", "address", "examiner"]) {
    fields[name] = form.elements[name].value.trim();
  }
  await busy($("create-submit"), async () => {
    try {
      const session = await api.createSession(fields);
      form.reset();
      clearFieldErrors(form);
      flash("session", `Session n° ${session.number} créée. Inscrivez maintenant les candidats.`);
      announce(`Session n° ${session.number} créée.`);
      go(`#/sessions/${session.number}`);
    } catch (error) {
      if (isSignedOut(error)) return signedOut(error);
      showError("create-error", error, { form });
    }
  });
});

window.addEventListener("hashchange", route);
route();
