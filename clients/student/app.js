// The candidate's page: screens and state, driven by the hub's messages
// (docs/protocol.md, "Candidate"). Data from the server is only ever put in the page with
// textContent: names and question texts are never parsed as HTML.

import { Connection } from "./connection.js";
import { ALERT_CATEGORIES, ENDED, TYPE_HINTS, errorText } from "./messages.js";
import { Countdown, formatRemaining, spokenRemaining } from "./timer.js";

const $ = (id) => document.getElementById(id);
const IDENTITY_KEY = "vigie.identity";
const RETRYABLE = new Set(["conflict", "internal_error"]);
const STORE_AWAY = "store_unavailable"; // retried for as long as it lasts (docs/protocol.md)
const STORE_RETRY_MAX_MS = 5000;

const state = {
  screen: "loading",
  identity: null, // {session, last_name, first_name, birthdate}
  joined: false,
  token: null, // resume token: in memory only (issue 3, "Resume")
  questionCount: 32,
  question: null, // the last question message
  pending: null, // {number, answer, summary, retries}: sent, not yet acknowledged
  alert: null, // null | "raising" | category code (pending decision)
  requests: new Map(), // request id -> kind ("join", "start", "answer", "alert")
  ended: false,
  replacement: false, // the next question replaces a neutralized one
  storeRetries: 0, // consecutive store_unavailable answers (the delay grows with them)
};

