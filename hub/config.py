"""One typed settings object, read from ``HUB_`` environment variables."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, IPvAnyNetwork
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.auth.issuers import TrustedIssuer
from hub.limits import Limits
from hub.report.settings import ReportSettings


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
    search_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Elasticsearch request timeout of indexing (the outbox relay, reindexing)",
    )
    search_query_timeout: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="seconds a search waits for Elasticsearch before it answers from the "
        "embedded index",
    )
    search_retry_interval: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="after Elasticsearch failed a search, seconds until one search tries it "
        "again; the others answer from the embedded index meanwhile",
    )
    search_sync_interval: float = Field(
        default=1.0, gt=0, description="Seconds between outbox relays in `hub serve`"
    )
    search_heads_interval: float = Field(
        default=600.0,
        gt=0,
        description="Seconds between rebuilds of the embedded index's heads (the first rows "
        "of the words now most frequent) by the relay of `hub serve` (PostgreSQL)",
    )
    env: Environment = Environment.DEVELOPMENT
    issuer: str = "http://127.0.0.1:8000"
    public_url: str | None = Field(
        default=None,
        description="the hub's public base URL, which credit reports print and link to from "
        "their QR code (/verify); unset: HUB_ISSUER",
    )
    audience: str = Field(
        default="quality-credit-hub", description="`aud` of the hub's tokens; others are refused"
    )
    signing_key_path: Path = Field(
        default=Path(".hub/signing-key.pem"),
        description="PEM private key (EC P-256 or RSA) that becomes the first signing key in "
        "the database; made (EC) when missing",
    )
    token_lifetime_seconds: int = Field(default=300, ge=30, le=3600)
    auth_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=5,
        description="Seconds each hub process may check bearer tokens against the OAuth clients, "
        "revoked tokens and signing keys it read before: a revoked client or token, a narrowed "
        "scope, a changed tier, a rotated secret or a retired key takes effect everywhere "
        "within this bound (hub.auth.standing); 0: read them on every request",
    )
    signing_key_activation_delay_seconds: int = Field(
        default=3600,
        ge=0,
        le=30 * 86400,
        description="Seconds from `hub keys rotate` until the new key signs; it is published "
        "at once, so make this longer than any verifier caches the JWKS",
    )
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
    trusted_routers: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="JSON list of the addresses and networks (CIDR) of the federation routers and "
        "proxies in front of the hub, whose X-Forwarded-For the hub believes; nobody else's",
    )
    database_pool_size: int = Field(
        default=20, ge=1, le=200, description="PostgreSQL connections per hub process"
    )
    database_connect_timeout: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="seconds `hub serve` waits to open a PostgreSQL connection (TCP and start-up)",
    )
    database_acquire_timeout: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="seconds a request waits for a pooled connection (or its turn for a compiled "
        "read) before it is answered 503",
    )
    database_statement_timeout: float = Field(
        default=2.0,
        gt=0,
        le=3600,
        description="seconds a request waits for a statement; PostgreSQL's statement_timeout is "
        "set to 90% of it, so a server that answers cancels a slow statement itself",
    )
    database_retry_interval: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="once the database is found unreachable, requests are answered 503 at once; "
        "every this many seconds one request is let through to try it again",
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
    reports: ReportSettings = Field(
        default=ReportSettings(),
        description="credit reports' rate budgets, signing key and font (hub.report.settings)",
    )
    sql_echo: bool = False
    log_format: Literal["json", "text"] | None = Field(
        default=None,
        description="`json` (one object per line) or `text`; unset: json in production, text "
        "in development",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="the least severe level `hub serve` logs"
    )
    otlp_endpoint: str | None = Field(
        default=None,
        description="base URL of an OTLP/HTTP collector (http://127.0.0.1:4318): tracing on; "
        "unset: OTEL_EXPORTER_OTLP_ENDPOINT, else tracing off (hub.observability.tracing)",
    )

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def logs_as(self) -> Literal["json", "text"]:
        """The log format: as configured, or json in production and text in development."""
        return self.log_format or ("json" if self.is_production else "text")

    @property
    def base_url(self) -> str:
        """Where the public reaches the hub, without a trailing slash."""
        return (self.public_url or self.issuer).rstrip("/")

    @property
    def report_signing_key_path(self) -> Path:
        """The report signing file: as configured, or beside the token signing key."""
        configured = self.reports.signing_key_path
        return configured or self.signing_key_path.with_name("report-signing.pem")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
