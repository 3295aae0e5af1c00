"""OAuth2 clients of the hub, the access tokens revoked before their expiry, the signing keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.auth.principal import Tier
from hub.auth.scopes import parse_scope
from hub.db import Base
from hub.kit.enums import enum_column
from hub.kit.time import utcnow


class OAuthClient(Base):
    """A partner ministry's or an internal agency's system, with the tier and scopes it holds.

    The secret itself is never stored, only its hash (``hub.auth.credentials``). A revoked
    client keeps its row, so that its id is never reused and its history stays readable.
    """

    __tablename__ = "oauth_client"
    __table_args__ = (CheckConstraint("tier IN ('PARTNER', 'INTERNAL')", name="tier"),)

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[Tier] = mapped_column(enum_column(Tier))
    #: The granted scopes as an OAuth scope value: space-separated, sorted.
    scope: Mapped[str] = mapped_column(String(500), default="")
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    secret_rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    @property
    def scopes(self) -> frozenset[str]:
        return parse_scope(self.scope)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class RevokedToken(Base):
    """An access token revoked before it expired (RFC 7009), refused until ``expires_at``.

    Rows past ``expires_at`` protect nothing, since the token's own ``exp`` refuses it by then,
    and are purged whenever another token is revoked.
    """

    __tablename__ = "revoked_token"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)


class SigningKeyRecord(Base):
    """A key that signs the hub's access tokens, in the order the keys were made.

    ``serial`` is 1 for the first key and one more for each rotation. It is the primary key, so
    two processes that both found no key (or two rotations at once) cannot both add one: the
    second insert conflicts and that process takes the key that is there.

    A key signs from ``activates_at`` until a newer key activates (``hub.auth.signing``), and is
    published in the JWKS until ``retired_at``. Retiring erases the private key; the row stays,
    so the key's history remains readable and its ``kid`` is never used again.
    """

    __tablename__ = "signing_key"
    __table_args__ = (
        CheckConstraint("private_pem IS NOT NULL OR retired_at IS NOT NULL", name="private_key"),
    )

    serial: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    alg: Mapped[str] = mapped_column(String(8))
    #: PKCS#8 PEM, unencrypted: whoever can read this column can sign tokens (see the README).
    private_pem: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activates_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]