const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/candidate`;
const conn = new Connection(url);
const countdown = new Countdown({
  now: () => conn.serverNow(),
  render: renderClock,
  warn: (text) => {
    const banner = $("time-banner");
    banner.textContent = text;
    banner.hidden = false;
    alarm(text);
  },
});

// --- screens and announcements -------------------------------------------------------

function show(name, { focus = true } = {}) {
  for (const section of document.querySelectorAll(".screen")) {
    section.hidden = section.id !== `screen-${name}`;
  }
  state.screen = name;
  const section = $(`screen-${name}`);
  document.title = `${section.dataset.title} : Certification Pix`;
  $("clock").hidden = name !== "test";
  if (focus) {
    const heading = section.querySelector("h1");
    if (heading) heading.focus();
  }
}

function announce(text) {
  const region = $("announce");
  region.textContent = "";
  // A fresh text node after a tick, so screen readers announce a repeated message too.
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}

function alarm(text) {
  const region = $("alarm");
  region.textContent = "";
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}

function showError(id, text) {
  const box = $(id);
  box.textContent = text;
  box.hidden = !text;
  if (text) box.focus();
}

function renderClock(left) {
  $("clock-value").textContent = left > 0 ? formatRemaining(left) : "Temps écoulé";
  $("clock-spoken").textContent = left > 0 ? `${spokenRemaining(left)} restantes` : "Temps écoulé";
  $("clock").classList.toggle("low", left <= 15 * 60);
}

function setDeadline(deadline) {
  if (typeof deadline !== "number") return;
  $("clock").dataset.deadline = String(deadline); // what the server said, for checks
  countdown.setDeadline(deadline);
}

function setWho(first, last) {
  const who = $("who");
  who.textContent = `${first} ${last}`;
  who.hidden = false;
}

// --- connection -----------------------------------------------------------------------

function request(kind, message) {
  const id = conn.send(message);
  if (id !== null) state.requests.set(id, kind);
  return id;
}

function join() {
  const id = state.identity;
  const message = { type: "join", session: id.session, last_name: id.last_name,
    first_name: id.first_name, birthdate: id.birthdate };
  if (state.token) message.resume_token = state.token;
  return request("join", message);
}

conn.addEventListener("ready", () => {
  if (state.ended) return;
  if (state.identity) {
    join();
  } else if (state.screen === "loading") {
    show("join");
  }
});

conn.addEventListener("lost", () => {
  state.requests.clear();
  if (state.ended) return;
  state.joined = false;
  if (state.screen === "loading") {
    $("screen-loading").querySelector(".lead").textContent =
      "Le serveur ne répond pas pour l'instant. Nouvel essai automatique…";
  }
  $("connection-banner").hidden = false;
  $("join-submit").disabled = false;
  $("code-submit").disabled = false;
});

conn.addEventListener("replaced", () => {
  state.ended = true;
  countdown.stop();
  $("connection-banner").hidden = true;
  show("replaced");
});

conn.addEventListener("message", (event) => handle(event.detail));

const HANDLERS = {
  joined(m) {
    state.joined = true;
    state.questionCount = m.question_count || 32;
    $("rules-count").textContent = String(state.questionCount);
    $("progress").max = state.questionCount;
    setWho(m.first_name, m.last_name);
    const wasLost = !$("connection-banner").hidden;
    $("connection-banner").hidden = true;
    if (wasLost) announce("Connexion rétablie.");
    remember();
    if (m.status === "registered") {
      if (state.screen !== "waiting") show("waiting");
    }
  },
  presence_confirmed() {
    if (["loading", "join", "waiting", "resume"].includes(state.screen)) {
      show("instructions");
      announce("Votre présence est confirmée.");
    }
  },
  presence_cancelled() {
    const note = $("waiting-note");
    note.textContent = "Votre surveillant a annulé la confirmation de votre présence. Attendez qu'il la confirme à nouveau.";
    note.hidden = false;
    show("waiting");
  },
  resume_required(m) {
    const note = $("resume-note");
    note.textContent = m.code ? errorText(m) : "";
    note.hidden = !m.code;
    countdown.stop();
    if (state.screen !== "resume") show("resume");
  },
  started(m) {
    begin(m);
  },
  resumed(m) {
    const wasBlocked = state.screen === "resume";
    begin(m);
    if (wasBlocked) announce("Votre surveillant a autorisé la reprise : le test continue.");
  },
  question(m) {
    showQuestion(m);
  },
  answer_ack(m) {
    if (!state.pending || state.pending.number !== m.question_number) return;
    state.pending = null;
    if (state.question && state.question.question_number !== m.question_number) {
      renderControls(); // a duplicate ack after a reconnect: the current question is shown
      return;
    }
    const saved = $("saved");
    saved.textContent = `Réponse à la question ${m.question_number} enregistrée.`;
    saved.classList.add("visible");
    // The next question (or the end) follows the ack; until then, say it is saved.
    $("sending-text").textContent = "Réponse enregistrée. Question suivante…";
  },
  alert_raised(m) {
    state.alert = m.category;
    renderControls();
    const label = ALERT_CATEGORIES.find(([code]) => code === m.category);
    $("alert-waiting-category").textContent = label ? `Problème signalé : ${label[1]}.` : "";
    $("alert-waiting-heading").focus();
  },
  alert_validated() {
    state.alert = null;
    state.replacement = true;
    announce("Votre surveillant a accepté le signalement : une nouvelle question remplace celle-ci.");
  },
  alert_dismissed() {
    state.alert = null;
    renderControls();
    const saved = $("saved");
    saved.textContent = "Votre surveillant a examiné le signalement : vous pouvez répondre à la question.";
    saved.classList.add("visible");
    $("question-heading").focus();
  },
  time_granted(m) {
    setDeadline(m.deadline);
    if (countdown.deadline - conn.serverNow() > 5 * 60) $("time-banner").hidden = true;
    const minutes = m.minutes;
    announce(`Votre surveillant vous a accordé ${minutes} minute${minutes > 1 ? "s" : ""} de plus.`);
  },
  test_ended(m) {
    end(m.status);
  },
  error(m) {
    handleError(m);
  },
};

function handle(message) {
  if (message.id !== undefined && message.type !== "error") state.storeRetries = 0;
  const handler = HANDLERS[message.type];
  if (handler) handler(message);
  if (message.id !== undefined && message.type !== "error") state.requests.delete(message.id);
}

function handleError(m) {
  const kind = state.requests.get(m.id);
  state.requests.delete(m.id);
  if (m.code === "session_replaced") return; // the close (4001) follows: "replaced"
  if (m.code === "not_joined" && state.identity) {
    join();
    return;
  }
  if (m.code === STORE_AWAY && (kind === "join" || kind === "answer") && state.identity) {
    // The hub's store is restarting: nothing is wrong with what the page sent. Keep the
    // identity and the pending answer, and send again with a growing, capped delay.
    announce(errorText(m));
    if (kind === "answer") $("sending-text").textContent = errorText(m);
    state.storeRetries += 1;
    const delay = Math.min(STORE_RETRY_MAX_MS, 500 * state.storeRetries);
    if (kind === "join") {
      state.joined = false;
      setTimeout(() => join(), delay);
    } else if (state.pending) {
      setTimeout(() => sendPending(), delay);
    }
    return;
  }
  if (kind === "join") {
    state.joined = false;
    if (state.screen !== "join") {
      // A reloaded page whose remembered identity no longer fits: ask again.
      forget();
      state.identity = null;
      show("join");
    }
    $("join-submit").disabled = false;
    showError("join-error", errorText(m));
  } else if (kind === "start") {
    $("code-submit").disabled = false;
    if (m.code === "wrong_access_code") $("access-code").setAttribute("aria-invalid", "true");
    showError("code-error", errorText(m));
  } else if (kind === "answer") {
    answerRefused(m);
  } else if (kind === "alert") {
    if (m.code === "alert_pending") {
      state.alert = state.alert && state.alert !== "raising" ? state.alert : "E1";
      renderControls();
      return;
    }
    state.alert = "raising";
    renderControls();
    showError("alert-error", errorText(m));
  } else {
    announce(errorText(m));
  }
}

function answerRefused(m) {
  const pending = state.pending;
  if (!pending) return;
  if (RETRYABLE.has(m.code) && pending.retries < 5) {
    pending.retries += 1;
    setTimeout(() => sendPending(), 500 * pending.retries);
    return;
  }
  if (m.code === "transition_refused") {
    // The hub believes this page is gone: reconnect with the token, the answer follows.
    conn.drop();
    return;
  }
  state.pending = null;
  if (m.code === "alert_pending") {
    state.alert = state.alert || "E1";
  }
  renderControls();
  showError("answer-error", errorText(m));
}

// --- session storage: only the identity, so a reloaded page can ask for the resume ---

function remember() {
  try {
    sessionStorage.setItem(IDENTITY_KEY, JSON.stringify(state.identity));
  } catch {
    // private mode: the candidate types the identity again
  }
}

function forget() {
  try {
    sessionStorage.removeItem(IDENTITY_KEY);
  } catch {
    // nothing stored
  }
}

function recalled() {
  try {
    const value = JSON.parse(sessionStorage.getItem(IDENTITY_KEY) || "null");
    if (value && typeof value.session === "number") return value;
  } catch {
    // unreadable: ask again
  }
  return null;
}

// --- join and start ------------------------------------------------------------------

function readJoinForm() {
  const get = (id) => $(id).value.trim();
  const fields = ["session", "last-name", "first-name", "birth-day", "birth-month", "birth-year"];
  for (const id of fields) $(id).removeAttribute("aria-invalid");
  const invalid = (id, text) => {
    $(id).setAttribute("aria-invalid", "true");
    return { error: text, field: id };
  };
  const session = get("session").replace(/\s/g, "");
  if (!/^\d{1,15}$/.test(session)) return invalid("session", "Écrivez le numéro de session (des chiffres uniquement).");
  if (!get("last-name")) return invalid("last-name", "Écrivez votre nom de famille.");
  if (!get("first-name")) return invalid("first-name", "Écrivez votre prénom.");
  const day = Number(get("birth-day"));
  const month = Number(get("birth-month"));
  const year = Number(get("birth-year"));
  const date = new Date(Date.UTC(year, month - 1, day));
  const valid = Number.isInteger(day) && Number.isInteger(month) && Number.isInteger(year) &&
    year >= 1900 && year <= 2100 && date.getUTCDate() === day && date.getUTCMonth() === month - 1;
  if (!valid) {
    return invalid(get("birth-day") ? "birth-month" : "birth-day",
      "Écrivez une date de naissance valide : jour, mois et année (par exemple 21 06 2010).");
  }
  const pad = (n, w) => String(n).padStart(w, "0");
  return {
    identity: {
      session: Number(session),
      last_name: get("last-name"),
      first_name: get("first-name"),
      birthdate: `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`,
    },
  };
}

$("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const read = readJoinForm();
  if (read.error) {
    showError("join-error", read.error);
    return;
  }
  showError("join-error", "");
  state.identity = read.identity;
  $("join-submit").disabled = true;
  if (conn.ready) {
    join();
  } else {
    conn.reconnectNow(); // "ready" sends the join
  }
});

$("rules-done").addEventListener("click", () => show("code"));
$("code-back").addEventListener("click", () => show("instructions"));

$("code-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("access-code");
  const code = input.value.replace(/\s/g, "").toUpperCase();
  if (!/^[A-Z]{4}[0-9]{2}$/.test(code)) {
    input.setAttribute("aria-invalid", "true");
    showError("code-error", "Le code comporte 4 lettres puis 2 chiffres, par exemple KDMF47.");
    return;
  }
  input.removeAttribute("aria-invalid");
  showError("code-error", "");
  if (request("start", { type: "start", access_code: code }) === null) {
    showError("code-error", "Connexion interrompue : patientez quelques secondes puis réessayez.");
    return;
  }
  $("code-submit").disabled = true;
});

function begin(m) {
  state.token = m.resume_token;
  $("connection-banner").hidden = true;
  setDeadline(m.deadline);
  // The question message follows; the screen shows with it.
}

// --- the test --------------------------------------------------------------------------

function showQuestion(m) {
  const previous = state.question;
  const same = previous && previous.question_number === m.question_number &&
    previous.question.id === m.question.id;
  state.question = m;
  if (typeof m.deadline === "number") setDeadline(m.deadline);
  state.alert = m.alert || null;
  if (state.pending && state.pending.number <= m.question_number) {
    sendPending(); // after a reconnect: re-sent until acknowledged (idempotent on the hub)
  }
  const wasTest = state.screen === "test";
  if (!wasTest) show("test", { focus: false });
  if (same) {
    renderControls(); // a reconnect: keep what the candidate was choosing
    if (!wasTest) $("question-heading").focus();
    return;
  }
  renderQuestion(m);
  const saved = $("saved");
  if (state.replacement) {
    state.replacement = false;
    saved.textContent = "Votre signalement a été accepté : voici une nouvelle question à la place.";
    saved.classList.add("visible");
  } else if (!previous || previous.question_number === m.question_number) {
    saved.classList.remove("visible");
    saved.textContent = "";
  }
  $("question-heading").focus();
}

function renderQuestion(m) {
  const q = m.question;
  const count = m.question_count || state.questionCount;
  $("question-heading").textContent = `Question ${m.question_number} sur ${count}`;
  $("progress").max = count;
  $("progress").value = m.question_number - 1;
  $("progress").setAttribute("aria-valuetext", `${m.question_number - 1} questions sur ${count} terminées`);
  const name = q.competence_name;
  $("competence").textContent = q.competence ? `Compétence ${q.competence}${name ? ` : ${name}` : ""}` : "";
  $("question-text").textContent = q.text;
  $("type-hint").textContent = TYPE_HINTS[q.type] || "";
  renderMedia(q.media);
  const area = $("answer-area");
  area.replaceChildren();
  if (q.type === "short") {
    const wrap = document.createElement("div");
    wrap.className = "field";
    const label = document.createElement("label");
    label.htmlFor = "short-answer";
    label.textContent = "Votre réponse";
    const input = document.createElement("input");
    input.id = "short-answer";
    input.maxLength = 500;
    input.name = "short";
    input.autocomplete = "off";
    input.spellcheck = false;
    wrap.append(label, input);
    area.append(wrap);
  } else {
    const list = document.createElement("div");
    list.className = "choices";
    q.options.forEach((option, index) => {
      const id = `option-${index}`;
      const row = document.createElement("div");
      row.className = "choice";
      const input = document.createElement("input");
      input.type = q.type === "multiple" ? "checkbox" : "radio";
      input.name = "choice";
      input.id = id;
      input.value = option.id;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = option.text;
      row.append(input, label);
      list.append(row);
    });
    area.append(list);
  }
  showError("answer-error", "");
  $("alert-panel").hidden = true;
  renderControls();
}

function renderMedia(media) {
  const box = $("question-media");
  box.replaceChildren();
  if (!media) return;
  if (media.kind === "image") {
    const img = document.createElement("img");
    img.src = media.src;
    img.alt = media.alt;
    img.className = "media-image";
    box.append(img);
  } else if (media.kind === "link") {
    const link = document.createElement("a");
    link.href = media.src;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.textContent = `${media.alt} (s'ouvre dans un nouvel onglet)`;
    link.className = "media-link";
    box.append(link);
  }
}

