# ruff: noqa: F811 (the api fixture is imported, then named as a parameter)
"""The staff API under attack and bad input: every request gets a 4xx with a stable code and a
French message, never a 500, and a refused request writes nothing (real records and Redis)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_http_api import LEA, NEW_SESSION, Api, api, error_code  # noqa: F401 (fixture)
from vigie.hub.http_api import LOGIN_ATTEMPTS

HUGE = 2**63


async def _session(api: Api, token: str) -> int:
    async with api.client(token) as client:
        answer = await client.post("/api/sessions", json=NEW_SESSION)
    assert answer.status_code == 201, answer.text
    number: int = answer.json()["number"]
    return number


async def _counts(api: Api, school_token: str) -> tuple[int, int]:
    """How many sessions and candidates the school has (to check nothing was written)."""
    async with api.client(school_token) as client:
        sessions = (await client.get("/api/sessions")).json()["sessions"]
    return len(sessions), sum(s["candidate_count"] for s in sessions)


async def test_bodies_that_break_the_json_parser_are_refused(api: Api) -> None:
    bodies = [
        b"[" * 50_000 + b"]" * 50_000,  # deeper than Python's recursion limit
        b'{"email": ' + b"9" * 5_000 + b', "password": "x"}',  # over CPython's 4,300 digits
        b'{"email": "a@b.fr", "password": "\\ud800"}',
    ]
    async with api.client() as client:
        for body in bodies[:2]:
            answer = await client.post("/api/login", content=body)
            assert answer.status_code == 400, answer.text
            assert error_code(answer) == "invalid_json"
        answer = await client.post("/api/login", content=bodies[2])
        assert answer.status_code == 422  # a lone surrogate cannot be hashed
        assert error_code(answer) == "invalid_fields"


async def test_session_times_that_cannot_be_converted_are_refused(api: Api) -> None:
    token = await api.admin("dates@example.fr")
    before = await _counts(api, token)
    wrong = [
        {**NEW_SESSION, "timezone": "Europe/" + "x" * 5_000},
        {**NEW_SESSION, "timezone": "../../../../etc/passwd"},
        {**NEW_SESSION, "date": "9999-12-31", "time": "23:00", "timezone": "Etc/GMT+12"},
        {**NEW_SESSION, "date": "0001-01-01", "time": "00:30", "timezone": "Etc/GMT-14"},
        {**NEW_SESSION, "room": "Salle\x0012"},
    ]
    async with api.client(token) as client:
        for body in wrong:
            answer = await client.post("/api/sessions", json=body)
            assert answer.status_code == 422, (body, answer.text)
            assert error_code(answer) == "invalid_fields"
    assert await _counts(api, token) == before


async def test_numbers_beyond_sql_integers_in_paths_are_not_found(api: Api) -> None:
    token = await api.admin("paths@example.fr")
    number = await _session(api, token)
    async with api.client(token) as client:
        for path in (
            f"/api/sessions/{HUGE}",
            f"/api/sessions/{10**30}/candidates",
            f"/api/sessions/{2**31}",  # one past PostgreSQL's INTEGER
            f"/api/sessions/{2**52}/candidates",
        ):
            answer = await client.get(path)
            assert answer.status_code == 404, answer.text
            assert answer.json()["error"]["message"]
        for candidate in (HUGE, 2**31):
            answer = await client.delete(f"/api/sessions/{number}/candidates/{candidate}")
            assert answer.status_code == 404, answer.text


async def test_names_with_control_characters_are_refused_with_their_row(api: Api) -> None:
    token = await api.admin("controls@example.fr")
    number = await _session(api, token)
    rows = [LEA, {**LEA, "first_name": "Zo\x00é"}, {**LEA, "last_name": "Du\x85bois"},
            {**LEA, "first_name": "Noé", "external_id": "id\x1b[2J"}]  # fmt: skip
    csv = "Nom;Prénom;Date de naissance\r\nMartin;Léa;17/02/2010\r\nPetit;Lu\x07cas;01/03/2010\r\n"
    async with api.client(token) as client:
        answer = await client.post(f"/api/sessions/{number}/candidates", json=rows)
        assert answer.status_code == 422, answer.text
        errors = answer.json()["error"]["errors"]
        assert [(e["row"], e["field"]) for e in errors] == [
            (2, "first_name"),
            (3, "last_name"),
            (4, "external_id"),
        ]
        assert all("contrôle" in e["message"] for e in errors)
        answer = await client.post(
            f"/api/sessions/{number}/candidates", content=csv.encode(),
            headers={"content-type": "text/csv"},
        )  # fmt: skip
        assert answer.status_code == 422, answer.text
        assert [(e["row"], e["field"]) for e in answer.json()["error"]["errors"]] == [
            (2, "first_name")
        ]
    assert await _counts(api, token) == (1, 0)


async def test_a_csv_field_over_the_csv_module_limit_is_a_row_error(api: Api) -> None:
    token = await api.admin("bigcsv@example.fr")
    number = await _session(api, token)
    csv = "Nom;Prénom;Date de naissance\r\nMartin;Léa;17/02/2010\r\nPetit;" + "L" * 140_000
    async with api.client(token) as client:
        answer = await client.post(
            f"/api/sessions/{number}/candidates", content=csv.encode(),
            headers={"content-type": "text/csv"},
        )  # fmt: skip
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["errors"][0]["row"] == 2
    assert await _counts(api, token) == (1, 0)


async def test_a_success_does_not_wipe_the_failures_of_an_address(
    api: Api, redis_client: aioredis.Redis
) -> None:
    """Password spraying: an attacker who owns one account must not reset, by logging in to
    it, the count of their failures against other accounts from the same address."""
    await api.admin("mine@example.fr")
    async with api.client(address="10.9.8.7") as client:
        for n in range(LOGIN_ATTEMPTS - 1):
            victim = {"email": f"victim{n}@example.fr", "password": "devine"}
            assert (await client.post("/api/login", json=victim)).status_code == 401
        mine = {"email": "mine@example.fr", "password": "mot de passe"}
        assert (await client.post("/api/login", json=mine)).status_code == 200
        victim = {"email": "victim9@example.fr", "password": "devine"}
        assert (await client.post("/api/login", json=victim)).status_code == 401
        answer = await client.post("/api/login", json=victim)
    assert answer.status_code == 429 and error_code(answer) == "rate_limited"


async def test_parallel_login_guesses_get_no_more_comparisons(api: Api) -> None:
    await api.admin("target@example.fr")
    wrong = {"email": "target@example.fr", "password": "devine"}

    async def guess(client: httpx.AsyncClient) -> int:
        return (await client.post("/api/login", json=wrong)).status_code

    async with api.client(address="10.1.2.3") as client:
        statuses = await asyncio.gather(*(guess(client) for _ in range(40)))
    assert statuses.count(401) <= LOGIN_ATTEMPTS
    assert statuses.count(429) == 40 - statuses.count(401)


# --- every endpoint, any body ----------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=12,
)  # fmt: skip
candidate_like = st.fixed_dictionaries(
    {}, optional={k: json_values | st.text(max_size=30) for k in (*LEA, "extra_time_percent",
                                                                   "eligible", "email")},
)  # fmt: skip
session_like = st.fixed_dictionaries(
    {}, optional={k: json_values | st.text(max_size=30) for k in (*NEW_SESSION, "timezone",
                                                                   "starts_at")},
)  # fmt: skip
bodies = (json_values | st.lists(candidate_like, max_size=3) | session_like | candidate_like).map(
    lambda v: json.dumps(v).encode()
) | st.binary(max_size=64)
path_numbers = st.sampled_from(
    [0, 1, 2**31 - 1, 2**31, 2**52, 2**63 - 1, 2**63, 10**25]
) | st.integers(min_value=0)
edge_bodies = st.sampled_from([b"[" * 20_000, b"9" * 5_000, b'"\\ud800"', b"\xff\xfe", b""])

ENDPOINTS = [
    ("POST", "/api/login"), ("POST", "/api/logout"), ("GET", "/api/me"),
    ("POST", "/api/sessions"), ("GET", "/api/sessions"), ("GET", "/api/sessions/{n}"),
    ("POST", "/api/sessions/{n}/candidates"), ("GET", "/api/sessions/{n}/candidates"),
    ("DELETE", "/api/sessions/{n}/candidates/{c}"),
]  # fmt: skip


@pytest.mark.timeout(240)
async def test_no_endpoint_answers_5xx_or_writes_on_refusal(api: Api) -> None:
    token = await api.admin("fuzz@example.fr")
    own = await _session(api, token)
    problems: list[Any] = []

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        endpoint=st.sampled_from(ENDPOINTS), body=bodies,
        number=st.one_of(st.just(own), path_numbers), candidate=path_numbers,
        csv=st.booleans(), authorized=st.booleans(),
    )  # fmt: skip
    def one(
        endpoint: tuple[str, str], body: bytes, number: int, candidate: int, csv: bool,
        authorized: bool,
    ) -> None:  # fmt: skip
        method, path = endpoint
        path = path.format(n=number, c=candidate)
        headers = {"content-type": "text/csv" if csv else "application/json"}

        async def call() -> None:
            before = await _counts(api, token)
            # Logging out with the fuzzer's token would end the run: a token of no one instead.
            bearer = "personne" if path == "/api/logout" else token
            async with api.client(bearer if authorized else None) as client:
                answer = await client.request(method, path, content=body, headers=headers)
            if answer.status_code >= 500:
                problems.append((method, path, body[:200], answer.status_code, answer.text))
            elif answer.status_code >= 400:
                if not answer.json()["error"]["message"]:
                    problems.append((method, path, "no message"))
                if await _counts(api, token) != before:
                    problems.append((method, path, body[:200], "written although refused"))

        asyncio.run_coroutine_threadsafe(call(), loop).result()

    loop = asyncio.get_running_loop()
    await asyncio.to_thread(one)
    assert not problems, problems[:5]
