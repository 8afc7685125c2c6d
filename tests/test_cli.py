"""The ``vigie`` command, run as a separate process against the test Redis and a SQLite file."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from conftest import UNIT
from vigie.live import LiveStore
from vigie.records import Records


async def vigie(tmp_path: Path, redis_url: str, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'vigie.db'}",
        "VIGIE_VAR_DIR": str(tmp_path / "var"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "vigie.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=30 * UNIT)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def demo(tmp_path: Path, redis_url: str) -> dict[str, Any]:
    code, out, err = await vigie(tmp_path, redis_url, "demo", "--json")
    assert code == 0, err
    info: dict[str, Any] = json.loads(out)
    return info


async def test_demo_is_created_once(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis
) -> None:
    first = await demo(tmp_path, redis_url)
    second = await demo(tmp_path, redis_url)
    assert first["created"] and not second["created"]
    assert {**first, "created": False} == second
    number = first["session_number"]

    records = Records(f"sqlite+aiosqlite:///{tmp_path / 'vigie.db'}")
    try:
        school = await records.find_school(uai="0999999X")
        assert school is not None
        assert [s.id for s in await records.list_sessions(school.id)] == [number]
        candidates = await records.list_candidates(number)
        await records.authenticate_staff(first["admin_email"], first["admin_password"])
    finally:
        await records.close()
    assert len(candidates) == 20
    by_name = {(c.last_name, c.first_name): c for c in candidates}
    assert by_name["N'Diaye", "Aïssatou"].extra_time == 0.33
    assert by_name["Bonnet", "Jade"].eligible is False
    assert by_name["Jackson", "Mary"].eligible is False
    assert by_name["Pouzin", "Louis"].eligible is True

    live = LiveStore(redis_client)
    assert len(await live.roster(number)) == 20
    meta = await live.meta(number)
    assert meta is not None and meta["access_code"] == first["access_code"]


async def test_demo_text_gives_the_three_urls(tmp_path: Path, redis_url: str) -> None:
    code, out, err = await vigie(tmp_path, redis_url, "demo")
    assert code == 0, err
    for expected in ("admin@vigie.test", "/surveillant/", "/admin/", "Code d'accès"):
        assert expected in out


async def test_create_admin(tmp_path: Path, redis_url: str) -> None:
    args = ("create-admin", "--email", "chef@lycee.fr", "--school", "Lycée Félix Éboué")
    code, out, _ = await vigie(tmp_path, redis_url, *args)
    assert code == 0 and "Mot de passe" in out
    password = out.rsplit(": ", 1)[1].strip()
    code, _, err = await vigie(tmp_path, redis_url, *args, "--password", "x")
    assert code == 1 and "déjà un compte" in err

    records = Records(f"sqlite+aiosqlite:///{tmp_path / 'vigie.db'}")
    try:
        staff = await records.authenticate_staff("chef@lycee.fr", password)
    finally:
        await records.close()
    assert staff.role == "admin"
