// A session's page: its details, the invigilator kit (docs/domain.md flow, step 3) and its
// candidates (step 2): the list, one added by hand, a roster CSV, a removal.

import { api } from "./api.js";
import {
  SESSION_STATUS, candidateCount, eligibility, frenchDate, percent, sessionWhen, staffing,
} from "./format.js";
import { $, announce, busy, clearError, clearFieldErrors, el, notice, setTitle, show, showError } from "./ui.js";

const MASK = "••••••";

const page = {
  session: null, // GET /api/sessions/{n}
  candidates: [],
  context: null, // admin.js: go, flash, signedOut...
  removing: null, // the candidate the dialog asks about
};

export async function openSession(number, context, current) {
  page.context = context;
  page.session = null;
  show("session");
  $("session-title").textContent = `Session n° ${number}`;
  setTitle(`Session n° ${number}`);
  $("session-when").textContent = "";
  $("session-body").hidden = true;
  clearError("session-error");
  for (const id of ["add-error", "import-error", "candidates-error"]) clearError(id);
  for (const id of ["add-notice", "import-notice", "candidates-notice"]) notice(id, "");
  clearFieldErrors($("add-form"));
  notice("session-notice", context.takeFlash("session"));
  let session;
  let candidates;
  try {
    [session, { candidates }] = await Promise.all([api.session(number), api.candidates(number)]);
  } catch (error) {
    if (context.isSignedOut(error)) return context.signedOut(error);
    if (current()) showError("session-error", error);
    return;
  }
  if (!current()) return;
  page.session = session;
  renderSession(session);
  renderCandidates(candidates);
  $("session-body").hidden = false;
}

function renderSession(session) {
  const when = sessionWhen(session);
  $("session-when").textContent = `${when} · ${session.room}`;
  $("fact-when").textContent = when;
  $("fact-room").textContent = session.room;
  $("fact-address").textContent = session.address;
  $("fact-examiner").textContent = session.examiner;
  $("fact-status").textContent = SESSION_STATUS[session.status] || session.status;
  $("kit-number").textContent = String(session.number);
  hideSecret("kit-password");
  hideSecret("kit-code");
  const open = session.status === "created";
  $("registration").hidden = !open;
  $("registration-closed").hidden = open;
  // The printed kit (print stylesheet): the secrets are on paper, not on the screen.
  const school = page.context.state.me.school;
  $("print-school").textContent = school ? school.name : "";
  $("print-title").textContent = `Kit surveillant · session n° ${session.number}`;
  $("print-when").textContent = when;
  $("print-room").textContent = session.room;
  $("print-address").textContent = session.address;
  $("print-examiner").textContent = session.examiner;
  $("print-number").textContent = String(session.number);
  $("print-password").textContent = session.password;
  $("print-code").textContent = session.access_code;
}

// --- the kit's secrets: shown only on request (a screen may be seen by candidates) -----

const SECRETS = {
  "kit-password": { value: (s) => s.password, label: "le mot de passe de session" },
  "kit-code": { value: (s) => s.access_code, label: "le code d'accès" },
};

function hideSecret(id) {
  const target = $(id);
  target.textContent = MASK;
  target.classList.add("masked");
  const toggle = $(`${id}-toggle`);
  toggle.setAttribute("aria-pressed", "false");
  toggle.replaceChildren("Afficher", el("span", { text: ` ${SECRETS[id].label}`, className: "visually-hidden" }));
}

function revealSecret(id) {
  const target = $(id);
  target.textContent = SECRETS[id].value(page.session);
  target.classList.remove("masked");
  const toggle = $(`${id}-toggle`);
  toggle.setAttribute("aria-pressed", "true");
  toggle.replaceChildren("Masquer", el("span", { text: ` ${SECRETS[id].label}`, className: "visually-hidden" }));
}

for (const id of Object.keys(SECRETS)) {
  $(`${id}-toggle`).addEventListener("click", (event) => {
    if (!page.session) return;
    if (event.currentTarget.getAttribute("aria-pressed") === "true") hideSecret(id);
    else revealSecret(id);
  });
}

$("kit-print").addEventListener("click", () => window.print());

// --- the candidates ----------------------------------------------------------------------

function renderCandidates(candidates) {
  page.candidates = candidates;
  const count = candidates.length;
  $("candidates-title").textContent = `Candidats inscrits (${count})`;
  $("staffing").textContent = staffing(count);
  $("print-count").textContent = candidateCount(count);
  $("candidates-empty").hidden = count > 0;
  $("candidates-table-wrap").hidden = count === 0;
  const removable = page.session.status === "created";
  $("candidate-rows").replaceChildren(...candidates.map((c) => candidateRow(c, removable)));
}

function fullName(candidate) {
  return `${candidate.first_name} ${candidate.last_name}`;
}

