"""One typed settings object, read from ``HUB_`` environment variables."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Defaults run on one laptop: SQLite file in the working directory, GraphiQL on."""

    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///hub.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///file.db or postgresql+asyncpg://...",
    )
    search_url: str | None = Field(default=None, description="Elasticsearch URL; unset: embedded")
    env: Environment = Environment.DEVELOPMENT
    issuer: str = "http://127.0.0.1:8000"
    database_pool_size: int = Field(default=10, ge=1, le=200)
    sql_echo: bool = False

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
