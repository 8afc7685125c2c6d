// The board's model: one row per candidate, kept in step with the session's ordered log.
// A snapshot replaces everything; each event (in seq order) updates one row in place,
// the same way the hub's core changed the candidate (server/vigie/core/candidate.py).

import { FINAL, RUNNING } from "./messages.js";

export class Board {
  constructor() {
    this.session = null;
    this.rows = new Map(); // candidate_id -> row
    this.epoch = null;
    this.seq = 0;
    this.incidents = [];
  }

  /** Replace the whole state with a snapshot frame. */
  load(snapshot) {
    this.session = snapshot.session;
    this.epoch = snapshot.epoch;
    this.seq = snapshot.seq;
    this.rows = new Map(snapshot.candidates.map((row) => [row.candidate_id, { ...row }]));
  }

  /**
   * Where an event frame stands against what we applied: "apply", "old" (already in),
   * "gap" (events are missing before it) or "epoch" (the log was reset: resync).
   */
  place(frame) {
    if (frame.epoch !== this.epoch) return "epoch";
    if (frame.seq <= this.seq) return "old";
    if (frame.seq > this.seq + 1) return "gap";
    return "apply";
  }

  /** Apply one event frame (already placed as "apply"); returns the changed row or null. */
  apply(frame) {
    this.seq = frame.seq;
    const event = frame.event;
    if (event.type === "incident_recorded") {
      this.incidents.push(event);
      return null;
    }
    const row = this.rows.get(event.candidate_id);
    if (!row) return null;
    if (event.status) row.status = event.status;
    if (event.version !== undefined) row.version = event.version;
    switch (event.type) {
      case "start":
        row.started_at = event.started_at;
        row.question_number = event.question_number;
        row.deadline = event.deadline;
        break;
      case "answer":
        row.question_number = event.question_number;
        break;
      case "disconnect":
        row.disconnected_at = event.at;
        row.disconnect_reason = event.reason;
        break;
      case "reconnect":
      case "resume":
        row.time_lost = event.time_lost;
        if (event.deadline !== undefined) row.deadline = event.deadline;
        row.disconnected_at = null;
        row.resume_authorized_at = null;
        row.last_heartbeat = event.at;
        break;
      case "authorize_resume":
        row.resume_authorized_at = event.at;
        break;
      case "finish":
      case "end_by_invigilator":
      case "finalize":
        // The core adds the time since the disconnection to time_lost when it ends a test.
        if (row.disconnected_at) row.time_lost += Math.max(0, event.ended_at - row.disconnected_at);
        row.disconnected_at = null;
        row.ended_at = event.ended_at;
        row.alert = null;
        row.last_heartbeat = null;
        break;
      case "grant_time":
        row.granted_minutes = event.granted_minutes;
        if (event.deadline !== undefined && event.deadline !== null) row.deadline = event.deadline;
        break;
      case "raise_alert":
        row.alert = event.category;
        row.alert_question = event.question_number;
        row.alert_at = event.at;
        break;
      case "validate_alert":
      case "dismiss_alert":
        row.alert = null;
        break;
      case "code_locked":
        row.locked_until = event.locked_until;
        break;
      default:
        break;
    }
    return row;
  }

  /** Presence push: the last heartbeat of each connected candidate. */
  presence(heartbeats) {
    for (const row of this.rows.values()) {
      const beat = heartbeats[String(row.candidate_id)];
      row.last_heartbeat = beat === undefined ? (RUNNING.has(row.status) ? row.last_heartbeat : null) : beat;
    }
  }
}

export function isOverdue(row, now) {
  return RUNNING.has(row.status) && row.deadline != null && now >= row.deadline;
}

export function isFinal(row) {
  return FINAL.has(row.status);
}

export function fullName(row) {
  return `${row.last_name} ${row.first_name}`;
}

/** docs/domain.md: alerts first, then overtime, then by name (French collation). */
export function sortRows(rows, now) {
  const collator = new Intl.Collator("fr", { sensitivity: "base" });
  const rank = (row) => (row.alert ? 0 : isOverdue(row, now) ? 1 : 2);
  return [...rows].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      collator.compare(a.last_name, b.last_name) ||
      collator.compare(a.first_name, b.first_name) ||
      a.candidate_id - b.candidate_id,
  );
}

/** Filter on name (accents and case ignored), status label, or candidate number. */
export function matches(row, filter, statusLabel) {
  if (!filter) return true;
  const fold = (text) => String(text).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  const wanted = fold(filter.trim());
  const haystack = fold(`${row.last_name} ${row.first_name} ${row.first_name} ${row.last_name} ${statusLabel}`);
  return wanted.split(/\s+/).every((word) => haystack.includes(word));
}
