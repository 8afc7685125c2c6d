// The invigilator's live board: login, then a snapshot and live events pushed by the hub.
// No polling: a 1 s local tick only moves the clocks (remaining time, "vu il y a").

import { Actions } from "./actions.js";
import { Board, fullName, isOverdue, matches, sortRows } from "./board.js";
import { Connection } from "./connection.js";
import { CATEGORIES, CONNECTION_LABELS, STATUS_LABELS, STATUS_ORDER, errorText, eventText } from "./messages.js";
import { RowView, el, formatters } from "./view.js";

const ALWAYS_COUNTED = ["registered", "present", "in_progress", "disconnected", "finished"];
const $ = (id) => document.getElementById(id);

const wsUrl = new URL("/ws/invigilator", window.location.href);
wsUrl.protocol = wsUrl.protocol === "https:" ? "wss:" : "ws:";

const conn = new Connection(wsUrl.href);
const board = new Board();
const views = new Map(); // candidate_id -> RowView
const selected = new Set();
let fmt = formatters("Europe/Paris");
let accessCode = null;
let staleSince = 0;

const ui = {
  conn,
  board,
  fmt: () => fmt,
  rowOf: (cid) => board.rows.get(cid),
  sortedRows: () => sortRows(board.rows.values(), conn.now()),
  report,
};
const actions = new Actions(ui);

// --- login ---------------------------------------------------------------------------

const savedSession = localStorage.getItem("vigie.board.session");
if (savedSession) $("login-session").value = savedSession;

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const number = $("login-session").value.trim();
  const password = $("login-password").value;
  const error = $("login-error");
  if (!/^\d+$/.test(number)) {
    error.textContent = "Le numéro de session est composé de chiffres.";
    $("login-session").focus();
    return;
  }
  if (!password) {
    error.textContent = "Saisissez le mot de passe de session.";
    $("login-password").focus();
    return;
  }
  error.textContent = "";
  const button = event.submitter;
  button.disabled = true;
  try {
    await conn.login(Number(number), password);
    localStorage.setItem("vigie.board.session", number);
    $("login-password").value = "";
    showBoard();
  } catch (failure) {
    error.textContent = errorText(failure);
  } finally {
    button.disabled = false;
  }
});

function showBoard() {
  $("login-view").hidden = true;
  $("board-view").hidden = false;
  $("main").focus();
}

function showLogin(message) {
  $("board-view").hidden = true;
  $("login-view").hidden = false;
  $("login-error").textContent = message || "";
  $("rows").replaceChildren();
  views.clear();
  selected.clear();
  accessCode = null;
  $("login-password").focus();
}

$("logout").addEventListener("click", () => {
  conn.logout();
  showLogin("");
});

// --- what the hub pushes -------------------------------------------------------------

conn.addEventListener("state", (e) => {
  const state = e.detail.state;
  const node = $("connection");
  node.dataset.state = state;
  node.querySelector(".connection-text").textContent =
    state === "idle" ? "Non connecté" : CONNECTION_LABELS[state];
  const stale = state === "reconnecting" || state === "offline";
  document.body.classList.toggle("is-stale", stale);
  const banner = $("stale-banner");
  if (stale && board.session) {
    if (banner.hidden) staleSince = conn.now();
    banner.textContent = state === "offline"
      ? `Hors ligne depuis ${fmt.time(staleSince)} : ce tableau n'est plus à jour. Il se remettra à jour seul dès le retour du réseau.`
      : `Connexion au serveur perdue depuis ${fmt.time(staleSince)} : reconnexion en cours, le tableau se complétera seul.`;
  }
  banner.hidden = !stale || !board.session;
});

conn.addEventListener("snapshot", (e) => {
  const snap = e.detail;
  board.load(snap);
  conn.setPosition(board.epoch, board.seq);
  fmt = formatters(snap.session.timezone || "Europe/Paris");
  renderSession();
  for (const cid of [...views.keys()]) {
    if (!board.rows.has(cid)) {
      views.get(cid).tr.remove();
      views.delete(cid);
    }
  }
  if (snap.fresh) announce("Tableau resynchronisé : état complet reçu.");
  render();
});

conn.addEventListener("caught_up", (e) => {
  conn.setPosition(board.epoch, board.seq);
  document.body.dataset.caughtUp = String(e.detail.seq);
  announce("Connexion rétablie : tableau à jour.");
  render();
});

