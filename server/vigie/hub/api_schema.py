"""The OpenAPI 3.1 description of the staff API (``hub/http_api.py``), written by hand.

tests/test_http_api.py checks that every route is described and that answers carry the
documented fields, so this document cannot drift from the handlers unnoticed.
"""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


_STR = {"type": "string"}
_NULLABLE_STR = {"type": ["string", "null"]}
_AUTH_ERRORS = {
    "401": _error("Jeton absent, invalide ou expiré (`not_authenticated`, `invalid_token`).")
}
_SESSION_ERRORS = {
    **_AUTH_ERRORS,
    "403": _error("La session appartient à un autre établissement (`forbidden`)."),
    "404": _error("Session inconnue (`session_not_found`)."),
}
_BODY_ERRORS = {
    "400": _error("Corps qui n'est pas du JSON (`invalid_json`)."),
    "413": _error("Corps de plus de 256 Kio (`payload_too_large`)."),
}
_NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "schema": {"type": "integer"},
    "description": "Numéro de session.",
}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {**_STR, "description": "Stable, machine-readable code."},
                    "message": {**_STR, "description": "Explanation in French, for people."},
                    "fields": {
                        "type": "object",
                        "additionalProperties": _STR,
                        "description": "Field -> reason (`invalid_fields`).",
                    },
                    "errors": {
                        "type": "array",
                        "items": _ref("RowError"),
                        "description": "Rows at fault (`invalid_candidates`).",
                    },
                    "retry_after": {"type": "number", "description": "Seconds (`rate_limited`)."},
                },
            }
        },
    },
    "RowError": {
        "type": "object",
        "required": ["row", "field", "message"],
        "properties": {
            "row": {"type": "integer", "description": "1-based; 0 for the file or list itself."},
            "field": _STR,
            "message": _STR,
        },
    },
    "Login": {
        "type": "object",
        "required": ["email", "password"],
        "properties": {"email": _STR, "password": _STR},
    },
    "Token": {
        "type": "object",
        "required": ["token", "token_type"],
        "properties": {"token": _STR, "token_type": {"const": "Bearer"}},
    },
    "Me": {
        "type": "object",
        "required": ["id", "email", "name", "role", "school"],
        "properties": {
            "id": {"type": "integer"},
            "email": _STR,
            "name": _STR,
            "role": {"enum": ["admin", "jury"]},
            "school": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["id", "name", "uai", "timezone"],
                        "properties": {
                            "id": {"type": "integer"},
                            "name": _STR,
                            "uai": _NULLABLE_STR,
                            "timezone": _STR,
                        },
                    },
                ]
            },
        },
    },
    "NewSession": {
        "type": "object",
        "required": ["room", "address", "examiner"],
        "description": "Give `starts_at`, or `date` and `time` in the session's time zone.",
        "properties": {
            "starts_at": {
                **_STR,
                "format": "date-time",
                "description": "ISO 8601; without an offset, local to the session.",
            },
            "date": {**_STR, "format": "date", "examples": ["2026-10-06"]},
            "time": {**_STR, "examples": ["09:30"]},
            "timezone": {**_STR, "description": "IANA zone; default: the school's."},
            "room": {**_STR, "maxLength": 200},
            "address": {**_STR, "maxLength": 500},
            "examiner": {**_STR, "maxLength": 200},
        },
    },
    "Session": {
        "type": "object",
        "required": [
            "number",
            "school_id",
            "starts_at",
            "local_starts_at",
            "timezone",
            "room",
            "address",
            "examiner",
            "status",
        ],
        "properties": {
            "number": {"type": "integer"},
            "school_id": {"type": "integer"},
            "starts_at": {**_STR, "format": "date-time", "description": "UTC."},
            "local_starts_at": {**_STR, "format": "date-time"},
            "timezone": _STR,
            "room": _STR,
            "address": _STR,
            "examiner": _STR,
            "status": {"enum": ["created", "finalized", "in_review", "published"]},
            "password": {**_STR, "description": "Invigilator kit (not in lists)."},
            "access_code": {**_STR, "description": "Invigilator kit (not in lists)."},
            "candidate_count": {"type": "integer", "description": "Registered candidates."},
        },
    },
    "NewCandidate": {
        "type": "object",
        "required": ["last_name", "first_name", "birthdate"],
        "additionalProperties": False,
        "properties": {
            "last_name": {**_STR, "maxLength": 100},
            "first_name": {**_STR, "maxLength": 100},
            "birthdate": {**_STR, "format": "date"},
            "extra_time_percent": {
                "type": ["number", "null"],
                "minimum": 0,
                "exclusiveMaximum": 1000,
            },
            "external_id": {**_NULLABLE_STR, "maxLength": 64},
            "email": {**_NULLABLE_STR, "maxLength": 254},
            "eligible": {"type": ["boolean", "null"]},
        },
    },
    "Candidate": {
        "type": "object",
        "required": [
            "id",
            "session_number",
            "last_name",
            "first_name",
            "birthdate",
            "extra_time_percent",
            "external_id",
            "email",
            "eligible",
        ],
        "properties": {
            "id": {"type": "integer"},
            "session_number": {"type": "integer"},
            "last_name": _STR,
            "first_name": _STR,
            "birthdate": {**_STR, "format": "date"},
            "extra_time_percent": {"type": "number"},
            "external_id": _NULLABLE_STR,
            "email": _NULLABLE_STR,
            "eligible": {"type": ["boolean", "null"]},
        },
    },
    "Candidates": {
        "type": "object",
        "required": ["candidates"],
        "properties": {"candidates": {"type": "array", "items": _ref("Candidate")}},
    },
}

