// The staff JSON API (server/vigie/hub/http_api.py, contract at /openapi.json).
// Every failure becomes an ApiError carrying the server's French message and, when the
// server sends them, the field errors (`fields`) and the per-row errors (`rows`).

const TOKEN_KEY = "vigie.admin.token";

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message);
    this.status = status;
    this.code = error.code;
    this.fields = error.fields || null; // {field: reason} (invalid_fields)
    this.rows = error.errors || null; // [{row, field, message}] (invalid_candidates)
  }
}

const FALLBACK = {
  401: "Connexion requise.",
  403: "Vous n'avez pas le droit de faire cette action.",
  404: "Élément introuvable.",
  413: "Fichier trop volumineux (256 Kio au plus).",
  429: "Trop de tentatives. Réessayez dans quelques minutes.",
};

// The token lives in sessionStorage only: closing the tab logs out (shared school computers).
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** Call the API; `json` is sent as JSON, `body` as is with `contentType`. */
export async function request(path, { method = "GET", json, body, contentType } = {}) {
  const headers = { Accept: "application/json" };
  const bearer = token.get();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (contentType) {
    headers["Content-Type"] = contentType;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, cache: "no-store" });
  } catch {
    throw new ApiError(0, {
      code: "network",
      message: "Impossible de joindre le serveur. Vérifiez la connexion puis réessayez.",
    });
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (response.ok) return data;
  const error = data && data.error && typeof data.error.message === "string"
    ? data.error
    : {
      code: `http_${response.status}`,
      message: FALLBACK[response.status] || `Erreur du serveur (${response.status}). Réessayez.`,
    };
  throw new ApiError(response.status, error);
}

export const api = {
  login: (email, password) => request("/api/login", { method: "POST", json: { email, password } }),
  logout: () => request("/api/logout", { method: "POST" }),
  me: () => request("/api/me"),
  sessions: () => request("/api/sessions"),
  createSession: (fields) => request("/api/sessions", { method: "POST", json: fields }),
  session: (number) => request(`/api/sessions/${number}`),
  candidates: (number) => request(`/api/sessions/${number}/candidates`),
  addCandidate: (number, candidate) =>
    request(`/api/sessions/${number}/candidates`, { method: "POST", json: [candidate] }),
  importRoster: (number, file) =>
    request(`/api/sessions/${number}/candidates`, { method: "POST", body: file, contentType: "text/csv" }),
  removeCandidate: (number, id) =>
    request(`/api/sessions/${number}/candidates/${id}`, { method: "DELETE" }),
};
