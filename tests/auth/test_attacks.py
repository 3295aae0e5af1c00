"""Tokens that must not open /graphql: each is refused with 401, a short reason and no data.

Most are signed with the hub's real key, so that the check under test is the only thing wrong
with them; the forgeries are built by hand, as an attacker would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey, RSAKey

from hub.auth.clients import ClientService
from hub.auth.keys import SigningKey
from hub.config import Settings
from hub.db import HubSession
from tests.fixtures.oauth import (
    Credentials,
    access_token,
    forge_hmac,
    forge_unsigned,
    graphql,
    hub_claims,
    sign,
)


@dataclass(frozen=True)
class Setting:
    settings: Settings
    key: SigningKey
    client_id: str

    def claims(self, **overrides: Any) -> dict[str, Any]:
        return hub_claims(self.settings, self.client_id, **overrides)

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return sign(self.key.private, claims, **header)


def _now() -> int:
    """Read when a token is made, not when the module is: the suite may run for minutes."""
    return int(time.time())


def _without(claims: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in claims.items() if key != name}


def _tampered(s: Setting) -> str:
    header, _, signature = s.sign(s.claims(scope="credit:read")).split(".")
    payload = s.sign(s.claims(scope="credit:read licences:read")).split(".")[1]
    return f"{header}.{payload}.{signature}"


ATTACKS: dict[str, tuple[Callable[[Setting], str], str]] = {
    "alg none": (
        lambda s: forge_unsigned(s.claims(), kid=s.key.kid),
        "token algorithm not allowed",
    ),
    "alg none, capitalised": (
        lambda s: forge_unsigned(s.claims(), alg="None"),
        "token algorithm not allowed",
    ),
    "HS256 keyed with the public key (PEM)": (
        lambda s: forge_hmac(s.claims(), s.key.private.as_pem(private=False), kid=s.key.kid),
        "token algorithm not allowed",
    ),
    "HS256 keyed with the public JWK": (
        lambda s: forge_hmac(s.claims(), str(s.key.public_jwk()).encode(), kid=s.key.kid),
        "token algorithm not allowed",
    ),
    "RS256 claimed for the hub's EC key": (
        lambda s: forge_hmac(s.claims(), b"x", alg="RS256", kid=s.key.kid),
        "token algorithm does not match its key",
    ),
    "a foreign key under its own kid": (
        lambda s: sign(ECKey.generate_key("P-256", parameters={"kid": "mine"}), s.claims()),
        "token signed with an unknown key",
    ),
    "a foreign key under the hub's kid": (
        lambda s: sign(ECKey.generate_key("P-256", parameters={"kid": s.key.kid}), s.claims()),
        "invalid token signature",
    ),
    "a foreign RSA key under the hub's kid": (
        lambda s: sign(
            RSAKey.generate_key(2048, parameters={"kid": s.key.kid}), s.claims(), alg="RS256"
        ),
        "token algorithm does not match its key",
    ),
    "a tampered payload": (_tampered, "invalid token signature"),
    "expired": (
        lambda s: s.sign(s.claims(iat=_now() - 600, exp=_now() - 120)),
        "token expired",
    ),
    "not yet valid": (
        lambda s: s.sign(s.claims(nbf=_now() + 120)),
        "token is not valid yet",
    ),
    "issued in the future": (
        lambda s: s.sign(s.claims(iat=_now() + 120, exp=_now() + 420)),
        "token issued in the future",
    ),
    "wrong issuer": (
        lambda s: s.sign(s.claims(iss="https://evil.example")),
        "token issuer is not trusted",
    ),
    "no issuer": (lambda s: s.sign(_without(s.claims(), "iss")), "token issuer is not trusted"),
    "wrong audience": (
        lambda s: s.sign(s.claims(aud="another-api")),
        "token is not meant for this audience",
    ),
    "missing typ": (lambda s: s.sign(s.claims(), typ=None), "token type must be at+jwt"),
    "typ JWT": (lambda s: s.sign(s.claims(), typ="JWT"), "token type must be at+jwt"),
    "missing jti": (lambda s: s.sign(_without(s.claims(), "jti")), "token lacks claim jti"),
    "missing exp": (lambda s: s.sign(_without(s.claims(), "exp")), "token lacks claim exp"),
    "missing client_id": (
        lambda s: s.sign(_without(s.claims(), "client_id")),
        "token lacks claim client_id",
    ),
    "missing hub_tier": (
        lambda s: s.sign(_without(s.claims(), "hub_tier")),
        "token lacks a valid hub_tier claim",
    ),
    "a scope the client was never granted": (
        lambda s: s.sign(s.claims(scope="credit:read recalls:read")),
        "token scopes exceed the client's grant",
    ),
    "the internal tier claimed by a partner client": (
        lambda s: s.sign(s.claims(tier="internal")),
        "token tier differs from the client's",
    ),
    "a client that does not exist": (
        lambda s: s.sign(s.claims(client_id="qch_nobody", sub="qch_nobody")),
        "token of an unknown client",
    ),
}


@pytest.fixture
def setting(settings: Settings, signing_key: SigningKey, partner: Credentials) -> Setting:
    return Setting(settings, signing_key, partner.client_id)


def assert_refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401
    assert response.json() == {
        "errors": [{"message": reason, "extensions": {"code": "UNAUTHENTICATED"}}]
    }
    assert response.headers["www-authenticate"] == (
        f'Bearer error="invalid_token", error_description="{reason.replace(chr(34), chr(39))}"'
    )


async def test_a_well_made_token_passes(hub: httpx.AsyncClient, setting: Setting) -> None:
    """The control: everything the attacks change is right here."""
    response = await graphql(hub, setting.sign(setting.claims()))
    assert (response.status_code, response.json()) == (
        200,
        {"data": {"enterprises": {"totalCount": 0}}},
    )


@pytest.mark.parametrize("attack", sorted(ATTACKS))
async def test_a_bad_token_is_refused(
    hub: httpx.AsyncClient, setting: Setting, attack: str
) -> None:
    make, reason = ATTACKS[attack]
    assert_refused(await graphql(hub, make(setting)), reason)


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        ("Bearer", "expected 'Authorization: Bearer <token>'"),
        ("Basic dXNlcjpwYXNz", "expected 'Authorization: Bearer <token>'"),
        ("Bearer not-a-token", "malformed token"),
        ("Bearer a.b.c", "malformed token"),
        ("Bearer eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln", "malformed token"),
        ("Bearer eyJhbGciOiJFUzI1NiJ9.WzFd.c2ln", "malformed token"),
        ("Bearer a.b.c.d.e", "malformed token"),
        ("Bearer 令牌.令牌.令牌", "malformed token"),
    ],
)
async def test_a_malformed_header_is_refused(
    hub: httpx.AsyncClient, authorization: str, reason: str
) -> None:
    response = await hub.post(
        "/graphql",
        json={"query": "{ enterprises { totalCount } }"},
        headers={b"authorization": authorization.encode()},
    )
    assert_refused(response, reason)


async def test_a_revoked_token_is_refused(hub: httpx.AsyncClient, partner: Credentials) -> None:
    token = await access_token(hub, partner)
    await hub.post("/oauth/revoke", data={"token": token}, auth=partner.basic)
    assert_refused(await graphql(hub, token), "token revoked")


async def test_tokens_issued_before_a_secret_rotation_are_refused(
    hub: httpx.AsyncClient, partner: Credentials, session: HubSession, setting: Setting
) -> None:
    before = setting.sign(setting.claims(iat=_now() - 60, exp=_now() + 240))
    await ClientService(session).rotate_secret(partner.client_id)
    assert_refused(
        await graphql(hub, before), "token issued before the client's secret was rotated"
    )


async def test_a_token_beyond_its_clients_narrowed_grant_is_refused(
    hub: httpx.AsyncClient, partner: Credentials, session: HubSession
) -> None:
    # given: a token for both scopes, then the client loses one of them
    token = await access_token(hub, partner)
    client = await ClientService(session).clients.get(partner.client_id)
    assert client is not None
    client.scope = "credit:read"
    await session.flush()

    assert_refused(await graphql(hub, token), "token scopes exceed the client's grant")