_CANDIDATES_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {"type": "array", "items": _ref("NewCandidate"), "maxItems": 1000},
                    {
                        "type": "object",
                        "required": ["candidates"],
                        "properties": {
                            "candidates": {"type": "array", "items": _ref("NewCandidate")}
                        },
                    },
                ]
            }
        },
        "text/csv": {
            "schema": {
                **_STR,
                "description": (
                    "Roster export: UTF-8 (BOM allowed) or Windows-1252, `;` separated, header "
                    "Nom;Prénom;Date de naissance;Temps majoré (%);Identifiant externe;E-mail, "
                    "dates JJ/MM/AAAA."
                ),
            }
        },
    },
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Vigie: API des établissements",
        "version": "1.0.0",
        "description": "Sessions de certification Pix et inscription des candidats. "
        "Authentification : `Authorization: Bearer <token>` obtenu par POST /api/login.",
    },
    "components": {
        "schemas": _SCHEMAS,
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/login": {
            "post": {
                "summary": "Se connecter (5 échecs par minute au plus, par adresse et par compte).",
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("Login")}},
                },
                "responses": {
                    "200": _json(_ref("Token"), "Jeton valable 12 h."),
                    "401": _error("Identifiants incorrects."),
                    "422": _error("Champ manquant (`invalid_fields`)."),
                    "429": _error("Trop de tentatives (`rate_limited`)."),
                    **_BODY_ERRORS,
                },
            }
        },
        "/api/logout": {
            "post": {
                "summary": "Révoquer le jeton.",
                "responses": {"204": {"description": "Jeton révoqué."}, **_AUTH_ERRORS},
            }
        },
        "/api/me": {
            "get": {
                "summary": "Le compte connecté et son établissement.",
                "responses": {"200": _json(_ref("Me"), "Compte."), **_AUTH_ERRORS},
            }
        },
        "/api/sessions": {
            "get": {
                "summary": "Les sessions de l'établissement.",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["sessions"],
                            "properties": {"sessions": {"type": "array", "items": _ref("Session")}},
                        },
                        "Sessions.",
                    ),
                    "403": _error("Réservé aux administrateurs (`forbidden`)."),
                    **_AUTH_ERRORS,
                },
            },
            "post": {
                "summary": "Créer une session (numéro, mot de passe et code d'accès tirés).",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("NewSession")}},
                },
                "responses": {
                    "201": _json(_ref("Session"), "Session créée, avec le kit surveillant."),
                    "403": _error("Réservé aux administrateurs (`forbidden`)."),
                    "422": _error("Champs invalides (`invalid_fields`)."),
                    **_AUTH_ERRORS,
                    **_BODY_ERRORS,
                },
            },
        },
        "/api/sessions/{number}": {
            "get": {
                "summary": "Une session, avec le kit surveillant.",
                "parameters": [_NUMBER],
                "responses": {"200": _json(_ref("Session"), "Session."), **_SESSION_ERRORS},
            }
        },
        "/api/sessions/{number}/candidates": {
            "parameters": [_NUMBER],
            "get": {
                "summary": "Les candidats inscrits.",
                "responses": {"200": _json(_ref("Candidates"), "Candidats."), **_SESSION_ERRORS},
            },
            "post": {
                "summary": "Inscrire des candidats : tous ou aucun.",
                "requestBody": _CANDIDATES_BODY,
                "responses": {
                    "201": _json(_ref("Candidates"), "Candidats inscrits."),
                    "409": _error("Session finalisée (`session_closed`)."),
                    "422": _error("Lignes en erreur (`invalid_candidates`), rien n'est inscrit."),
                    **_SESSION_ERRORS,
                    **_BODY_ERRORS,
                },
            },
        },
        "/api/sessions/{number}/candidates/{candidate_id}": {
            "delete": {
                "summary": "Désinscrire un candidat qui n'a pas commencé.",
                "parameters": [
                    _NUMBER,
                    {
                        "name": "candidate_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                ],
                "responses": {
                    "204": {"description": "Désinscrit."},
                    "409": _error("Test commencé (`candidate_started`) ou session finalisée."),
                    **_SESSION_ERRORS,
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "Ce document.",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1."}},
            }
        },
    },
}
