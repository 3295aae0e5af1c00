"""The ``hub`` command: serve, db, demo, import, schema."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import FrameType

import click
from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.auth.cli import clients, keys
from hub.config import Settings, get_settings
from hub.db import create_engine
from hub.demo.cli import demo
from hub.demo.codes import MAX_ENTERPRISES
from hub.errors import HubError
from hub.importer.cli import import_command
from hub.migrate import current, downgrade, upgrade
from hub.observability.logs import log_config
from hub.observability.metrics import MULTIPROC_ENV
from schema.federation import Subgraph
from search.cli import search

KEEP_ALIVE_SECONDS = 75
"""How long `hub serve` keeps an idle connection open (nginx's default). A router reuses its
idle connections to a subgraph; if the hub closes one at the moment the router sends on it, the
router's request fails ("socket hang up"). Node's agents, under both test routers, keep idle
connections 5 s, exactly uvicorn's default, and lost that race in CI: the server must wait
longer than any client in front of it, so that the client is always the one to close."""


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
@click.option(
    "--enterprises", default=2000, show_default=True, type=click.IntRange(1, MAX_ENTERPRISES)
)
@click.option(
    "--subgraph",
    type=click.Choice([s.value for s in Subgraph]),
    help="Serve this federation subgraph alone, for a router (default: the whole graph).",
)
@click.option(
    "--shutdown-timeout",
    default=30,
    show_default=True,
    type=click.IntRange(0, 3600),
    help="Seconds that requests in flight get to finish after SIGTERM.",
)
@click.option(
    "--keep-alive",
    default=KEEP_ALIVE_SECONDS,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Seconds an idle connection stays open: longer than the idle timeout of any router or "
    "load balancer in front of the hub.",
)
def serve(
    host: str,
    port: int,
    workers: int,
    with_demo: bool,
    enterprises: int,
    subgraph: str | None,
    shutdown_timeout: int,
    keep_alive: int,
) -> None:
    """Serve the GraphQL API (GraphiQL at /graphql in development)."""
    import logging.config

    import uvicorn
    from sqlalchemy.exc import ArgumentError

    from hub.app import SUBGRAPH_ENV
    from hub.db import create_sessionmaker
    from hub.demo.seed import seed_if_empty
    from search.indexer import reindex
    from search.outbox import EMBEDDED

    settings = _valid_settings()
    logs = log_config(settings.logs_as, settings.log_level)
    logging.config.dictConfig(logs)

    async def prepare() -> None:
        try:
            engine = create_engine(settings.database_url)
        except ArgumentError as error:
            raise click.ClickException(
                f"invalid configuration: HUB_DATABASE_URL: {error}"
            ) from None
        try:
            await upgrade(engine)
            # The seed bulk-loads without the outbox: index everything once instead.
            if with_demo and await seed_if_empty(engine, enterprises=enterprises) is not None:
                await reindex(create_sessionmaker(engine), EMBEDDED)
        finally:
            await engine.dispose()

    try:
        asyncio.run(prepare())
    except HubError as error:
        raise click.ClickException(error.message) from None
    if subgraph is not None:
        os.environ[SUBGRAPH_ENV] = subgraph
    made = _metrics_directory(workers)
    # uvicorn finishes the requests in flight on SIGTERM, then raises the signal again for
    # the handler it found: this one makes that a clean exit (0), not a death by signal.
    signal.signal(signal.SIGTERM, _stopped)
    try:
        uvicorn.run(
            "hub.app:create_app" if subgraph is None else "hub.app:create_subgraph_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=logs,
            log_level=settings.log_level.lower(),
            access_log=False,
            timeout_graceful_shutdown=shutdown_timeout,
            timeout_keep_alive=keep_alive,
            # The app believes forwarded headers from HUB_TRUSTED_ROUTERS only (schema.guard);
            # uvicorn's own default would believe any process on 127.0.0.1 first.
            proxy_headers=False,
        )
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


def _stopped(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _valid_settings() -> Settings:
    """The settings, or a one-line message that names each variable that is wrong."""
    try:
        return get_settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{_variable(problem['loc'])}: {problem['msg']}" for problem in error.errors()
        )
        raise click.ClickException(f"invalid configuration: {problems}") from None
    except SettingsError as error:
        found = re.search(r'field "(\w+)"', str(error))
        name = _variable((found.group(1),)) if found else "a HUB_ variable"
        raise click.ClickException(f"invalid configuration: {name}: {error}") from None


def _variable(location: tuple[int | str, ...]) -> str:
    """The environment variable of a settings field (nested fields joined by ``__``)."""
    names: list[str] = []
    for part in location:
        if not isinstance(part, str):
            break  # an item of a JSON list: the variable is the list's
        names.append(part.upper())
    return "HUB_" + "__".join(names)


def _metrics_directory(workers: int) -> str | None:
    """Several workers keep their metrics in files that any of them adds up for a scrape:
    in ``PROMETHEUS_MULTIPROC_DIR`` as given, emptied of a previous run's files, or else in a
    fresh temporary directory, which is returned to be removed at exit."""
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        for old in Path(configured).glob("*.db"):
            old.unlink()
        return None
    if workers == 1:
        return None
    made = tempfile.mkdtemp(prefix="hub-metrics-")
    os.environ[MULTIPROC_ENV] = made
    return made


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
@click.option(
    "--subgraph",
    type=click.Choice([s.value for s in Subgraph]),
    help="Print this federation subgraph's SDL instead of the whole graph's.",
)
def schema_print(tier: str, subgraph: str | None) -> None:
    """Print the SDL of a tier's schema, or of one subgraph of it."""
    from hub.auth.principal import Tier
    from schema.build import build_schema
    from schema.federation.schema import build_subgraph

    level = Tier[tier.upper()]
    printed = build_schema(level) if subgraph is None else build_subgraph(Subgraph(subgraph), level)
    sys.stdout.write(printed.as_str() + "\n")


@main.command()
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--client", "client_id", default=None, help="Only reads by this client_id.")
def audit(limit: int, client_id: str | None) -> None:
    """List recent reads of personal data, newest first."""
    from rich.console import Console
    from rich.table import Table

    from hub.auth.audit import AuditRepository
    from hub.db import create_sessionmaker

    async def show(engine: AsyncEngine) -> None:
        async with create_sessionmaker(engine)() as session:
            records = await AuditRepository(session).recent(limit, client_id)
        table = Table("at (UTC)", "request", "tier", "client", "subject", "record", "fields")
        for r in records:
            table.add_row(
                r.at.strftime("%Y-%m-%d %H:%M:%S"),
                r.request_id[:12],
                r.tier,
                r.client_id or "",
                r.subject or "",
                f"{r.record_type}:{r.record_id}",
                ", ".join(r.fields),
            )
        Console(width=160).print(table)

    _run_on_engine(show)


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
main.add_command(clients)
main.add_command(keys)
main.add_command(search)