conn.addEventListener("event", (e) => {
  const frame = e.detail;
  const place = board.place(frame);
  if (place === "old") return;
  if (place !== "apply") {
    // A hole in seq (or a new epoch): ask the hub from our last position; it answers with
    // the exact missing events or a fresh snapshot, never a partial replay.
    conn.resync();
    return;
  }
  const row = board.apply(frame);
  conn.setPosition(board.epoch, board.seq);
  const event = frame.event;
  if (event.type === "incident_recorded") {
    renderIncidents();
    return;
  }
  if (row) {
    const text = eventText(event, fullName(row));
    if (text) announce(text);
    if (event.type === "raise_alert") signalAlert(row);
    if (event.type !== "confirm_presence") selected.delete(row.candidate_id);
  }
  render();
});

conn.addEventListener("presence", (e) => {
  board.presence(e.detail.heartbeats || {});
  render();
});

conn.addEventListener("logged_out", (e) => {
  showLogin(errorText(e.detail));
});

// --- rendering -----------------------------------------------------------------------

function renderSession() {
  const s = board.session;
  $("s-number").textContent = String(s.session_id);
  $("s-room").textContent = s.room || "—";
  $("s-date").textContent = fmt.date(s.starts_at);
  $("s-planned").textContent = fmt.time(s.starts_at);
  $("s-first-start").textContent = s.first_start ? fmt.time(s.first_start) : "pas encore";
  document.title = `Session ${s.session_id} – Vigie`;
}

function render() {
  if (!board.session) return;
  const now = conn.now();
  if (board.session.first_start == null) {
    const starts = [...board.rows.values()].map((r) => r.started_at).filter(Boolean);
    if (starts.length) $("s-first-start").textContent = fmt.time(Math.min(...starts));
  }
  const filter = $("filter").value;
  const tbody = $("rows");
  const ordered = sortRows(board.rows.values(), now);
  const visible = [];
  for (const row of ordered) {
    let view = views.get(row.candidate_id);
    if (!view) {
      view = new RowView(row);
      views.set(row.candidate_id, view);
    }
    if (row.status !== "registered" || !row.eligible) selected.delete(row.candidate_id);
    view.update(row, now, fmt, selected.has(row.candidate_id));
    const shown = matches(row, filter, STATUS_LABELS[row.status]);
    view.tr.hidden = !shown;
    if (shown) visible.push(view.tr);
  }
  // Reorder only when the order changed: moving a row would steal the keyboard focus.
  const wanted = ordered.map((r) => views.get(r.candidate_id).tr);
  const current = [...tbody.children];
  if (wanted.length !== current.length || wanted.some((tr, i) => tr !== current[i])) {
    const focused = document.activeElement;
    tbody.replaceChildren(...wanted);
    if (focused && tbody.contains(focused)) focused.focus();
  }
  $("empty").hidden = visible.length > 0 || board.rows.size === 0;
  renderCounters(now);
  renderAlertBanner();
  renderToolbar(now);
}

function renderCounters(now) {
  const counts = Object.fromEntries(STATUS_ORDER.map((s) => [s, 0]));
  let alerts = 0;
  let overdue = 0;
  for (const row of board.rows.values()) {
    counts[row.status] = (counts[row.status] || 0) + 1;
    if (row.alert) alerts += 1;
    if (isOverdue(row, now)) overdue += 1;
  }
  const items = [];
  if (alerts) items.push(counter("alert", "Signalements", alerts));
  if (overdue) items.push(counter("overdue", "Hors délai", overdue));
  for (const status of STATUS_ORDER) {
    if (counts[status] || ALWAYS_COUNTED.includes(status)) items.push(counter(status, STATUS_LABELS[status], counts[status]));
  }
  items.push(counter("total", "Total", board.rows.size));
  const list = $("counters");
  const key = items.map((li) => li.textContent).join("|");
  if (list.dataset.key !== key) {
    list.dataset.key = key;
    list.replaceChildren(...items);
  }
}

function counter(kind, label, count) {
  return el("li", { class: `counter counter-${kind}`, "data-status": kind },
    el("span", { class: "count", text: String(count) }), el("span", { class: "label", text: label }));
}

function renderAlertBanner() {
  const rows = [...board.rows.values()].filter((r) => r.alert);
  const banner = $("alert-banner");
  const key = rows.map((r) => `${r.candidate_id}:${r.alert}:${r.question_number}`).join(",");
  if (banner.dataset.key === key) return;
  banner.dataset.key = key;
  banner.hidden = rows.length === 0;
  banner.replaceChildren(...rows.map((row) => {
    const button = el("button", { type: "button", class: "primary", text: "Traiter", "aria-label": `Traiter le signalement de ${fullName(row)}` });
    button.addEventListener("click", () => actions.run("alert", row));
    return el("p", { class: "alert-line" },
      el("strong", { text: `⚠ Signalement en direct – ${fullName(row)}` }),
      el("span", { text: ` question ${row.question_number} : ${row.alert} – ${CATEGORIES[row.alert] || ""}. ` }),
      button);
  }));
}

