"""The hub's signing key: made on first use, read from PEM, refused when unfit."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.app import create_app
from hub.auth.keys import SigningKeyError, _create, load_or_create, signing_key_from_pem
from hub.config import Settings
from hub.db import HubSession
from tests.fixtures.oauth import BASE_URL, access_token, oauth_client


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
