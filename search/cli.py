"""``hub search``: rebuild the indexes, drain the outbox, show how far behind they are."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.config import get_settings
from hub.db import HubSession, create_engine, create_sessionmaker
from search.backend import BackendUnavailableError, SearchBackend
from search.documents import Kind
from search.elastic import ElasticBackend
from search.embedded import EmbeddedBackend
from search.indexer import Advance, ReindexReport, count_records, reindex, sync_once
from search.outbox import ELASTICSEARCH, EMBEDDED, lag

T = TypeVar("T")
Action = Callable[[async_sessionmaker[HubSession], ElasticBackend | None], Awaitable[T]]


def _run(action: Action[T]) -> T:
    """Run ``action`` with a sessionmaker and, when HUB_SEARCH_URL is set, Elasticsearch."""
    settings = get_settings()

    async def run() -> T:
        engine = create_engine(settings.database_url)
        elastic = (
            ElasticBackend(
                settings.search_url,
                prefix=settings.search_index_prefix,
                timeout=max(settings.search_timeout, 60.0),
            )
            if settings.search_url
            else None
        )
        try:
            return await action(create_sessionmaker(engine), elastic)
        finally:
            if elastic is not None:
                await elastic.close()
            await engine.dispose()

    return asyncio.run(run())


@click.group()
def search() -> None:
    """The search indexes: embedded (in the database) and Elasticsearch (HUB_SEARCH_URL)."""


@contextmanager
def _progress(totals: dict[Kind, int], enabled: bool) -> Iterator[Advance]:
    if not enabled:
        yield lambda _kind, _count: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        tasks = {kind: bar.add_task(kind.value, total=total) for kind, total in totals.items()}
        yield lambda kind, count: bar.advance(tasks[kind], count)


@search.command("reindex")
@click.option(
    "--backend",
    type=click.Choice(["all", EMBEDDED, ELASTICSEARCH]),
    default="all",
    show_default=True,
    help="Which index to rebuild; all: embedded, and Elasticsearch when HUB_SEARCH_URL is set.",
)
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def reindex_command(backend: str, progress: bool) -> None:
    """Rebuild search indexes from the database and print documents per second."""

    async def run(
        sessionmaker: async_sessionmaker[HubSession], elastic: ElasticBackend | None
    ) -> list[ReindexReport]:
        targets = [EMBEDDED] if backend in ("all", EMBEDDED) else []
        if backend == ELASTICSEARCH and elastic is None:
            raise click.ClickException("--backend elasticsearch needs HUB_SEARCH_URL")
        if backend in ("all", ELASTICSEARCH) and elastic is not None:
            try:
                await elastic.check_version()
            except BackendUnavailableError as error:
                raise click.ClickException(f"Elasticsearch: {error}") from None
            targets.append(ELASTICSEARCH)
        totals = {kind: await count_records(sessionmaker, kind) for kind in Kind}
        reports = []
        for target in targets:
            with _progress(totals, progress) as advance:
                reports.append(await reindex(sessionmaker, target, elastic, advance=advance))
        return reports

    for report in _run(run):
        counts = ", ".join(f"{n} {kind}" for kind, n in report.documents.items())
        click.echo(
            f"{report.target}: {report.total} documents ({counts}) in {report.seconds:.1f}s, "
            f"{report.per_second:,.0f} documents/s"
        )


@search.command("sync")
def sync_command() -> None:
    """Apply the pending outbox entries to every index now."""
    applied = _run(sync_once)
    click.echo(", ".join(f"{target}: {n} entries applied" for target, n in applied.items()))


@search.command("status")
def status_command() -> None:
    """Documents per index and how far each is behind the database (the outbox lag)."""

    async def run(
        sessionmaker: async_sessionmaker[HubSession], elastic: ElasticBackend | None
    ) -> Table:
        table = Table("backend", "enterprises", "recalls", "warnings", "pending", "lag", "detail")
        async with sessionmaker() as session:
            targets: list[tuple[str, SearchBackend]] = [(EMBEDDED, EmbeddedBackend(session))]
            if elastic is not None:
                targets.append((ELASTICSEARCH, elastic))
            for target, backend in targets:
                behind = await lag(session, target)
                try:
                    state = await backend.status()
                    counts = [str(state.documents[kind.value]) for kind in Kind]
                    detail = state.detail
                except BackendUnavailableError as error:
                    counts = ["-"] * len(Kind)
                    detail = f"unreachable: {error}"
                table.add_row(
                    target, *counts, str(behind.pending), f"{behind.seconds():.0f}s", detail
                )
        return table

    Console(width=160).print(_run(run))
