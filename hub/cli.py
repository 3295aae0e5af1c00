"""The ``hub`` command: serve, db, demo, import, schema."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

import click
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.config import get_settings
from hub.db import create_engine
from hub.demo.cli import demo
from hub.importer.cli import import_command
from hub.migrate import current, downgrade, upgrade


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Quality Credit Hub: GraphQL over enterprise quality credit data.

    Configuration comes from HUB_ environment variables (HUB_DATABASE_URL, HUB_ENV, ...).
    """


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--demo", "with_demo", is_flag=True, help="Migrate and seed an empty database first.")
@click.option("--enterprises", default=2000, show_default=True, type=click.IntRange(1))
def serve(host: str, port: int, workers: int, with_demo: bool, enterprises: int) -> None:
    """Serve the GraphQL API (GraphiQL at /graphql in development)."""
    import uvicorn

    from hub.demo.seed import seed_if_empty

    async def prepare() -> None:
        engine = create_engine(get_settings().database_url)
        try:
            await upgrade(engine)
            if with_demo:
                await seed_if_empty(engine, enterprises=enterprises)
        finally:
            await engine.dispose()

    asyncio.run(prepare())
    uvicorn.run(
        "hub.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
    )


@main.group()
def db() -> None:
    """Database migrations (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: head)."""
    _run_on_engine(lambda engine: upgrade(engine, revision))
    click.echo(f"upgraded to {revision}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION ('base' empties it)."""
    _run_on_engine(lambda engine: downgrade(engine, revision))
    click.echo(f"downgraded to {revision}")


@db.command("current")
def db_current() -> None:
    """Print the database's current revision."""

    async def show(engine: AsyncEngine) -> None:
        click.echo(await current(engine) or "base")

    _run_on_engine(show)


@main.group()
def schema() -> None:
    """The published GraphQL contract."""


@schema.command("print")
@click.option(
    "--tier",
    type=click.Choice(["public", "partner", "internal"]),
    default="public",
    show_default=True,
)
def schema_print(tier: str) -> None:
    """Print the SDL of a tier's schema."""
    from hub.auth.principal import Tier
    from schema.build import build_schema

    sys.stdout.write(build_schema(Tier[tier.upper()]).as_str() + "\n")


def _run_on_engine(action: Callable[[AsyncEngine], Awaitable[None]]) -> None:
    async def run() -> None:
        engine = create_engine(get_settings().database_url)
        try:
            await action(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


main.add_command(demo)
main.add_command(import_command)
