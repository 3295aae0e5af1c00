"""Tokens of a partner ministry's own issuer, verified against its JWKS and mapped to a principal.

The ministry's key pair is made here and its JWK Set written to a file: no network.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey, KeySet, RSAKey
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.app import create_app
from hub.auth.authenticate import Authenticator
from hub.auth.errors import UnauthenticatedError
from hub.auth.issuers import TrustedIssuer
from hub.auth.jwks import FileKeySource, KeySourceError, RemoteKeySource
from hub.auth.principal import Principal, Tier
from hub.config import Settings
from hub.db import HubSession
from tests.fixtures.oauth import BASE_URL, graphql, sign

MINISTRY = "https://idp.mofcom.example"


@pytest.fixture
def ministry_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "mofcom-2026"})


def write_jwks(path: Path, *keys: ECKey | RSAKey) -> None:
    path.write_text(json.dumps(KeySet(list(keys)).as_dict(private=False)))


def republish(path: Path, *keys: ECKey | RSAKey) -> None:
    """Write a new JWK Set whose modification time surely differs from the last one's."""
    mtime = path.stat().st_mtime
    write_jwks(path, *keys)
    os.utime(path, (mtime + 10, mtime + 10))


@pytest.fixture
def jwks_file(tmp_path: Path, ministry_key: ECKey) -> Path:
    path = tmp_path / "mofcom-jwks.json"
    write_jwks(path, ministry_key)
    return path


def trusted(jwks_file: Path, /, **overrides: Any) -> TrustedIssuer:
    values: dict[str, Any] = {
        "issuer": MINISTRY,
        "audience": "quality-credit-hub",
        "jwks_file": jwks_file,
        "tier": "partner",
        "scope_claim": "scp",
        "allowed_scopes": ["credit:read", "complaints:read"],
        **overrides,
    }
    return TrustedIssuer.model_validate(values)


@pytest.fixture
def settings(tmp_path: Path, jwks_file: Path) -> Settings:
    return Settings(signing_key_path=tmp_path / "hub-key.pem", trusted_issuers=[trusted(jwks_file)])


def ministry_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": MINISTRY,
        "aud": "quality-credit-hub",
        "sub": "sync-job-7",
        "client_id": "credit-sync",
        "scp": ["complaints:read", "credit:read", "openid", "recalls:read"],
        "jti": f"mofcom-{now}",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


async def authenticate(
    settings: Settings, sessionmaker: async_sessionmaker[HubSession], token: str
) -> Principal:
    return await Authenticator(settings, sessionmaker).authenticate(f"Bearer {token}")


async def test_a_ministry_token_maps_to_the_configured_tier_and_allowed_scopes(
    settings: Settings, sessionmaker: async_sessionmaker[HubSession], ministry_key: ECKey
) -> None:
    principal = await authenticate(settings, sessionmaker, sign(ministry_key, ministry_claims()))

    assert principal == Principal(
        tier=Tier.PARTNER,
        # recalls:read is a hub scope the issuer may not grant; openid is not the hub's at all
        scopes=frozenset({"complaints:read", "credit:read"}),
        client_id=f"{MINISTRY}#credit-sync",
        subject="sync-job-7",
    )


async def test_a_space_separated_scope_claim_works_too(
    tmp_path: Path,
    jwks_file: Path,
    sessionmaker: async_sessionmaker[HubSession],
    ministry_key: ECKey,
) -> None:
    settings = Settings(
        signing_key_path=tmp_path / "k.pem",
        trusted_issuers=[trusted(jwks_file, scope_claim="scope", tier="internal")],
    )
    token = sign(ministry_key, ministry_claims(scope="credit:read licences:read"))

    principal = await authenticate(settings, sessionmaker, token)

    assert (principal.tier, principal.scopes) == (Tier.INTERNAL, frozenset({"credit:read"}))