function renderToolbar(now) {
  const chosen = [...selected].map((cid) => board.rows.get(cid)).filter(Boolean);
  const confirm = $("confirm-selected");
  confirm.textContent = `Confirmer la présence de la sélection (${chosen.length})`;
  confirm.disabled = chosen.length === 0;
  const overdue = [...board.rows.values()].filter((r) => isOverdue(r, now));
  const end = $("end-overdue");
  end.textContent = `Terminer les tests hors délai (${overdue.length})`;
  end.disabled = overdue.length === 0;
  const selectable = [...board.rows.values()].filter((r) => r.status === "registered" && r.eligible);
  const all = $("select-all");
  all.disabled = selectable.length === 0;
  all.checked = selectable.length > 0 && selectable.every((r) => selected.has(r.candidate_id));
  all.indeterminate = !all.checked && selectable.some((r) => selected.has(r.candidate_id));
}

function renderIncidents() {
  $("incident-count").textContent = String(board.incidents.length);
  $("incident-list").replaceChildren(...board.incidents.map((incident) => {
    const row = incident.candidate_id != null ? board.rows.get(incident.candidate_id) : null;
    const who = row ? fullName(row) : "Session";
    const question = incident.question_number ? `, question ${incident.question_number}` : "";
    return el("li", { text: `${fmt.time(incident.at)} – ${who} – ${incident.category} (${CATEGORIES[incident.category] || ""})${question} : ${incident.description}` });
  }));
}

// --- feedback ------------------------------------------------------------------------

function report(text, ok) {
  const node = $("action-result");
  node.textContent = text;
  node.className = `action-result ${ok ? "ok" : "error"}`;
}

function announce(text) {
  const region = $("announcer");
  region.append(el("p", { text }));
  while (region.childElementCount > 5) region.firstElementChild.remove();
}

let audio = null;
function signalAlert(row) {
  const tr = views.get(row.candidate_id)?.tr;
  if (tr) {
    tr.classList.remove("flash");
    void tr.offsetWidth; // restart the animation
    tr.classList.add("flash");
  }
  if (!$("sound").checked) return;
  try {
    audio = audio || new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.6);
  } catch {
    // No audio on this device: the visible signal is enough.
  }
}

// --- controls ------------------------------------------------------------------------

$("sound").checked = localStorage.getItem("vigie.board.sound") === "on";
$("sound").addEventListener("change", (e) => {
  localStorage.setItem("vigie.board.sound", e.target.checked ? "on" : "off");
  if (e.target.checked) audio = audio || new AudioContext(); // unlock audio on a user gesture
});

$("filter").addEventListener("input", () => render());

$("rows").addEventListener("click", (e) => {
  const button = e.target.closest("button[data-action]");
  if (!button) return;
  const cid = Number(button.closest("tr").dataset.cid);
  const row = board.rows.get(cid);
  if (row) actions.run(button.dataset.action, row);
});

$("rows").addEventListener("change", (e) => {
  if (!e.target.classList.contains("select")) return;
  const cid = Number(e.target.closest("tr").dataset.cid);
  if (e.target.checked) selected.add(cid);
  else selected.delete(cid);
  render();
});

$("select-all").addEventListener("change", (e) => {
  for (const row of board.rows.values()) {
    if (row.status === "registered" && row.eligible) {
      if (e.target.checked) selected.add(row.candidate_id);
      else selected.delete(row.candidate_id);
    }
  }
  render();
});

$("confirm-selected").addEventListener("click", async () => {
  const rows = [...selected].map((cid) => board.rows.get(cid)).filter(Boolean);
  await actions.confirmPresence(rows);
});

$("end-overdue").addEventListener("click", () => {
  const now = conn.now();
  actions.endOverdue([...board.rows.values()].filter((r) => isOverdue(r, now)));
});

$("new-incident").addEventListener("click", () => actions.recordIncident(null));

$("reveal-code").addEventListener("click", async () => {
  const code = $("s-code");
  const button = $("reveal-code");
  if (!code.hidden) {
    code.hidden = true;
    button.textContent = "Afficher le code d'accès";
    return;
  }
  try {
    if (!accessCode) accessCode = (await conn.request({ type: "reveal_access_code" })).access_code;
    code.textContent = accessCode;
    code.hidden = false;
    button.textContent = "Masquer le code";
  } catch (error) {
    report(errorText(error, { action: "reveal_access_code" }), false);
  }
});

setInterval(render, 1000);

// For the browser tests and for support: the board's state, read-only by convention.
window.vigieBoard = { board, conn };
