// Small DOM helpers shared by the screens. Text from the server only ever goes in with
// textContent: names typed by a school are never parsed as HTML.

import { fieldLabel } from "./format.js";

export const $ = (id) => document.getElementById(id);

/** An element with text and attributes, built without innerHTML. */
export function el(tag, { text, className, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

export function show(name) {
  for (const section of document.querySelectorAll(".screen")) {
    section.hidden = section.id !== `screen-${name}`;
  }
  const section = $(`screen-${name}`);
  document.title = `${section.dataset.title} : Vigie administration`;
  const heading = section.querySelector("h1");
  if (heading) heading.focus();
}

export function setTitle(text) {
  document.title = `${text} : Vigie administration`;
}

export function announce(text) {
  const region = $("announce");
  region.textContent = "";
  // A fresh text after a tick, so a repeated message is announced again.
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}

export function notice(id, text, { focus = false } = {}) {
  const box = $(id);
  box.textContent = text || "";
  box.hidden = !text;
  if (text && focus) box.focus();
}

export function clearError(id) {
  const box = $(id);
  box.replaceChildren();
  box.hidden = true;
}

/**
 * Show an API error in the alert box `id`: its French message, then the fields or rows at
 * fault. Field errors are also marked on the form's inputs (found by field name).
 */
export function showError(id, error, { form = null } = {}) {
  const box = $(id);
  box.replaceChildren();
  if (form) clearFieldErrors(form);
  if (error.fields) {
    box.append(el("p", { text: "Certains champs sont invalides :" }));
    box.append(el("ul", {}, Object.entries(error.fields).map(
      ([field, why]) => el("li", { text: `${fieldLabel(field)} : ${why}` }),
    )));
    if (form) markFields(form, Object.entries(error.fields));
  } else if (error.rows && form) {
    // One candidate sent from a form: its errors by field.
    box.append(el("p", { text: error.message }));
    box.append(el("ul", {}, error.rows.map(
      (row) => el("li", { text: `${fieldLabel(row.field)} : ${row.message}` }),
    )));
    markFields(form, error.rows.map((row) => [row.field, row.message]));
  } else if (error.rows) {
    box.append(el("p", { text: error.message }));
    box.append(rowErrorsTable(error.rows));
  } else {
    box.append(el("p", { text: error.message }));
  }
  box.hidden = false;
  box.focus();
}

function rowErrorsTable(rows) {
  const body = el("tbody", {}, rows.map((row) => el("tr", {}, [
    el("td", { text: row.row === 0 ? "En-tête" : String(row.row), className: "num" }),
    el("td", { text: fieldLabel(row.field) }),
    el("td", { text: row.message }),
  ])));
  return el("div", { className: "table-wrap" }, [
    el("table", { className: "error-rows", attrs: { id: "import-error-rows" } }, [
      el("caption", {
        text: "Lignes en erreur (comptées sans la ligne d'en-tête)",
        className: "visually-hidden",
      }),
      el("thead", {}, [el("tr", {}, [
        el("th", { text: "Ligne", attrs: { scope: "col" }, className: "num" }),
        el("th", { text: "Colonne", attrs: { scope: "col" } }),
        el("th", { text: "Problème", attrs: { scope: "col" } }),
      ])]),
      body,
    ]),
  ]);
}

const FIELD_ALIASES = { starts_at: ["date", "time"] };

function markFields(form, entries) {
  for (const [field, message] of entries) {
    for (const name of FIELD_ALIASES[field] || [field]) {
      const input = form.elements.namedItem(name);
      if (!input || !input.id) continue;
      input.setAttribute("aria-invalid", "true");
      const note = el("p", { text: message, className: "field-error", attrs: { id: `${input.id}-error` } });
      input.after(note);
      const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      input.setAttribute("aria-describedby", [...described, note.id].join(" "));
    }
  }
}

export function clearFieldErrors(form) {
  for (const note of form.querySelectorAll(".field-error")) {
    const input = form.querySelector(`[aria-describedby~="${note.id}"]`);
    if (input) {
      const rest = input.getAttribute("aria-describedby").split(" ").filter((id) => id !== note.id);
      if (rest.length) input.setAttribute("aria-describedby", rest.join(" "));
      else input.removeAttribute("aria-describedby");
    }
    note.remove();
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/** Disable a form's submit button while `work` runs. */
export async function busy(button, work) {
  button.disabled = true;
  try {
    return await work();
  } finally {
    button.disabled = false;
  }
}
