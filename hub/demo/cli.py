"""The ``hub demo`` commands."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

import click
from rich.console import Console

from hub.config import get_settings
from hub.db import create_engine, create_sessionmaker
from hub.demo.codes import MAX_ENTERPRISES
from hub.demo.report import SeedReport, render_report
from hub.demo.seed import DEFAULT_SEED, EARLIEST_AS_OF, LATEST_AS_OF, seed
from hub.errors import HubError
from hub.migrate import upgrade
from search.indexer import ReindexReport, reindex
from search.outbox import EMBEDDED


@click.group()
def demo() -> None:
    """Deterministic, realistic demo data."""


@demo.command("seed")
@click.option(
    "--enterprises",
    "-n",
    default=2000,
    show_default=True,
    type=click.IntRange(1, MAX_ENTERPRISES),
    help="How many enterprises; about ten rows each in all.",
)
@click.option(
    "--seed",
    "seed_value",
    default=DEFAULT_SEED,
    show_default=True,
    type=int,
    help="The random seed; the same seed gives the same rows and ids.",
)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day the data is current on, YYYY-MM-DD  [default: today in Asia/Shanghai]",
)
@click.option(
    "--index/--no-index",
    default=True,
    show_default=True,
    help="Build the embedded search index afterwards (the seed bypasses the outbox).",
)
def seed_command(enterprises: int, seed_value: int, as_of: datetime | None, index: bool) -> None:
    """Migrate the database of HUB_DATABASE_URL and fill it with demo data.

    The database must hold no data yet. All dates are relative to --as-of.
    """

    async def run(day: date | None) -> tuple[SeedReport, ReindexReport | None]:
        engine = create_engine(get_settings().database_url)
        try:
            await upgrade(engine)
            report = await seed(
                engine, enterprises=enterprises, seed=seed_value, as_of=day, progress=True
            )
            indexed = await reindex(create_sessionmaker(engine), EMBEDDED) if index else None
            return report, indexed
        finally:
            await engine.dispose()

    day = as_of.date() if as_of else None
    if day is not None and not EARLIEST_AS_OF <= day <= LATEST_AS_OF:
        raise click.BadParameter(
            f"must be between {EARLIEST_AS_OF} and {LATEST_AS_OF}", param_hint="'--as-of'"
        )
    try:
        report, indexed = asyncio.run(run(day))
    except HubError as error:
        raise click.ClickException(error.message) from None
    console = Console()
    console.print(render_report(report))
    if indexed is not None:
        console.print(
            f"embedded search index: {indexed.total:,} documents in {indexed.seconds:.1f} s, "
            f"{indexed.per_second:,.0f} documents/s"
        )
