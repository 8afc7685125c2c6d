"""Which failures mean "a store is away", so the edges answer ``store_unavailable``.

Redis restarting (refused or reset connections, timeouts, ``LOADING`` while it replays its
AOF, a replica not yet writable) and an unreachable database are not bugs: the request is
answered with a retryable error (HTTP 503, error frame ``store_unavailable``) instead of
``internal_error``, and the hub keeps every socket open (docs/protocol.md, "Errors").
"""

from __future__ import annotations

from redis.exceptions import BusyLoadingError, ReadOnlyError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, OperationalError

from vigie.exceptions import StoreUnavailable

REDIS_AWAY: tuple[type[BaseException], ...] = (
    RedisConnectionError, RedisTimeoutError, BusyLoadingError, ReadOnlyError, TryAgainError,
    ConnectionError, TimeoutError,
)  # fmt: skip
"""Errors of a Redis that is down, restarting or failing over (``OSError`` subclasses too)."""


def as_store_unavailable(exc: BaseException) -> StoreUnavailable | None:
    """``StoreUnavailable`` when ``exc`` says a store is away, else ``None``."""
    if isinstance(exc, (*REDIS_AWAY, OperationalError)):
        return StoreUnavailable()
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return StoreUnavailable()
    return None