/** Which panel shows: answering, confirming, sending, reporting or waiting on an alert. */
function renderControls(mode) {
  const waitingAlert = state.alert && state.alert !== "raising";
  const raising = state.alert === "raising";
  const sending = Boolean(state.pending) && !waitingAlert;
  const confirming = mode === "confirm" && !sending && !waitingAlert;
  $("answer-fieldset").disabled = sending || confirming || waitingAlert || raising;
  $("answer-actions").hidden = sending || confirming || waitingAlert || raising;
  $("confirm-panel").hidden = !confirming;
  $("sending-panel").hidden = !sending;
  if (sending) $("sending-text").textContent = "Enregistrement de votre réponse…";
  $("report-row").hidden = sending || confirming || waitingAlert || raising;
  $("alert-panel").hidden = !raising;
  $("alert-waiting").hidden = !waitingAlert;
}

function readAnswer() {
  const q = state.question.question;
  if (q.type === "short") {
    const text = $("short-answer").value.trim();
    if (!text) return { error: "Écrivez une réponse avant de valider." };
    return { answer: text, summary: [text] };
  }
  const checked = [...document.querySelectorAll("#answer-area input:checked")];
  if (!checked.length) {
    return { error: q.type === "multiple" ? "Choisissez au moins une réponse." : "Choisissez une réponse." };
  }
  const summary = checked.map((input) => $(input.id).labels[0].textContent);
  const ids = checked.map((input) => input.value);
  return { answer: q.type === "multiple" ? ids : ids[0], summary };
}

