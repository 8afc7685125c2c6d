"""Configuration from the environment (documented in README.md, "Configuration")."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class Config:
    redis_url: str | None = None
    """External Redis; ``None`` starts an embedded one under ``var_dir``."""
    database_url: str = ""
    """SQLAlchemy async URL; empty means the SQLite file ``var_dir/vigie.db``."""
    var_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "var")
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    heartbeat_timeout: float = 12.0
    """Seconds of silence before a candidate is marked disconnected (docs/architecture.md: 12 s)."""
    sweep_interval: float = 0.5
    """Seconds between presence sweeps: silence shows within 12 to 12.5 s."""
    resume_grace: float = 60.0
    """Seconds during which the same page may reconnect alone with its resume token."""
    stream_maxlen: int = 10_000
    outbound_queue: int = 256
    """Frames a connection may have waiting before it is dropped as too slow."""
    secret_key: str = ""
    """Signs staff cookies; generated into ``var_dir/secret_key`` when empty."""
    drain_spread: float = 2.0
    """On SIGTERM, seconds over which the hub closes its sockets (1012), at random instants:
    a room's pages and boards move to another hub without all knocking at once."""
    drain_timeout: float = 10.0
    """The bound on a graceful stop: past it the remaining sockets are closed at once."""

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{self.var_dir / 'vigie.db'}"


def normalize_database_url(url: str) -> str:
    """Accept plain ``postgresql://`` and ``sqlite://`` URLs and pick the async drivers."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def from_env(environ: dict[str, str] | None = None) -> Config:
    env = dict(os.environ if environ is None else environ)
    var_dir = Path(env.get("VIGIE_VAR_DIR", str(PROJECT_ROOT / "var")))
    host = env.get("VIGIE_HOST", "127.0.0.1")
    port = int(env.get("VIGIE_PORT", "8000"))
    return Config(
        redis_url=env.get("REDIS_URL") or None,
        database_url=env.get("DATABASE_URL", ""),
        var_dir=var_dir,
        host=host,
        port=port,
        public_url=env.get("VIGIE_PUBLIC_URL", f"http://{host}:{port}"),
        heartbeat_timeout=float(env.get("VIGIE_HEARTBEAT_TIMEOUT", "12")),
        sweep_interval=float(env.get("VIGIE_SWEEP_INTERVAL", "0.5")),
        resume_grace=float(env.get("VIGIE_RESUME_GRACE", "60")),
        secret_key=env.get("VIGIE_SECRET_KEY", ""),
        drain_spread=float(env.get("VIGIE_DRAIN_SPREAD", "2")),
        drain_timeout=float(env.get("VIGIE_DRAIN_TIMEOUT", "10")),
    )
