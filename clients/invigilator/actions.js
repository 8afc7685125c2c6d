// The invigilator's actions: each opens its dialog when it needs one, sends one request,
// and reports the outcome in French (the ack, or the error code's text).

import { fullName } from "./board.js";
import { CATEGORIES, QUESTION_CATEGORIES, errorText } from "./messages.js";
import { el } from "./view.js";

export class Actions {
  /** `ui` gives: conn, board, report(text, ok), rowOf(cid). */
  constructor(ui) {
    this.ui = ui;
    this.confirmDialog = document.getElementById("dlg-confirm");
    this.timeDialog = document.getElementById("dlg-time");
    this.alertDialog = document.getElementById("dlg-alert");
    this.incidentDialog = document.getElementById("dlg-incident");
    this._fillCategories();
  }

  async send(message, { row } = {}) {
    try {
      return await this.ui.conn.request(message);
    } catch (error) {
      const current = row ? this.ui.rowOf(row.candidate_id) : null;
      error.text = errorText(error, { action: message.type, status: current?.status });
      throw error;
    }
  }

  async run(action, row) {
    const handlers = {
      confirm: () => this.confirmPresence([row]),
      cancel: () => this.simple("cancel_presence", row, `Présence annulée : ${fullName(row)}.`),
      resume: () => this.simple("authorize_resume", row,
        `Reprise autorisée pour ${fullName(row)} : elle reste valable 15 minutes.`),
      end: () => this.endTest(row),
      time: () => this.grantTime(row),
      alert: () => this.handleAlert(row),
      incident: () => this.recordIncident(row),
    };
    await handlers[action]?.();
  }

  async simple(type, row, success) {
    try {
      await this.send({ type, candidate_id: row.candidate_id }, { row });
      this.ui.report(success, true);
    } catch (error) {
      this.ui.report(`${fullName(row)} : ${error.text}`, false);
    }
  }

  async confirmPresence(rows) {
    if (!rows.length) return;
    try {
      const ack = await this.send({ type: "confirm_presence", candidate_ids: rows.map((r) => r.candidate_id) },
        { row: rows.length === 1 ? rows[0] : null });
      const byId = new Map(rows.map((r) => [r.candidate_id, r]));
      const done = ack.results.filter((r) => r.ok).map((r) => fullName(byId.get(r.candidate_id)));
      const failed = ack.results.filter((r) => !r.ok).map((r) => {
        const row = byId.get(r.candidate_id);
        return `${fullName(row)} (${errorText(r, { action: "confirm_presence", status: this.ui.rowOf(r.candidate_id)?.status })})`;
      });
      const parts = [];
      if (done.length) parts.push(`Présence confirmée : ${done.join(", ")}.`);
      if (failed.length) parts.push(`Non confirmé : ${failed.join(" ; ")}`);
      this.ui.report(parts.join(" "), failed.length === 0);
      return ack;
    } catch (error) {
      const who = rows.length === 1 ? `${fullName(rows[0])} : ` : "";
      this.ui.report(`${who}${error.text}`, false);
      return null;
    }
  }

  async endTest(row) {
    const ok = await this.ask(
      `Terminer le test de ${fullName(row)} ?`,
      "Cette action est irréversible : le candidat ne pourra plus répondre et son test sera clos avec les réponses déjà données.",
      "Terminer le test",
    );
    if (!ok) return;
    await this.simple("end_test", row, `Test terminé : ${fullName(row)}.`);
  }

  async endOverdue(rows) {
    const names = rows.map(fullName).join(", ");
    const ok = await this.ask(
      `Terminer ${rows.length} test${rows.length > 1 ? "s" : ""} hors délai ?`,
      `Candidats dont le temps est écoulé : ${names}. Cette action est irréversible.`,
      "Terminer les tests hors délai",
    );
    if (!ok) return;
    try {
      const ack = await this.send({ type: "end_overdue" });
      const ended = ack.ended.map((cid) => this.ui.rowOf(cid)).filter(Boolean).map(fullName);
      this.ui.report(ended.length ? `Tests hors délai terminés : ${ended.join(", ")}.` : "Aucun test hors délai à terminer.", true);
    } catch (error) {
      this.ui.report(error.text, false);
    }
  }

