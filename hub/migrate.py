"""Alembic driven from the hub: the same migrations for the CLI, the app and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database at ``engine`` to ``revision`` on the engine's own connection."""
    async with engine.begin() as connection:

        def run(sync_connection: object) -> None:
            config = alembic_config(str(engine.url.render_as_string(hide_password=False)))
            config.attributes["connection"] = sync_connection
            command.upgrade(config, revision)

        await connection.run_sync(run)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as connection:

        def run(sync_connection: object) -> None:
            config = alembic_config(str(engine.url.render_as_string(hide_password=False)))
            config.attributes["connection"] = sync_connection
            command.downgrade(config, revision)

        await connection.run_sync(run)


async def current(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as connection:

        def read(sync_connection: object) -> str | None:
            return MigrationContext.configure(sync_connection).get_current_revision()  # type: ignore[arg-type]

        return await connection.run_sync(read)