async def test_a_ministry_token_opens_graphql(
    settings: Settings, sessionmaker: async_sessionmaker[HubSession], ministry_key: ECKey
) -> None:
    app = create_app(settings, sessionmaker=sessionmaker)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as hub:
        response = await graphql(
            hub, sign(ministry_key, ministry_claims()), "{ complaints(first: 1) { totalCount } }"
        )
    assert (response.status_code, response.json()) == (
        200,
        {"data": {"complaints": {"totalCount": 0}}},
    )


@pytest.mark.parametrize(
    ("claims", "header", "reason"),
    [
        ({"aud": "another-api"}, {}, "token is not meant for this audience"),
        ({"exp": int(time.time()) - 3600}, {}, "token expired"),
        ({"jti": None}, {}, "token lacks claim jti"),
        ({"scp": {"credit:read": True}}, {}, "invalid claim scp"),
        ({}, {"typ": "JWT"}, "token type must be at+jwt"),
        ({}, {"kid": "unknown"}, "token signed with an unknown key"),
        ({"iss": "https://idp.other.example"}, {}, "token issuer is not trusted"),
    ],
)
async def test_a_bad_ministry_token_is_refused(
    settings: Settings,
    sessionmaker: async_sessionmaker[HubSession],
    ministry_key: ECKey,
    claims: dict[str, Any],
    header: dict[str, Any],
    reason: str,
) -> None:
    made = {name: value for name, value in ministry_claims(**claims).items() if value is not None}
    with pytest.raises(UnauthenticatedError) as refused:
        await authenticate(settings, sessionmaker, sign(ministry_key, made, **header))
    assert refused.value.message == reason


async def test_the_ministry_key_cannot_sign_for_the_hub(
    settings: Settings, sessionmaker: async_sessionmaker[HubSession], ministry_key: ECKey
) -> None:
    claims = ministry_claims(iss=settings.issuer, hub_tier="internal")
    with pytest.raises(UnauthenticatedError) as refused:
        await authenticate(settings, sessionmaker, sign(ministry_key, claims))
    assert refused.value.message == "token signed with an unknown key"


