"""The hub's signing key: read from PEM or made, refused when unfit, imported into the database."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.app import create_app
from hub.auth.keys import (
    SigningKeyError,
    _create,
    load_or_create,
    new_signing_key,
    signing_key_from_pem,
)
from hub.auth.models import SigningKeyRecord
from hub.auth.signing import SigningKeyStore, new_record
from hub.auth.signing_repository import SigningKeyRepository
from hub.auth.tokens import read_token
from hub.config import Settings
from hub.db import HubSession, create_engine, create_sessionmaker, transaction
from hub.kit.time import utcnow
from hub.migrate import upgrade
from tests.fixtures.databases import empty_database
from tests.fixtures.oauth import BASE_URL, access_token, graphql, hub_claims, oauth_client, sign


def test_a_missing_key_is_made_private_to_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "key.pem"

    key = load_or_create(path)

    assert (key.alg, key.private.key_type, key.kid) == ("ES256", "EC", key.private.thumbprint())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create(path).kid == key.kid
    assert [entry.name for entry in path.parent.iterdir()] == ["key.pem"]


def test_a_second_maker_keeps_the_first_key(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    first = load_or_create(path)

    _create(path)  # a second worker that also found the file missing

    assert load_or_create(path).kid == first.kid
    assert [entry.name for entry in tmp_path.iterdir()] == ["key.pem"]


async def test_an_rsa_key_signs_rs256(
    tmp_path: Path, sessionmaker: async_sessionmaker[HubSession], session: HubSession
) -> None:
    # given
    path = tmp_path / "rsa.pem"
    path.write_bytes(_rsa_pem(2048))
    settings = Settings(signing_key_path=path)
    credentials = await oauth_client(session)

    # when
    app = create_app(settings, sessionmaker=sessionmaker)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as hub:
        token = await access_token(hub, credentials)
        jwks = (await hub.get("/.well-known/jwks.json")).json()
        accepted = await hub.post(
            "/graphql",
            json={"query": "{ enterprises { totalCount } }"},
            headers={"authorization": f"Bearer {token}"},
        )

    # then
    key = load_or_create(path)
    assert jwt.decode(token, key.public_key_set()).header["alg"] == "RS256"
    assert [(k["kty"], k["alg"], k["kid"]) for k in jwks["keys"]] == [("RSA", "RS256", key.kid)]
    assert accepted.status_code == 200


@pytest.mark.parametrize(
    ("pem", "reason"),
    [
        (b"not a key", "not a PEM-encoded EC or RSA private key"),
        (lambda: _rsa_pem(1024), "RSA keys need at least 2048 bits, not 1024"),
        (
            lambda: ECKey.generate_key("P-384").as_pem(private=True),
            "EC keys must be on P-256, not P-384",
        ),
        (
            lambda: ECKey.generate_key("P-256").as_pem(private=False),
            "the file holds a public key; the hub needs the private key",
        ),
        (
            lambda: RSAKey.generate_key(2048).as_pem(private=False),
            "the file holds a public key; the hub needs the private key",
        ),
    ],
)
def test_an_unfit_key_is_refused(pem: object, reason: str) -> None:
    data = pem() if callable(pem) else pem
    assert isinstance(data, bytes)
    with pytest.raises(SigningKeyError) as refused:
        signing_key_from_pem(data)
    assert str(refused.value) == reason


def _rsa_pem(bits: int) -> bytes:
    # cryptography directly: joserfc itself refuses to make RSA keys under 2048 bits
    return rsa.generate_private_key(public_exponent=65537, key_size=bits).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture
async def fresh_url(dialect: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database of the test's own: what it writes is committed, as in a deployment."""
    async with empty_database(dialect, tmp_path) as url:
        yield url


async def test_the_key_file_is_imported_on_upgrade_and_its_tokens_stay_valid(
    fresh_url: str, tmp_path: Path
) -> None:
    # given: a hub of before the upgrade, which signed a token with the key of its file
    settings = Settings(signing_key_path=tmp_path / "signing-key.pem")
    engine = create_engine(fresh_url)
    try:
        await upgrade(engine, "0005")
        maker = create_sessionmaker(engine)
        async with transaction(maker) as session:
            credentials = await oauth_client(session)
        file_key = load_or_create(settings.signing_key_path)
        issued_before = sign(file_key.private, hub_claims(settings, credentials.client_id))

        # when: upgraded, and the new version serves
        await upgrade(engine)
        app = create_app(settings, sessionmaker=maker)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL
        ) as hub:
            accepted = await graphql(hub, issued_before)
            jwks = (await hub.get("/.well-known/jwks.json")).json()
            issued_after = await access_token(hub, credentials)
        async with maker() as session:
            stored = list(await session.scalars(select(SigningKeyRecord)))
    finally:
        await engine.dispose()

    # then: the file's key is the first key of the database, and still signs
    assert accepted.status_code == 200
    assert [key["kid"] for key in jwks["keys"]] == [file_key.kid]
    assert read_token(issued_after).header["kid"] == file_key.kid
    assert [(r.serial, r.kid, r.alg, r.retired_at) for r in stored] == [
        (1, file_key.kid, "ES256", None)
    ]
    (record,) = stored
    assert record.activates_at == record.created_at
    assert record.private_pem == file_key.private_pem()


async def test_concurrent_first_starts_agree_on_one_key(fresh_url: str, tmp_path: Path) -> None:
    # given: four processes (an engine each) on a migrated database holding no key, each with
    # a key file of its own, as hosts on which nobody provisioned one
    engines = [create_engine(fresh_url) for _ in range(4)]
    try:
        await upgrade(engines[0])
        for engine in engines:  # connected already, so that their first reads run together
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        stores = [
            SigningKeyStore(create_sessionmaker(engine), tmp_path / f"host-{number}" / "key.pem")
            for number, engine in enumerate(engines)
        ]

        # when: they all start at once
        signers = await asyncio.gather(*(store.signer() for store in stores))
        async with create_sessionmaker(engines[0])() as session:
            stored = list(await session.scalars(select(SigningKeyRecord.kid)))
    finally:
        for engine in engines:
            await engine.dispose()

    # then: one key in the database, and every process signs with it
    assert len(stored) == 1
    assert [signer.kid for signer in signers] == stored * 4


async def test_a_second_first_key_changes_nothing(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    # given: the first key, stored by one process
    now = utcnow()
    first, second = new_signing_key(), new_signing_key()
    async with transaction(sessionmaker) as session:
        await SigningKeyRepository(session).add_if_absent(
            new_record(1, first, now=now, activates_at=now)
        )

    # when: another process, which also found no key, stores its own
    async with transaction(sessionmaker) as session:
        keys = SigningKeyRepository(session)
        await keys.add_if_absent(new_record(1, second, now=now, activates_at=now))
        stored = [(record.serial, record.kid) for record in await keys.all()]

    # then
    assert stored == [(1, first.kid)]
