"""One typed settings object, read from ``HUB_`` environment variables."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.auth.issuers import TrustedIssuer
from hub.limits import Limits


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Defaults run on one laptop: SQLite file in the working directory, GraphiQL on."""

    # HUB_LIMITS__PUBLIC__MAX_COST=20000 sets one number and keeps the other defaults.
    model_config = SettingsConfigDict(
        env_prefix="HUB_",
        extra="ignore",
        env_nested_delimiter="__",
        nested_model_default_partial_update=True,
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///hub.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///file.db or postgresql+asyncpg://...",
    )
    search_url: str | None = Field(default=None, description="Elasticsearch URL; unset: embedded")
    search_index_prefix: str = Field(default="hub", description="Prefix of the index aliases")
    search_timeout: float = Field(default=5.0, gt=0, description="Elasticsearch request timeout")
    search_sync_interval: float = Field(
        default=1.0, gt=0, description="Seconds between outbox relays in `hub serve`"
    )
    env: Environment = Environment.DEVELOPMENT
    issuer: str = "http://127.0.0.1:8000"
    audience: str = Field(
        default="quality-credit-hub", description="`aud` of the hub's tokens; others are refused"
    )
    signing_key_path: Path = Field(
        default=Path(".hub/signing-key.pem"),
        description="PEM private key (EC P-256 or RSA) signing tokens; made (EC) when missing",
    )
    token_lifetime_seconds: int = Field(default=300, ge=30, le=3600)
    trusted_issuers: list[TrustedIssuer] = Field(
        default_factory=list,
        description="JSON list of partner issuers whose tokens the hub accepts (hub.auth.issuers)",
    )
    # A default instance, not a factory: partial updates from the environment merge into it.
    limits: Limits = Field(
        default=Limits(), description="query size and request rate per tier (hub.limits)"
    )
    redis_url: str | None = Field(
        default=None, description="Redis URL: hub processes share rate budgets; unset: in-process"
    )
    database_pool_size: int = Field(
        default=20, ge=1, le=200, description="PostgreSQL connections per hub process"
    )
    database_concurrency: int | None = Field(
        default=None,
        ge=1,
        le=200,
        description="compiled reads in flight per hub process; the rest wait their turn in "
        "arrival order (unset: the pool size)",
    )
    compile_queries: bool = Field(
        default=True,
        description="On PostgreSQL, answer common reads with one compiled SQL statement "
        "(schema.compiled); false: the resolvers answer everything",
    )
    sql_echo: bool = False

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
