"""W1p's PostGraphile: it verifies the hub's kind of bearer token and switches database role.

PostGraphile (``peers/graphile.config.mjs``) runs on a migrated, empty database with
``peers/setup.sql``, trusting a JWKS made here, as the harness makes it trust the hub's. The
test database also gets a function that names the current database role, which PostGraphile
exposes as ``whoami``: the role a request ran as is then in its answer.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from joserfc import jwt

from benchmarks.compare.loadtime import hub_command
from benchmarks.compare.postgres import Server, server_of
from benchmarks.compare.processes import free_port
from benchmarks.compare.servers import PEERS, TokenCheck, start_postgraphile
from hub.auth.keys import SigningKey, new_signing_key
from tests.fixtures.databases import postgres_admin_url

pytestmark = pytest.mark.postgres

ISSUER = "http://127.0.0.1:4201"
AUDIENCE = "quality-credit-hub"
WHOAMI = "{ whoami }"


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return new_signing_key()


@pytest.fixture(scope="module")
def postgraphile(
    key: SigningKey,
    tmp_path_factory: pytest.TempPathFactory,
    bench_environment: dict[str, str],
) -> Iterator[str]:
    server: Server = server_of(postgres_admin_url())
    database = f"bench_partner_{uuid.uuid4().hex[:12]}"
    work = tmp_path_factory.mktemp("postgraphile")
    jwks = work / "jwks.json"
    jwks.write_text(json.dumps({"keys": [key.public_jwk()]}))
    server.create_database(database)
    service = None
    with pytest.MonkeyPatch.context() as patch:
        for name, value in bench_environment.items():
            patch.setenv(name, value)
        try:
            hub_command("db", "upgrade", database_url=server.sqlalchemy_url(database))
            server.psql(database, (PEERS / "setup.sql").read_text(), variables={"dbname": database})
            server.psql(
                database,
                "CREATE FUNCTION whoami() RETURNS text LANGUAGE sql STABLE RETURN current_user",
            )
            port = free_port(4260, 4299)
            tokens = TokenCheck(jwks, ISSUER, AUDIENCE)
            service = start_postgraphile(server, database, port, work, pool_size=2, tokens=tokens)
            yield f"http://127.0.0.1:{port}/graphql"
        finally:
            if service is not None:
                service.stop()
            server.drop_database(database)


def _token(key: SigningKey, **changes: Any) -> str:
    """An access token as the hub issues one (hub/auth/server.py): ES256, ``at+jwt``."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "client-1",
        "client_id": "client-1",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "hub_tier": "partner",
        "scope": "credit:read",
    }
    claims.update(changes)
    header = {"alg": key.alg, "kid": key.kid, "typ": "at+jwt"}
    return jwt.encode(header, claims, key.private)


def _ask(url: str, token: str | None = None) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token is not None else {}
    answer = httpx.post(url, json={"query": WHOAMI}, headers=headers, timeout=30)
    result: dict[str, Any] = answer.json()
    return result


def test_a_request_without_a_token_runs_as_the_connecting_role(postgraphile: str) -> None:
    assert _ask(postgraphile) == {"data": {"whoami": "bench_postgraphile"}}


def test_a_partner_token_of_the_hub_runs_as_the_partner_role(
    postgraphile: str, key: SigningKey
) -> None:
    assert _ask(postgraphile, _token(key)) == {"data": {"whoami": "bench_partner"}}


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        pytest.param(
            {"exp": int(time.time()) - 60}, '"exp" claim timestamp check failed', id="expired"
        ),
        pytest.param(
            {"aud": "someone-else"}, 'unexpected "aud" claim value', id="another audience"
        ),
        pytest.param(
            {"iss": "http://127.0.0.1:9"}, 'unexpected "iss" claim value', id="another issuer"
        ),
        pytest.param(
            {"hub_tier": "internal"},
            "token lacks a known hub_tier claim",
            id="a tier without a role",
        ),
    ],
)
def test_a_token_that_does_not_verify_is_refused(
    postgraphile: str, key: SigningKey, changes: dict[str, Any], why: str
) -> None:
    assert _ask(postgraphile, _token(key, **changes)) == {
        "errors": [{"message": why, "extensions": {}}]
    }


def test_a_token_signed_by_another_key_is_refused(postgraphile: str) -> None:
    assert _ask(postgraphile, _token(new_signing_key())) == {
        "errors": [{"message": "no applicable key found in the JSON Web Key Set", "extensions": {}}]
    }


def test_peers_have_jose_pinned() -> None:
    package = json.loads((PEERS / "package.json").read_text())
    lock = json.loads((PEERS / "package-lock.json").read_text())
    assert package["dependencies"]["jose"] == lock["packages"]["node_modules/jose"]["version"]
