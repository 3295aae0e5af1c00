"""A partner's request checks its token with no database round trip, and changes still hold in time.

Each process answers from the clients and revoked tokens it read at most
``HUB_AUTH_CACHE_SECONDS`` ago (``hub.auth.standing``). Each change a token must yield to (a
revoked client or token, a narrowed scope, a changed tier, a rotated secret, a retired key) is
made here after the process read its copy, and must be refused by the first request once the
copy is as old as the bound: the request just before is still answered from the copy, which
shows the copy is what answers. Time is turned by hand (``clock``) with a short bound; one test
waits for the default bound in real time, and one runs ``hub serve --workers 2``.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from hub.app import create_app
from hub.auth.clients import ClientService
from hub.auth.keys import SigningKey
from hub.auth.models import OAuthClient, RevokedToken
from hub.auth.principal import Tier
from hub.auth.repository import ClientRepository
from hub.auth.signing import SigningKeyService
from hub.config import Settings
from hub.db import (
    HubSession,
    create_engine,
    create_sessionmaker,
    recorded_statements,
    transaction,
)
from hub.kit.time import utcnow
from hub.migrate import upgrade
from tests.federation.peers import free_ports, hub_command
from tests.fixtures.databases import empty_database
from tests.fixtures.oauth import (
    BASE_URL,
    QUERY,
    Credentials,
    access_token,
    graphql,
    hub_claims,
    oauth_client,
    sign,
)

#: The bound of these tests: short, and not the default, so the setting is what is obeyed.
BOUND = 1.5
#: How much earlier than the bound the last request answered from the copy comes.
JUST_BEFORE = 0.01


class Clock:
    """The monotonic clock that ages each process's copies of the clients and keys."""

    def __init__(self) -> None:
        self.monotonic = 1_000.0

    def advance(self, seconds: float) -> None:
        self.monotonic += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr("hub.auth.standing.monotonic", lambda: clock.monotonic)
    monkeypatch.setattr("hub.auth.signing.monotonic", lambda: clock.monotonic)
    return clock


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        signing_key_path=tmp_path / "keys" / "signing-key.pem", auth_cache_seconds=BOUND
    )


def _app(settings: Settings, sessionmaker: async_sessionmaker[HubSession]) -> httpx.AsyncClient:
    app = create_app(settings, sessionmaker=sessionmaker)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)