  async grantTime(row) {
    const form = this.timeDialog.querySelector("form");
    form.reset();
    this.timeDialog.querySelector("h2").textContent = `Accorder du temps à ${fullName(row)}`;
    const current = this.ui.rowOf(row.candidate_id);
    this.timeDialog.querySelector("#time-current").textContent = current.deadline
      ? `Fin prévue actuellement : ${this.ui.fmt().time(current.deadline)}.`
      : "Le test n'a pas commencé : le temps s'ajoutera à sa durée.";
    await this.dialogLoop(this.timeDialog, async (value) => {
      if (value !== "ok") return true;
      const minutes = Number(form.minutes.value);
      const reason = form.reason.value.trim();
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) return "Indiquez un nombre entier de minutes entre 1 et 1440.";
      if (!reason) return "Indiquez la raison du temps accordé.";
      const before = { ...this.ui.rowOf(row.candidate_id) };
      const ack = await this.send({ type: "grant_time", candidate_id: row.candidate_id, minutes, reason }, { row });
      // The ack may come before or after the event that moves the deadline on this board.
      const after = this.ui.rowOf(row.candidate_id);
      const deadline = after.version !== before.version ? after.deadline
        : before.deadline && before.deadline + minutes * 60;
      const end = deadline ? ` Nouvelle fin : ${this.ui.fmt().time(deadline)}.` : "";
      this.ui.report(`${minutes} min accordées à ${fullName(row)}.${end}`, true);
      return Boolean(ack);
    });
  }

  async handleAlert(row) {
    const form = this.alertDialog.querySelector("form");
    const current = this.ui.rowOf(row.candidate_id) || row;
    this.alertDialog.querySelector("h2").textContent = `Signalement de ${fullName(row)}`;
    this.alertDialog.querySelector("#alert-what").textContent =
      `Question ${current.question_number} : ${current.alert} – ${CATEGORIES[current.alert] || "problème signalé"}.`;
    form.subcategory.value = current.alert && QUESTION_CATEGORIES.includes(current.alert) ? current.alert : "E1";
    await this.dialogLoop(this.alertDialog, async (value) => {
      if (value === "validate") {
        const subcategory = form.subcategory.value;
        await this.send({ type: "validate_alert", candidate_id: row.candidate_id, subcategory }, { row });
        this.ui.report(`Signalement de ${fullName(row)} validé (${subcategory}) : la question est remplacée.`, true);
      } else if (value === "dismiss") {
        await this.send({ type: "dismiss_alert", candidate_id: row.candidate_id }, { row });
        this.ui.report(`Signalement de ${fullName(row)} refusé : le candidat reprend la même question.`, true);
      }
      return true;
    });
  }

  async recordIncident(row) {
    const form = this.incidentDialog.querySelector("form");
    form.reset();
    const select = form.candidate;
    select.replaceChildren(el("option", { value: "", text: "Aucun en particulier (toute la session)" }),
      ...this.ui.sortedRows().map((r) => el("option", { value: String(r.candidate_id), text: fullName(r) })));
    select.value = row ? String(row.candidate_id) : "";
    if (row?.started_at && row.question_number) form.question.value = String(row.question_number);
    await this.dialogLoop(this.incidentDialog, async (value) => {
      if (value !== "ok") return true;
      const category = form.category.value;
      const description = form.description.value.trim();
      const number = form.question.value ? Number(form.question.value) : null;
      if (category.startsWith("E") && !(Number.isInteger(number) && number >= 1 && number <= 32)) {
        return "Indiquez le numéro de la question (1 à 32) pour une catégorie E.";
      }
      if (!description) return "Décrivez l'incident.";
      const message = { type: "record_incident", category, description };
      if (select.value) message.candidate_id = Number(select.value);
      if (number !== null) message.question_number = number;
      await this.send(message);
      const who = select.value ? ` pour ${fullName(this.ui.rowOf(Number(select.value)))}` : "";
      this.ui.report(`Incident ${category} consigné${who}.`, true);
      return true;
    });
  }

  /** Open a modal form; `submit(value)` returns true to close, or a French error text. */
  dialogLoop(dialog, submit) {
    const form = dialog.querySelector("form");
    const error = dialog.querySelector(".form-error");
    error.textContent = "";
    return new Promise((resolve) => {
      const onSubmit = async (event) => {
        event.preventDefault();
        const value = event.submitter?.value || "ok";
        const buttons = form.querySelectorAll("button");
        buttons.forEach((b) => (b.disabled = true));
        let outcome;
        try {
          outcome = await submit(value);
        } catch (failure) {
          outcome = failure.text || errorText(failure);
        }
        buttons.forEach((b) => (b.disabled = false));
        if (outcome === true) {
          finish();
        } else if (typeof outcome === "string") {
          error.textContent = outcome;
        }
      };
      const finish = () => {
        form.removeEventListener("submit", onSubmit);
        dialog.removeEventListener("cancel", onCancel);
        if (dialog.open) dialog.close();
        resolve();
      };
      const onCancel = () => finish();
      form.addEventListener("submit", onSubmit);
      dialog.addEventListener("cancel", onCancel);
      dialog.showModal();
    });
  }

  /** A confirmation dialog for an irreversible action; resolves true when confirmed. */
  ask(title, text, confirmLabel) {
    const dialog = this.confirmDialog;
    dialog.querySelector("#confirm-title").textContent = title;
    dialog.querySelector("#confirm-text").textContent = text;
    dialog.querySelector("#confirm-ok").textContent = confirmLabel;
    return new Promise((resolve) => {
      dialog.returnValue = "cancel";
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
      dialog.showModal();
      dialog.querySelector("button[value=cancel]").focus(); // the safe choice has the focus
    });
  }

  _fillCategories() {
    const alertSelect = document.getElementById("alert-subcategory");
    alertSelect.replaceChildren(...QUESTION_CATEGORIES.map((code) =>
      el("option", { value: code, text: `${code} – ${CATEGORIES[code]}` })));
    const incident = document.getElementById("incident-category");
    const group = (label, codes) => el("optgroup", { label },
      ...codes.map((code) => el("option", { value: code, text: `${code} – ${CATEGORIES[code]}` })));
    const codes = Object.keys(CATEGORIES);
    incident.replaceChildren(
      group("Incidents de session ou du candidat", codes.filter((c) => c.startsWith("C"))),
      group("Problème sur une question", codes.filter((c) => c.startsWith("E"))),
    );
  }
}