$("answer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!state.question || state.pending || state.alert) return;
  const read = readAnswer();
  if (read.error) {
    showError("answer-error", read.error);
    return;
  }
  showError("answer-error", "");
  state.draft = read;
  const list = $("confirm-answer");
  list.replaceChildren(...read.summary.map((text) => {
    const item = document.createElement("li");
    item.textContent = text;
    return item;
  }));
  renderControls("confirm");
  $("confirm-heading").focus();
});

$("confirm-no").addEventListener("click", () => {
  renderControls();
  const first = document.querySelector("#answer-area input:checked, #answer-area input");
  if (first) first.focus();
});

$("confirm-yes").addEventListener("click", () => {
  if (!state.draft || !state.question) return;
  state.pending = { number: state.question.question_number, answer: state.draft.answer, retries: 0 };
  state.draft = null;
  renderControls();
  $("sending-panel").focus();
  sendPending();
});

function sendPending() {
  const p = state.pending;
  if (!p || !state.joined) return; // re-sent after the reconnect ("question" after "resumed")
  request("answer", { type: "answer", question_number: p.number, answer: p.answer });
}

// --- live alert (docs/domain.md step 12) ------------------------------------------------------

function buildAlertChoices() {
  const box = $("alert-choices");
  for (const [code, label] of ALERT_CATEGORIES) {
    const row = document.createElement("div");
    row.className = "choice";
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "category";
    input.value = code;
    input.id = `alert-${code}`;
    const text = document.createElement("label");
    text.htmlFor = input.id;
    text.textContent = label;
    row.append(input, text);
    box.append(row);
  }
}