async def test_a_rotated_key_in_the_jwks_file_is_picked_up(
    settings: Settings,
    sessionmaker: async_sessionmaker[HubSession],
    ministry_key: ECKey,
    jwks_file: Path,
) -> None:
    # given: the authenticator has read the file once
    authenticator = Authenticator(settings, sessionmaker)
    await authenticator.authenticate(f"Bearer {sign(ministry_key, ministry_claims())}")

    # when: the ministry publishes a new key next to the old one
    new_key = ECKey.generate_key("P-256", parameters={"kid": "mofcom-2027"})
    republish(jwks_file, ministry_key, new_key)

    # then
    principal = await authenticator.authenticate(f"Bearer {sign(new_key, ministry_claims())}")
    assert principal.client_id == f"{MINISTRY}#credit-sync"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tier": "public"}, "tier must be 'partner' or 'internal'"),
        ({"allowed_scopes": ["credit:write"]}, "unknown scope(s): credit:write"),
        ({"jwks_url": "https://idp.mofcom.example/jwks"}, "give exactly one of jwks_file"),
        ({"jwks_file": None}, "give exactly one of jwks_file"),
        ({"jwks_file": None, "jwks_url": "http://idp.example/j"}, "must be an https URL"),
    ],
)
def test_a_trusted_issuer_is_validated(
    jwks_file: Path, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as invalid:
        trusted(jwks_file, **overrides)
    assert message in str(invalid.value)


def test_trusted_issuers_come_from_the_environment(
    jwks_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "HUB_TRUSTED_ISSUERS",
        json.dumps(
            [
                {
                    "issuer": MINISTRY,
                    "audience": "quality-credit-hub",
                    "jwks_file": str(jwks_file),
                    "tier": "partner",
                    "allowed_scopes": ["credit:read"],
                }
            ]
        ),
    )
    assert Settings().trusted_issuers == [
        TrustedIssuer(
            issuer=MINISTRY,
            audience="quality-credit-hub",
            jwks_file=jwks_file,
            tier=Tier.PARTNER,
            allowed_scopes=frozenset({"credit:read"}),
        )
    ]


class JWKSServer:
    """A ministry's JWKS endpoint, served in-process over ASGI; counts its requests."""

    def __init__(self, keys: KeySet) -> None:
        self.keys = keys
        self.requests = 0
        self.failing = False
        self.app = Starlette(routes=[Route("/jwks.json", self.serve)])

    async def serve(self, _: Request) -> Response:
        self.requests += 1
        if self.failing:
            return Response("unavailable", status_code=503)
        return JSONResponse(self.keys.as_dict(private=False))


@pytest.fixture
async def jwks_server(ministry_key: ECKey) -> AsyncIterator[JWKSServer]:
    yield JWKSServer(KeySet([ministry_key]))


def remote(server: JWKSServer, **options: float) -> RemoteKeySource:
    return RemoteKeySource(
        f"{MINISTRY}/jwks.json", transport=httpx.ASGITransport(app=server.app), **options
    )


async def test_a_remote_jwks_is_fetched_once_and_cached(
    jwks_server: JWKSServer, ministry_key: ECKey
) -> None:
    source = remote(jwks_server)
    first = await source.key_set()
    second = await source.key_set()
    assert [key.kid for key in first] == [key.kid for key in second] == ["mofcom-2026"]
    assert jwks_server.requests == 1


async def test_an_unknown_kid_refreshes_a_remote_jwks_at_most_once_per_interval(
    jwks_server: JWKSServer,
) -> None:
    source = remote(jwks_server, min_refresh_interval=0.0)
    await source.key_set()
    jwks_server.keys = KeySet([ECKey.generate_key("P-256", parameters={"kid": "mofcom-2027"})])

    refreshed = await source.key_set(refresh=True)

    assert [key.kid for key in refreshed] == ["mofcom-2027"]
    assert jwks_server.requests == 2

    throttled = remote(jwks_server, min_refresh_interval=3600.0)
    await throttled.key_set()
    await throttled.key_set(refresh=True)
    await throttled.key_set(refresh=True)
    assert jwks_server.requests == 3


async def test_a_failing_refresh_keeps_the_known_keys(jwks_server: JWKSServer) -> None:
    source = remote(jwks_server, max_age=0.0)
    await source.key_set()
    jwks_server.failing = True

    kept = await source.key_set()

    assert [key.kid for key in kept] == ["mofcom-2026"]
    assert jwks_server.requests == 2


async def test_a_remote_jwks_that_never_answered_is_unavailable(
    jwks_server: JWKSServer,
) -> None:
    jwks_server.failing = True
    with pytest.raises(KeySourceError):
        await remote(jwks_server).key_set()


async def test_a_symmetric_key_in_a_jwks_is_ignored(tmp_path: Path, ministry_key: ECKey) -> None:
    from hub.auth.jwks import parse_key_set

    document = KeySet([ministry_key]).as_dict(private=False)
    document["keys"].append({"kty": "oct", "k": "c2VjcmV0", "kid": "shared"})
    keys = parse_key_set(json.dumps(document).encode())
    assert [key.kid for key in keys] == ["mofcom-2026"]


async def test_a_missing_jwks_file_makes_the_issuers_tokens_unverifiable(
    tmp_path: Path, sessionmaker: async_sessionmaker[HubSession], ministry_key: ECKey
) -> None:
    settings = Settings(
        signing_key_path=tmp_path / "k.pem",
        trusted_issuers=[trusted(tmp_path / "missing.json")],
    )
    with pytest.raises(UnauthenticatedError) as refused:
        await authenticate(settings, sessionmaker, sign(ministry_key, ministry_claims()))
    assert refused.value.message == "the issuer's keys are unavailable"


async def test_a_jwks_file_caught_half_written_keeps_the_keys_read_before(
    jwks_file: Path, ministry_key: ECKey
) -> None:
    source = FileKeySource(jwks_file)
    await source.key_set()
    truncate(jwks_file)

    kept = await source.key_set(refresh=True)

    assert [key.kid for key in kept] == ["mofcom-2026"]


def truncate(path: Path) -> None:
    mtime = path.stat().st_mtime
    path.write_text('{"keys": [')
    os.utime(path, (mtime + 10, mtime + 10))
