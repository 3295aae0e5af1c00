"""Partner ministries' own token issuers that the hub trusts, as configured in settings.

``HUB_TRUSTED_ISSUERS`` is a JSON list of these objects, for example::

    [{"issuer": "https://idp.mofcom.example", "audience": "quality-credit-hub",
      "jwks_url": "https://idp.mofcom.example/jwks.json", "tier": "partner",
      "scope_claim": "scope", "allowed_scopes": ["credit:read", "licences:read"]}]

A token of such an issuer is verified against that issuer's keys and mapped to a principal of
the configured tier, holding the scopes it names that are also in ``allowed_scopes``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from hub.auth.principal import Tier
from hub.auth.scopes import unknown_scopes


def _client_tier(value: Any) -> Any:
    if isinstance(value, str):
        tiers = {"partner": Tier.PARTNER, "internal": Tier.INTERNAL}
        if value.lower() not in tiers:
            raise ValueError("tier must be 'partner' or 'internal'")
        return tiers[value.lower()]
    return value


class TrustedIssuer(BaseModel):
    """One foreign issuer: who it is, whom its tokens are for, its keys, what they grant."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    issuer: str = Field(min_length=1, description="The exact `iss` of the issuer's tokens.")
    audience: str = Field(min_length=1, description="The `aud` its tokens must name.")
    jwks_file: Path | None = Field(default=None, description="A JWK Set file of its keys.")
    jwks_url: str | None = Field(default=None, description="An https URL of its JWK Set.")
    tier: Annotated[Tier, BeforeValidator(_client_tier)] = Field(
        description="The tier its tokens get: partner or internal."
    )
    scope_claim: str = Field(
        default="scope", min_length=1, description="The claim holding the token's scopes."
    )
    allowed_scopes: frozenset[str] = Field(
        default=frozenset(), description="The hub scopes its tokens may carry; others are dropped."
    )

    @field_validator("tier")
    @classmethod
    def _no_public(cls, tier: Tier) -> Tier:
        if tier is Tier.PUBLIC:
            raise ValueError("tier must be 'partner' or 'internal'")
        return tier

    @field_validator("allowed_scopes")
    @classmethod
    def _known_scopes(cls, scopes: frozenset[str]) -> frozenset[str]:
        unknown = unknown_scopes(scopes)
        if unknown:
            raise ValueError(f"unknown scope(s): {', '.join(unknown)}")
        return scopes

    @field_validator("jwks_url")
    @classmethod
    def _https(cls, url: str | None) -> str | None:
        if url is not None and urlsplit(url).scheme != "https":
            raise ValueError("jwks_url must be an https URL")
        return url

    @model_validator(mode="after")
    def _one_key_source(self) -> TrustedIssuer:
        if (self.jwks_file is None) == (self.jwks_url is None):
            raise ValueError("give exactly one of jwks_file and jwks_url")
        return self