@pytest.fixture
async def other_process(
    settings: Settings, sessionmaker: async_sessionmaker[HubSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """A second hub process on the same database, with copies of its own."""
    async with _app(settings, sessionmaker) as client:
        yield client


def refusal(reason: str) -> tuple[int, dict[str, Any]]:
    return 401, {"errors": [{"message": reason, "extensions": {"code": "UNAUTHENTICATED"}}]}


async def answer(hub: httpx.AsyncClient, token: str) -> tuple[int, dict[str, Any]]:
    response = await graphql(hub, token)
    return response.status_code, response.json()


ANSWERED = (200, {"data": {"enterprises": {"totalCount": 0}}})


async def assert_takes_effect_at_the_bound(
    hub: httpx.AsyncClient, token: str, clock: Clock, reason: str, *, since: float = 0.0
) -> None:
    """``hub`` read its copy ``since`` seconds ago, before the change: the copy answers until
    it is ``BOUND`` old, and the first request from then on is refused for ``reason``."""
    clock.advance(BOUND - since - JUST_BEFORE)
    assert await answer(hub, token) == ANSWERED
    clock.advance(JUST_BEFORE)
    assert await answer(hub, token) == refusal(reason)
    clock.advance(BOUND)
    assert await answer(hub, token) == refusal(reason)


async def used(hub: httpx.AsyncClient, token: str) -> str:
    """``token``, once answered: the process now holds its copy of the token's client."""
    assert await answer(hub, token) == ANSWERED
    return token


async def test_a_revoked_client_is_refused_from_the_bound_on(
    hub: httpx.AsyncClient, partner: Credentials, session: HubSession, clock: Clock
) -> None:
    # given
    token = await used(hub, await access_token(hub, partner))

    # when: `hub clients revoke`, in another process
    await ClientService(session).revoke(partner.client_id)

    # then
    await assert_takes_effect_at_the_bound(hub, token, clock, "the client was revoked")


async def test_a_token_revoked_through_another_process_is_refused_from_the_bound_on(
    hub: httpx.AsyncClient,
    other_process: httpx.AsyncClient,
    partner: Credentials,
    clock: Clock,
) -> None:
    # given: a token both processes have checked
    token = await used(hub, await used(other_process, await access_token(hub, partner)))

    # when: revoked at the other process
    revoked = await other_process.post("/oauth/revoke", data={"token": token}, auth=partner.basic)
    assert (revoked.status_code, revoked.json()) == (200, {})

    # then: that process refuses it at once, this one from the bound on
    assert await answer(other_process, token) == refusal("token revoked")
    await assert_takes_effect_at_the_bound(hub, token, clock, "token revoked")


async def test_a_narrowed_scope_is_enforced_from_the_bound_on(
    hub: httpx.AsyncClient, partner: Credentials, session: HubSession, clock: Clock
) -> None:
    # given: a token for both of the client's scopes
    token = await used(hub, await access_token(hub, partner))

    # when: the client keeps only one
    client = await session.get(OAuthClient, partner.client_id)
    assert client is not None
    client.scope = "credit:read"
    await session.flush()

    # then
    await assert_takes_effect_at_the_bound(
        hub, token, clock, "token scopes exceed the client's grant"
    )


async def test_a_changed_tier_is_enforced_from_the_bound_on(
    hub: httpx.AsyncClient, partner: Credentials, session: HubSession, clock: Clock
) -> None:
    # given
    token = await used(hub, await access_token(hub, partner))

    # when: the partner becomes an internal agency; its partner tokens no longer say what it is
    client = await session.get(OAuthClient, partner.client_id)
    assert client is not None
    client.tier = Tier.INTERNAL
    await session.flush()

    # then
    await assert_takes_effect_at_the_bound(
        hub, token, clock, "token tier differs from the client's"
    )


async def test_a_rotated_secret_refuses_older_tokens_from_the_bound_on(
    hub: httpx.AsyncClient,
    partner: Credentials,
    session: HubSession,
    settings: Settings,
    signing_key: SigningKey,
    clock: Clock,
) -> None:
    # given: a token issued a minute ago (a token of the rotation's own second still passes)
    issued = int(time.time()) - 60
    claims = hub_claims(settings, partner.client_id, scope="credit:read", now=issued)
    token = await used(hub, sign(signing_key.private, claims))

    # when: `hub clients rotate-secret`
    await ClientService(session).rotate_secret(partner.client_id)

    # then
    await assert_takes_effect_at_the_bound(
        hub, token, clock, "token issued before the client's secret was rotated"
    )


async def test_a_retired_signing_key_is_refused_from_the_bound_on(
    hub: httpx.AsyncClient,
    partner: Credentials,
    sessionmaker: async_sessionmaker[HubSession],
    settings: Settings,
    signing_key: SigningKey,
    clock: Clock,
) -> None:
    # given: a token of the first key, verified once (so also remembered as verified)
    token = await used(hub, await access_token(hub, partner))

    # when: a new key signs at once, and the first is forced out
    async with transaction(sessionmaker) as session:
        keys = SigningKeyService(session)
        now = utcnow()
        await keys.rotate(now=now, activation_delay=0, key_file=settings.signing_key_path)
        await keys.retire(signing_key.kid, now=now, token_lifetime=300, force=True)

    # then
    await assert_takes_effect_at_the_bound(hub, token, clock, "token signed with an unknown key")


async def test_every_process_sees_a_change_within_the_bound_of_it(
    hub: httpx.AsyncClient,
    other_process: httpx.AsyncClient,
    partner: Credentials,
    session: HubSession,
    clock: Clock,
) -> None:
    # given: two processes that read their copies a second apart
    token = await used(hub, await access_token(hub, partner))
    clock.advance(1.0)
    await used(other_process, token)

    # when: the client is revoked 0.2 s later
    clock.advance(0.2)
    await ClientService(session).revoke(partner.client_id)

    # then: each copy answers until it is BOUND old, so each process refuses the client
    # BOUND - 1.2 and BOUND - 0.2 seconds after the change: both within the bound
    clock.advance(BOUND - 1.2 - JUST_BEFORE)
    assert await answer(hub, token) == ANSWERED
    clock.advance(JUST_BEFORE)
    assert await answer(hub, token) == refusal("the client was revoked")
    await assert_takes_effect_at_the_bound(
        other_process, token, clock, "the client was revoked", since=BOUND - 1.0
    )


async def test_a_token_newer_than_the_copy_is_judged_on_a_fresh_read(
    hub: httpx.AsyncClient, partner: Credentials, session: HubSession, clock: Clock
) -> None:
    # given: a process that read its copy before a client existed, and before a scope
    # was granted
    await used(hub, await access_token(hub, partner))
    newcomer = await oauth_client(session, name="Ministry of Finance", scopes=("credit:read",))
    client = await session.get(OAuthClient, partner.client_id)
    assert client is not None
    client.scope = "credit:read licences:read recalls:read"
    await session.flush()

    # when / then: their new tokens are answered at once, not refused until the bound
    assert await answer(hub, await access_token(hub, newcomer)) == ANSWERED
    widened = await access_token(hub, partner, scope="recalls:read")
    assert await answer(hub, widened) == ANSWERED


async def test_a_bound_of_zero_reads_the_client_on_every_request(
    partner: Credentials,
    session: HubSession,
    sessionmaker: async_sessionmaker[HubSession],
    tmp_path: Path,
) -> None:
    settings = Settings(signing_key_path=tmp_path / "key.pem", auth_cache_seconds=0)
    async with _app(settings, sessionmaker) as hub:
        token = await used(hub, await access_token(hub, partner))
        await ClientService(session).revoke(partner.client_id)
        assert await answer(hub, token) == refusal("the client was revoked")


def test_the_bound_is_at_most_five_seconds(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(signing_key_path=tmp_path / "key.pem", auth_cache_seconds=5.5)
    assert [error["loc"] for error in refused.value.errors()] == [("auth_cache_seconds",)]
    assert Settings(signing_key_path=tmp_path / "key.pem").auth_cache_seconds == 5.0


async def test_a_revocation_outlives_its_token_by_the_leeway(
    hub: httpx.AsyncClient,
    partner: Credentials,
    session: HubSession,
    settings: Settings,
    signing_key: SigningKey,
    clock: Clock,
) -> None:
    # given: a token revoked, whose exp passed a moment ago: still valid within the leeway
    now = int(time.time())
    claims = hub_claims(settings, partner.client_id, now=now - 300 - 5, exp=now - 5)
    token = sign(signing_key.private, claims)
    revoked = await hub.post("/oauth/revoke", data={"token": token}, auth=partner.basic)
    assert revoked.status_code == 200

    # when: another revocation purges what protects nothing any more
    await ClientRepository(session).revoke_token("next", partner.client_id, utcnow(), utcnow())
    clock.advance(BOUND)

    # then: the revocation of the token is kept while the token would still verify
    assert await answer(hub, token) == refusal("token revoked")
    kept = await session.scalars(select(RevokedToken.jti).order_by(RevokedToken.jti))
    assert kept.all() == [claims["jti"], "next"]


@contextmanager
def sent(connection: AsyncConnection, dialect: str, raw: Any) -> Iterator[list[str]]:
    """Every statement sent on the test's connection: SQLAlchemy's, and on PostgreSQL also
    asyncpg's own calls (the compiled read, BEGIN and ROLLBACK), which SQLAlchemy does not see.
    Savepoints are numbered per session; the numbers are left out."""
    seen: list[str] = []

    def logged(record: Any) -> None:
        seen.append(record.query)

    if dialect == "postgres":
        raw.add_query_logger(logged)
    try:
        with recorded_statements(connection.sync_connection) as through_sqlalchemy:  # type: ignore[arg-type]
            yield seen
            seen.extend(through_sqlalchemy)
    finally:
        if dialect == "postgres":
            raw.remove_query_logger(logged)
    seen[:] = [re.sub(r"sa_savepoint_\d+", "sa_savepoint", statement) for statement in seen]


async def test_a_partner_request_sends_the_read_only(
    hub: httpx.AsyncClient, partner: Credentials, connection: AsyncConnection, dialect: str
) -> None:
    # given: a token checked once
    token = await used(hub, await access_token(hub, partner))
    raw = (await connection.get_raw_connection()).driver_connection

    # when: the partner asks again, and the public asks the same
    with sent(connection, dialect, raw) as by_partner:
        for _ in range(3):
            assert await answer(hub, token) == ANSWERED
        # asyncpg reports its statements on the next turn of the loop
        await asyncio.sleep(0)
    with sent(connection, dialect, raw) as by_public:
        anonymous = await hub.post("/graphql", json={"query": QUERY})
        assert anonymous.json() == ANSWERED[1]
        await asyncio.sleep(0)

    # then: what the partner's requests sent is three times the public read, nothing more
    assert by_partner == by_public * 3
    assert not [s for s in by_partner if "oauth_client" in s or "revoked_token" in s]
    assert len(by_public) == 1, by_public  # the compiled read, alone, on either database


async def test_the_default_bound_holds_in_real_time(
    partner: Credentials,
    session: HubSession,
    sessionmaker: async_sessionmaker[HubSession],
    tmp_path: Path,
) -> None:
    # given: the default settings, and a token checked once
    settings = Settings(signing_key_path=tmp_path / "key.pem")
    assert settings.auth_cache_seconds == 5.0
    async with _app(settings, sessionmaker) as hub:
        token = await used(hub, await access_token(hub, partner))

        # when
        await ClientService(session).revoke(partner.client_id)
        changed_at = time.monotonic()

        # then: answered from the copy at first, refused by every request from 5 s on
        answers: list[tuple[float, int]] = []
        while (sent_at := time.monotonic()) < changed_at + 5.6:
            answers.append((sent_at - changed_at, (await graphql(hub, token)).status_code))
            await asyncio.sleep(0.2)
    assert answers[0][1] == 200
    assert {status for since, status in answers if since >= 5.0} == {401}
    refused_from = min(since for since, status in answers if status == 401)
    assert all(status == 200 for since, status in answers if since < refused_from)


@pytest.fixture
def stopped() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes to kill if a test fails before it stopped them itself."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


async def _committed_partner(url: str) -> Credentials:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with transaction(create_sessionmaker(engine)) as session:
            return await oauth_client(session)
    finally:
        await engine.dispose()


def _serve(directory: Path, env: dict[str, str], stopped: list[subprocess.Popen[bytes]]) -> str:
    """``hub serve --workers 2``; its URL once it answers. A port another test took between
    the probe and the bind is tried again with another."""
    for _attempt in range(3):
        [port] = free_ports(1)
        stderr = directory / "stderr.log"
        with stderr.open("wb") as log:
            process = subprocess.Popen(
                hub_command("serve", "--port", str(port), "--workers", "2"),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        stopped.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        if process.poll() is None or "address already in use" not in stderr.read_text():
            break
    pytest.fail(f"hub serve did not answer:\n{stderr.read_text()}")


def _token(url: str, partner: Credentials) -> str:
    form = {"grant_type": "client_credentials"}
    response = httpx.post(f"{url}/oauth/token", data=form, auth=partner.basic, timeout=10)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _status(url: str, token: str) -> int:
    # A new connection each time, so that every worker takes some.
    response = httpx.post(
        f"{url}/graphql",
        json={"query": QUERY},
        headers={"authorization": f"Bearer {token}"},
        timeout=10,
    )
    return response.status_code


async def test_the_workers_of_hub_serve_refuse_a_revoked_client_within_the_bound(
    dialect: str, tmp_path: Path, stopped: list[subprocess.Popen[bytes]]
) -> None:
    async with empty_database(dialect, tmp_path) as url:
        # given: two workers, each holding a copy of the partner's client
        partner = await _committed_partner(url)
        env = {
            **os.environ,
            "HUB_DATABASE_URL": url,
            "HUB_SIGNING_KEY_PATH": str(tmp_path / "signing-key.pem"),
            "HUB_AUTH_CACHE_SECONDS": str(BOUND),
            "HUB_LIMITS__PARTNER__RATE_LIMIT": "100000",
            "TMPDIR": str(tmp_path),
        }
        hub = await asyncio.to_thread(_serve, tmp_path, env, stopped)
        token = await asyncio.to_thread(_token, hub, partner)
        before = [await asyncio.to_thread(_status, hub, token) for _ in range(20)]
        assert before == [200] * 20

        # when: an operator revokes the client, in a process of its own
        revoked = await asyncio.to_thread(
            subprocess.run,
            hub_command("clients", "revoke", partner.client_id),
            env=env,
            capture_output=True,
        )
        assert revoked.returncode == 0, revoked.stderr
        changed_at = time.monotonic()

        # then: whichever worker answers, every request sent from the bound on is refused
        answers: list[tuple[float, int]] = []
        while (sent_at := time.monotonic()) < changed_at + BOUND + 1.0:
            status = await asyncio.to_thread(_status, hub, token)
            answers.append((sent_at - changed_at, status))
        assert {status for since, status in answers if since >= BOUND} == {401}
        after = [await asyncio.to_thread(_status, hub, token) for _ in range(20)]
        assert after == [401] * 20
        for process in stopped:
            process.terminate()
            process.wait(timeout=60)
