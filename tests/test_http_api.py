"""The staff JSON API on a real app: real records (SQLite and PostgreSQL) and real Redis."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.routing import Route

from vigie.hub.http_api import OPENAPI, routes
from vigie.live import LiveStore
from vigie.records import Records

ROSTER = Path(__file__).resolve().parents[1] / "server" / "vigie" / "demo" / "roster.csv"
NEW_SESSION = {"date": "2026-10-06", "time": "09:30", "room": "Salle 12",
               "address": "1 rue de l'École, Lyon", "examiner": "M. Durand"}  # fmt: skip
LEA = {"last_name": "Martin", "first_name": "Léa", "birthdate": "2010-02-17"}


@dataclass
class Api:
    app: Starlette
    records: Records
    live: LiveStore

    def client(self, token: str | None = None, address: str = "127.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(address, 1234))
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(transport=transport, base_url="http://hub", headers=headers)

    async def admin(self, email: str, school: str = "Collège Jean Moulin") -> str:
        found = await self.records.create_school(school)
        await self.records.create_staff(email, "mot de passe", "admin", found.id)
        async with self.client() as client:
            answer = await client.post(
                "/api/login", json={"email": email, "password": "mot de passe"}
            )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["token"]
        return token


@pytest.fixture
async def api(database_url: str, redis_client: aioredis.Redis) -> AsyncIterator[Api]:
    records = Records(database_url)
    await records.migrate()
    app = Starlette(routes=routes)
    app.state.records = records
    app.state.live = LiveStore(redis_client)
    try:
        yield Api(app, records, app.state.live)
    finally:
        await records.close()


def error_code(answer: httpx.Response) -> str:
    code: str = answer.json()["error"]["code"]
    assert answer.json()["error"]["message"]
    return code


async def test_openapi_describes_every_route(api: Api) -> None:
    async with api.client() as client:
        answer = await client.get("/openapi.json")
    assert answer.status_code == 200
    assert answer.json() == json.loads(json.dumps(OPENAPI))
    described = {(path, method) for path, item in OPENAPI["paths"].items() for method in item
                 if method != "parameters"}  # fmt: skip
    served = {
        (route.path.replace(":int", ""), method.lower())
        for route in routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert served == described
    assert OPENAPI["openapi"].startswith("3.1")


async def test_authentication_is_required(api: Api) -> None:
    async with api.client() as client:
        assert error_code(await client.get("/api/sessions")) == "not_authenticated"
    async with api.client("not-a-token") as client:
        answer = await client.get("/api/me")
    assert answer.status_code == 401 and error_code(answer) == "invalid_token"
    assert answer.headers["www-authenticate"] == "Bearer"


async def test_login_me_logout(api: Api) -> None:
    token = await api.admin("admin@jean-moulin.fr")
    async with api.client(token) as client:
        me = (await client.get("/api/me")).json()
        assert me["role"] == "admin" and me["school"]["name"] == "Collège Jean Moulin"
        assert (await client.post("/api/logout")).status_code == 204
        assert (await client.get("/api/me")).status_code == 401


async def test_login_is_rate_limited_per_account_and_per_address(api: Api) -> None:
    await api.admin("cible@example.fr")
    wrong = {"email": "cible@example.fr", "password": "non"}
    for attempt in range(5):
        async with api.client(address=f"10.0.0.{attempt}") as client:
            assert (await client.post("/api/login", json=wrong)).status_code == 401
    async with api.client(address="10.0.1.1") as client:
        right = {"email": "cible@example.fr", "password": "mot de passe"}
        answer = await client.post("/api/login", json=right)
    assert answer.status_code == 429 and error_code(answer) == "rate_limited"
    assert int(answer.headers["retry-after"]) >= 1

    async with api.client(address="10.0.2.1") as client:
        for attempt in range(5):
            other = {"email": f"inconnu{attempt}@example.fr", "password": "x"}
            assert (await client.post("/api/login", json=other)).status_code == 401
        answer = await client.post("/api/login", json={"email": "x@example.fr", "password": "x"})
    assert answer.status_code == 429


async def test_sessions_belong_to_their_school(api: Api) -> None:
    mine = await api.admin("a@jean-moulin.fr")
    theirs = await api.admin("b@victor-hugo.fr", "Lycée Victor Hugo")
    async with api.client(mine) as client:
        created = await client.post("/api/sessions", json=NEW_SESSION)
        assert created.status_code == 201, created.text
        session = created.json()
        number = session["number"]
        assert session["starts_at"] == "2026-10-06T07:30:00Z"  # 09:30 in Paris, summer time
        assert session["password"] and session["access_code"]
        listed = (await client.get("/api/sessions")).json()["sessions"]
        assert [s["number"] for s in listed] == [number] and "password" not in listed[0]
        assert listed[0]["candidate_count"] == 0
        kit = (await client.get(f"/api/sessions/{number}")).json()
        assert kit["access_code"] == session["access_code"] and kit["candidate_count"] == 0
        assert error_code(await client.get(f"/api/sessions/{number + 1}")) == "session_not_found"
    assert (await api.live.meta(number) or {})["password"] == session["password"]
    async with api.client(theirs) as client:
        assert (await client.get("/api/sessions")).json()["sessions"] == []
        for answer in (
            await client.get(f"/api/sessions/{number}"),
            await client.post(f"/api/sessions/{number}/candidates", json=[LEA]),
            await client.delete(f"/api/sessions/{number}/candidates/1"),
        ):
            assert answer.status_code == 403 and error_code(answer) == "forbidden"


async def test_bad_bodies_are_refused(api: Api) -> None:
    token = await api.admin("a@jean-moulin.fr")
    async with api.client(token) as client:
        answer = await client.post(
            "/api/sessions", content=b"{room:", headers={"content-type": "application/json"}
        )
        assert answer.status_code == 400 and error_code(answer) == "invalid_json"
        answer = await client.post("/api/sessions", content=b"[" + b" " * 300_000 + b"]")
        assert answer.status_code == 413 and error_code(answer) == "payload_too_large"
        answer = await client.post(
            "/api/sessions", json={**NEW_SESSION, "room": "", "time": "25:00"}
        )
        assert answer.status_code == 422 and error_code(answer) == "invalid_fields"
        assert set(answer.json()["error"]["fields"]) == {"room", "starts_at"}
        assert (await client.get("/api/sessions")).json()["sessions"] == []


async def test_candidates_all_or_nothing_and_live(api: Api) -> None:
    token = await api.admin("a@jean-moulin.fr")
    async with api.client(token) as client:
        number = (await client.post("/api/sessions", json=NEW_SESSION)).json()["number"]
        url = f"/api/sessions/{number}/candidates"
        bad = [
            {**LEA, "extra_time_percent": 33},
            {"last_name": "Roux", "first_name": "", "birthdate": "09/09/2009", "extra_time": 33},
            LEA,
        ]
        answer = await client.post(url, json=bad)
        assert answer.status_code == 422 and error_code(answer) == "invalid_candidates"
        assert [(e["row"], e["field"]) for e in answer.json()["error"]["errors"]] == [
            (2, "extra_time"), (2, "first_name"), (2, "birthdate"), (3, "last_name"),
        ]  # fmt: skip
        assert (await client.get(url)).json()["candidates"] == []
        assert await api.live.roster(number) == {}

        answer = await client.post(url, json={"candidates": [{**LEA, "extra_time_percent": 33}]})
        assert answer.status_code == 201, answer.text
        [lea] = answer.json()["candidates"]
        assert lea["extra_time_percent"] == 33 and lea["birthdate"] == "2010-02-17"
        live = await api.live.roster(number)
        assert live[lea["id"]].extra_time == pytest.approx(0.33)

        again = await client.post(url, json=[{**LEA, "last_name": "MARTIN"}])
        assert again.status_code == 422
        assert (await client.delete(f"{url}/{lea['id']}")).status_code == 204
        assert await api.live.roster(number) == {}
        assert (await client.delete(f"{url}/{lea['id']}")).status_code == 404


async def test_a_started_candidate_cannot_be_removed(api: Api) -> None:
    token = await api.admin("a@jean-moulin.fr")
    async with api.client(token) as client:
        number = (await client.post("/api/sessions", json=NEW_SESSION)).json()["number"]
        url = f"/api/sessions/{number}/candidates"
        [lea] = (await client.post(url, json=[LEA])).json()["candidates"]
        await api.live.set_fields(number, lea["id"], status="in_progress")
        answer = await client.delete(f"{url}/{lea['id']}")
        assert answer.status_code == 409 and error_code(answer) == "candidate_started"
        assert len((await client.get(url)).json()["candidates"]) == 1


async def test_csv_roster_upload(api: Api) -> None:
    token = await api.admin("a@jean-moulin.fr")
    async with api.client(token) as client:
        number = (await client.post("/api/sessions", json=NEW_SESSION)).json()["number"]
        url = f"/api/sessions/{number}/candidates"
        csv_headers = {"content-type": "text/csv; charset=utf-8"}
        answer = await client.post(url, content=ROSTER.read_bytes(), headers=csv_headers)
        assert answer.status_code == 201, answer.text
        assert len(answer.json()["candidates"]) == 20
        assert len(await api.live.roster(number)) == 20
        answer = await client.post(url, content=ROSTER.read_bytes(), headers=csv_headers)
        assert answer.status_code == 422 and len(answer.json()["error"]["errors"]) == 20
