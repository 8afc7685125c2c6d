"""The one exception tree of Vigie.

Every error carries a stable ``code`` (English, snake_case, part of the protocol) and a
French ``message`` for people. Only the edges (HTTP endpoints, WebSocket handlers) turn them
into HTTP statuses, error frames and close codes::

    VigieError
    ├── InvalidInput            malformed or out-of-range input (HTTP 400/422)
    ├── NotAuthenticated        no or wrong credentials (HTTP 401)
    ├── Forbidden               authenticated, but not allowed to act on this (HTTP 403)
    ├── NotFound                no such session, candidate, question (HTTP 404)
    ├── RateLimited             too many attempts; carries retry_after (HTTP 429)
    ├── StoreUnavailable        Redis or the records store does not answer: retry (HTTP 503)
    └── Refused                 a rule of the certification refuses the action (HTTP 409)
        ├── TransitionRefused   the command is not allowed in the candidate's status
        └── Conflict            a concurrent change won (stale version): retry on fresh state
"""

from __future__ import annotations


class VigieError(Exception):
    """Base of every error Vigie reports to a person or a program."""

    code = "error"
    message = "Une erreur est survenue."
    http_status = 400

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        super().__init__(f"{self.code}: {self.message}")


class InvalidInput(VigieError):
    code = "invalid_input"
    message = "Les données envoyées sont invalides."
    http_status = 422


class NotAuthenticated(VigieError):
    code = "not_authenticated"
    message = "Identifiants incorrects."
    http_status = 401


class Forbidden(VigieError):
    code = "forbidden"
    message = "Vous n'avez pas le droit de faire cette action."
    http_status = 403


class NotFound(VigieError):
    code = "not_found"
    message = "Élément introuvable."
    http_status = 404


class RateLimited(VigieError):
    code = "rate_limited"
    message = "Trop de tentatives. Réessayez dans quelques minutes."
    http_status = 429

    def __init__(
        self, message: str | None = None, *, code: str | None = None, retry_after: float = 60.0
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class StoreUnavailable(VigieError):
    """A store is away (Redis restarting, database unreachable). Every action is idempotent
    (version checks, answers stored once), so the same request can simply be sent again."""

    code = "store_unavailable"
    message = "Service momentanément indisponible : réessayez dans quelques secondes."
    http_status = 503


class Refused(VigieError):
    code = "refused"
    message = "Cette action n'est pas possible maintenant."
    http_status = 409


class TransitionRefused(Refused):
    """A command that the candidate's current status does not allow."""

    code = "transition_refused"

    def __init__(
        self, command: str, status: str, *, action_label: str = "", status_label: str = ""
    ) -> None:
        self.command = command
        self.status = status
        action = action_label or f"« {command} »"
        super().__init__(f"Action {action} impossible : statut « {status_label or status} ».")


class Conflict(Refused):
    """Another actor changed the same candidate first: the caller's view was stale."""

    code = "conflict"
    message = "Un autre surveillant vient de modifier ce candidat. L'affichage a été mis à jour."
