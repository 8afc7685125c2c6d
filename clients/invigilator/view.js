// Rendering of the board: rows are created once per candidate and updated in place, so
// focus, checkboxes and screen reader position survive every event. Text goes through
// textContent only: names come from the roster and are never parsed as HTML.

import { fullName, isOverdue } from "./board.js";
import { CATEGORIES, RUNNING, STATUS_LABELS } from "./messages.js";

const TOTAL_QUESTIONS = 32;
const SILENT_AFTER = 12; // seconds: the hub marks a silent candidate disconnected after 12 s

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data-") || key.startsWith("aria-") || key === "role") node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

export function formatters(timeZone) {
  const time = new Intl.DateTimeFormat("fr-FR", { hour: "2-digit", minute: "2-digit", timeZone });
  const date = new Intl.DateTimeFormat("fr-FR", { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone });
  return {
    time: (epoch) => (epoch ? time.format(new Date(epoch * 1000)).replace(":", " h ") : "—"),
    date: (epoch) => (epoch ? date.format(new Date(epoch * 1000)) : "—"),
  };
}

/** "1 h 05 min", "42 min", "4 min 05 s", "35 s". */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h) return `${h} h ${String(m).padStart(2, "0")} min`;
  if (m >= 10) return `${m} min`;
  if (m) return `${m} min ${String(r).padStart(2, "0")} s`;
  return `${r} s`;
}

/** What the actions cell offers for a row, in order: [action, label]. */
export function rowActions(row) {
  const actions = [];
  if (row.alert) actions.push(["alert", "Traiter le signalement"]);
  switch (row.status) {
    case "registered":
      if (row.eligible) actions.push(["confirm", "Confirmer la présence"]);
      break;
    case "present":
      actions.push(["cancel", "Annuler la présence"]);
      break;
    case "disconnected":
      actions.push(["resume", "Autoriser la reprise"]);
      break;
    case "resume_authorized":
      actions.push(["resume", "Renouveler la reprise"]);
      break;
    default:
      break;
  }
  if (RUNNING.has(row.status) || row.status === "present") actions.push(["time", "Temps +"]);
  if (RUNNING.has(row.status)) actions.push(["end", "Terminer"]);
  actions.push(["incident", "Incident"]);
  return actions;
}

export class RowView {
  constructor(row) {
    this.id = row.candidate_id;
    this.actionsKey = "";
    this.tr = el("tr", { "data-cid": String(row.candidate_id) });
    this.select = el("input", { type: "checkbox", class: "select" });
    this.name = el("span", { class: "name", tabIndex: -1 });
    this.notes = el("span", { class: "notes" });
    this.status = el("span", { class: "status" });
    this.badges = el("span", { class: "badges" });
    this.question = el("span");
    this.start = el("span");
    this.end = el("span");
    this.endNote = el("span", { class: "sub" });
    this.remaining = el("span", { class: "remaining" });
    this.lost = el("span");
    this.seen = el("span", { class: "seen" });
    this.actions = el("div", { class: "row-actions" });
    const cell = (label, ...nodes) => el("td", { "data-label": label }, ...nodes);
    this.tr.append(
      el("td", { class: "col-select" }, this.select),
      el("th", { scope: "row", class: "who" }, this.name, this.notes),
      cell("Statut", this.status, this.badges),
      cell("Question", this.question),
      cell("Début", this.start),
      cell("Fin prévue", this.end, this.endNote),
      cell("Temps restant", this.remaining),
      cell("Temps perdu", this.lost),
      cell("Dernier signe", this.seen),
      el("td", { class: "col-actions" }, this.actions),
    );
  }

  update(row, now, fmt, selected) {
    const name = fullName(row);
    const overdue = isOverdue(row, now);
    setText(this.name, name);
    const notes = [`né(e) le ${birthdate(row.birthdate)}`];
    if (row.extra_time) notes.push(`temps majoré +${Math.round(row.extra_time * 100)} %`);
    if (!row.eligible) notes.push("non certifiable : code SOS");
    if (row.locked_until && row.locked_until > now) notes.push(`code bloqué jusqu'à ${fmt.time(row.locked_until)}`);
    setText(this.notes, notes.join(" · "));

    const selectable = row.status === "registered" && row.eligible;
    this.select.hidden = !selectable;
    this.select.disabled = !selectable;
    this.select.checked = selectable && selected;
    this.select.setAttribute("aria-label", `Sélectionner ${name}`);

    this.status.className = `status status-${row.status}`;
    setText(this.status, STATUS_LABELS[row.status] || row.status);
    this.badges.replaceChildren(
      ...(row.alert
        ? [el("span", { class: "badge badge-alert", text: `⚠ Signalement ${row.alert}`, title: CATEGORIES[row.alert] || "" })]
        : []),
      ...(overdue ? [el("span", { class: "badge badge-overdue", text: "Hors délai" })] : []),
    );

    setText(this.question, row.question_number && row.started_at ? `${row.question_number} / ${TOTAL_QUESTIONS}` : "—");
    setText(this.start, fmt.time(row.started_at));
    setText(this.end, fmt.time(row.deadline));
    setText(this.endNote, row.granted_minutes ? `dont +${Math.round(row.granted_minutes)} min accordées` : "");

    let remaining = "—";
    if (RUNNING.has(row.status) && row.deadline) {
      remaining = overdue ? `dépassé de ${duration(now - row.deadline)}` : duration(row.deadline - now);
    } else if (row.ended_at) {
      remaining = `fini à ${fmt.time(row.ended_at)}`;
    }
    setText(this.remaining, remaining);
    this.remaining.classList.toggle("late", overdue);
    this.remaining.classList.toggle("soon", !overdue && RUNNING.has(row.status) && row.deadline - now < 600);

    let lost = row.time_lost || 0;
    if (row.disconnected_at) lost += Math.max(0, now - row.disconnected_at);
    setText(this.lost, lost >= 1 ? duration(lost) : "—");

    let seen = "—";
    let stale = false;
    if (row.status === "disconnected" && row.disconnected_at) {
      seen = `déconnecté depuis ${duration(now - row.disconnected_at)}`;
      stale = true;
    } else if (RUNNING.has(row.status) && row.last_heartbeat) {
      const ago = Math.max(0, now - row.last_heartbeat);
      seen = `vu il y a ${Math.round(ago)} s`;
      stale = ago > SILENT_AFTER;
    }
    setText(this.seen, seen);
    this.seen.classList.toggle("stale", stale);

    this.tr.className = [
      row.alert ? "has-alert" : "",
      overdue ? "overdue" : "",
      `row-${row.status}`,
    ].join(" ").trim();

    const actions = rowActions(row);
    const key = actions.map(([a]) => a).join(",");
    if (key !== this.actionsKey) {
      const hadFocus = this.actions.contains(document.activeElement);
      this.actionsKey = key;
      this.actions.replaceChildren(
        ...actions.map(([action, label]) =>
          el("button", {
            type: "button",
            class: `act act-${action}`,
            "data-action": action,
            text: label,
            "aria-label": `${label} : ${name}`,
          }),
        ),
      );
      if (hadFocus) (this.actions.querySelector("button") || this.name).focus();
    }
  }
}

/** "2010-06-21" -> "21/06/2010": shown to tell homonyms apart (identity check, step 5). */
function birthdate(iso) {
  const [y, m, d] = String(iso || "").split("-");
  return d ? `${d}/${m}/${y}` : "—";
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