$("report-open").addEventListener("click", () => {
  state.alert = "raising";
  showError("alert-error", "");
  for (const input of document.querySelectorAll("#alert-choices input")) input.checked = false;
  renderControls();
  $("alert-heading").focus();
});

$("alert-cancel").addEventListener("click", () => {
  state.alert = null;
  renderControls();
  $("report-open").focus();
});

$("alert-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const chosen = document.querySelector("#alert-choices input:checked");
  if (!chosen) {
    showError("alert-error", "Choisissez le type de problème.");
    return;
  }
  if (request("alert", { type: "alert", category: chosen.value }) === null) {
    showError("alert-error", "Connexion interrompue : patientez quelques secondes puis réessayez.");
  }
});

// Escape backs out of the confirm step and of the report form, as a dialog would.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || state.screen !== "test") return;
  if (!$("confirm-panel").hidden) $("confirm-no").click();
  else if (!$("alert-panel").hidden) $("alert-cancel").click();
});

// --- the end ---------------------------------------------------------------------------

function end(status) {
  state.ended = true;
  state.pending = null;
  countdown.stop();
  conn.stop();
  forget();
  state.identity = null;
  state.token = null;
  const text = ENDED[status] || ENDED.ended_by_invigilator;
  $("ended-title").textContent = text.title;
  $("ended-text").textContent = text.text;
  $("connection-banner").hidden = true;
  $("time-banner").hidden = true;
  show("ended");
  announce(text.title);
}

// --- start-up ------------------------------------------------------------------------------

buildAlertChoices();
state.identity = recalled();
conn.open();