function candidateRow(candidate, removable) {
  const eligible = eligibility(candidate.eligible);
  const action = el("td", { className: "action" });
  if (removable) {
    const button = el("button", {
      text: "Désinscrire", className: "danger small-button", attrs: { type: "button" },
    }, [el("span", { text: ` ${fullName(candidate)}`, className: "visually-hidden" })]);
    button.addEventListener("click", () => askRemoval(candidate, button));
    action.append(button);
  }
  return el("tr", { attrs: { "data-cid": String(candidate.id) } }, [
    el("th", { text: candidate.last_name, attrs: { scope: "row" } }),
    el("td", { text: candidate.first_name }),
    el("td", { text: frenchDate(candidate.birthdate), className: "nowrap" }),
    el("td", { text: percent(candidate.extra_time_percent), className: "num nowrap" }),
    el("td", {}, [el("span", { text: eligible.text, className: `tag ${eligible.kind}` })]),
    el("td", { text: candidate.external_id || "—" }),
    action,
  ]);
}

async function reloadCandidates() {
  const { candidates } = await api.candidates(page.session.number);
  renderCandidates(candidates);
}

/** Run an API call of this page; a lost login goes back to the login screen. */
async function attempt(errorId, work, options = {}) {
  try {
    await work();
    return true;
  } catch (error) {
    if (page.context.isSignedOut(error)) page.context.signedOut(error);
    else showError(errorId, error, options);
    return false;
  }
}

// --- one candidate, by hand ---------------------------------------------------------------

$("add-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearError("add-error");
  notice("add-notice", "");
  clearFieldErrors(form);
  const value = (name) => form.elements[name].value.trim();
  const candidate = {
    last_name: value("last_name"),
    first_name: value("first_name"),
    birthdate: value("birthdate") || null,
  };
  const extra = value("extra_time_percent");
  if (extra) {
    const number = Number(extra.replace(",", "."));
    if (!Number.isFinite(number)) {
      showError("add-error", { message: "Le candidat n'a pas été inscrit.", rows: [
        { row: 1, field: "extra_time_percent", message: "Le temps majoré doit être un nombre." },
      ] }, { form });
      return;
    }
    candidate.extra_time_percent = number;
  }
  if (value("external_id")) candidate.external_id = value("external_id");
  if (value("email")) candidate.email = value("email");
  if (value("eligible")) candidate.eligible = value("eligible") === "true";
  await busy($("add-submit"), () => attempt("add-error", async () => {
    const { candidates } = await api.addCandidate(page.session.number, candidate);
    form.reset();
    const text = `Candidat inscrit : ${fullName(candidates[0])}.`;
    notice("add-notice", text);
    announce(text);
    await reloadCandidates();
    form.elements.last_name.focus(); // ready for the next one
  }, { form }));
});

// --- a roster file ----------------------------------------------------------------------

$("import-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  clearError("import-error");
  notice("import-notice", "");
  const file = form.elements.file.files[0];
  if (!file) {
    showError("import-error", { message: "Choisissez d'abord un fichier CSV." });
    return;
  }
  await busy($("import-submit"), () => attempt("import-error", async () => {
    // The bytes as they are: the server reads UTF-8 (with or without BOM) and Windows-1252.
    const { candidates } = await api.importRoster(page.session.number, file);
    form.reset();
    const text = `${candidateCount(candidates.length)} importé${candidates.length > 1 ? "s" : ""} depuis ${file.name}.`;
    notice("import-notice", text, { focus: true });
    announce(text);
    await reloadCandidates();
  }));
});

// --- removing a candidate (confirmed first) ---------------------------------------------

function askRemoval(candidate, button) {
  page.removing = { candidate, button };
  $("remove-text").textContent =
    `${fullName(candidate)} (date de naissance : ${frenchDate(candidate.birthdate)}) ne pourra plus rejoindre la session n° ${page.session.number}.`;
  $("remove-dialog").showModal();
  $("remove-cancel").focus();
}

$("remove-cancel").addEventListener("click", () => $("remove-dialog").close());

$("remove-dialog").addEventListener("close", () => {
  const pending = page.removing;
  page.removing = null;
  if (pending && pending.button.isConnected) pending.button.focus();
});

$("remove-confirm").addEventListener("click", async () => {
  const { candidate } = page.removing;
  page.removing = null;
  $("remove-dialog").close();
  clearError("candidates-error");
  notice("candidates-notice", "");
  await attempt("candidates-error", async () => {
    await api.removeCandidate(page.session.number, candidate.id);
    await reloadCandidates();
    const text = `Candidat désinscrit : ${fullName(candidate)}.`;
    notice("candidates-notice", text);
    announce(text);
    $("candidates-title").focus();
  });
});
