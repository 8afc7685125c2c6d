"""The HTTP edge of the exception tree: bodies read with a limit, errors as JSON.

Every error answer has the body ``{"error": {"code": ..., "message": ...}}`` (plus ``errors``,
the per-row list, when a roster is refused) and the status the exception declares.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vigie.exceptions import (
    InvalidInput,
    NotAuthenticated,
    RateLimited,
    StoreUnavailable,
    VigieError,
)
from vigie.hub.outage import as_store_unavailable
from vigie.registration import RegistrationRejected

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024
"""A roster of 1,000 candidates fits in well under 256 KiB."""


class PayloadTooLarge(InvalidInput):
    code = "payload_too_large"
    message = "Requête trop volumineuse (256 Kio au plus)."
    http_status = 413


class InvalidJson(InvalidInput):
    code = "invalid_json"
    message = "Le corps de la requête n'est pas un JSON valide."
    http_status = 400


class FieldErrors(InvalidInput):
    """Validation of a JSON object: the fields at fault and why."""

    code = "invalid_fields"
    message = "Certains champs sont invalides."

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(
            "Champs invalides : "
            + "; ".join(f"{FIELD_LABELS.get(name, name)} : {why}" for name, why in fields.items())
        )
        self.fields = fields


FIELD_LABELS = {
    "email": "E-mail", "password": "Mot de passe", "starts_at": "Date et heure",
    "date": "Date", "time": "Heure", "timezone": "Fuseau horaire", "room": "Salle",
    "address": "Adresse", "examiner": "Examinateur", "last_name": "Nom",
    "first_name": "Prénom", "birthdate": "Date de naissance",
    "extra_time_percent": "Temps majoré (%)", "external_id": "Identifiant externe",
    "eligible": "Éligibilité", "candidates": "Candidats",
}  # fmt: skip
"""How fields are named in messages for people; ``fields`` keeps the code names."""


class InternalError(VigieError):
    code = "internal_error"
    message = "Erreur interne du serveur. Réessayez ; si cela persiste, prévenez l'assistance."
    http_status = 500


def error_response(exc: VigieError) -> JSONResponse:
    """The one translation of a ``VigieError`` into an HTTP answer."""
    error: dict[str, Any] = {"code": exc.code, "message": exc.message}
    headers: dict[str, str] = {}
    if isinstance(exc, RegistrationRejected):
        error["errors"] = [e.as_dict() for e in exc.errors]
    if isinstance(exc, FieldErrors):
        error["fields"] = exc.fields
    if isinstance(exc, NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, StoreUnavailable):
        headers["Retry-After"] = "2"
    if isinstance(exc, RateLimited):
        error["retry_after"] = round(exc.retry_after, 1)
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    return JSONResponse({"error": error}, status_code=exc.http_status, headers=headers)


Handler = Callable[[Request], Awaitable[Response]]


def api_endpoint(handler: Handler) -> Handler:
    """Turn the errors a handler raises into their JSON answers; log the unexpected."""

    @wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except VigieError as exc:
            return error_response(exc)
        except Exception as exc:
            away = as_store_unavailable(exc)
            if away is not None:
                log.warning("store unavailable on %s %s: %r", request.method, request.url.path,
                            exc)  # fmt: skip
                return error_response(away)
            log.exception("unexpected error on %s %s", request.method, request.url.path)
            return error_response(InternalError())

    return wrapper


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The body, refused as soon as it passes ``limit`` (never buffered beyond it)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request) -> Any:
    body = await read_body(request)
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        # ValueError: invalid UTF-8 or JSON, and integers of over 4,300 digits (CPython's
        # limit on int parsing); RecursionError: "[[[[..." nested deeper than the stack.
        raise InvalidJson() from exc
