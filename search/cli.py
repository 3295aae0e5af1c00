"""``hub search``: rebuild the indexes, drain the outbox, show how far behind and how right
they are."""

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
from hub.db import HubSession, create_engine, create_sessionmaker, transaction
from search.backend import BackendUnavailableError, SearchBackend
from search.consistency import Check, check
from search.documents import Kind
from search.elastic import ElasticBackend
from search.embedded import EmbeddedBackend
from search.indexer import (
    Advance,
    ReindexReport,
    ReindexRunningError,
    Unserved,
    count_records,
    reindex,
    repair_orphans,
    sync_once,
    unserved,
)
from search.outbox import ELASTICSEARCH, EMBEDDED, enqueue, lag

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
                try:
                    reports.append(await reindex(sessionmaker, target, elastic, advance=advance))
                except ReindexRunningError as error:
                    raise click.ClickException(str(error)) from None
        return reports

    for report in _run(run):
        for name in report.orphans_dropped:
            click.echo(f"dropped {name}, left by a reindex that did not finish")
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
@click.option(
    "--repair",
    is_flag=True,
    help="Drop orphan indices, re-queue the records that differ, and apply the outbox.",
)
def status_command(repair: bool) -> None:
    """Documents per index, how far each is behind the database (the outbox lag), and whether
    a sample of its documents has the database's versions.

    Exits with 1 when a document differs or an orphan index is left, unless --repair fixed it.
    """

    async def run(
        sessionmaker: async_sessionmaker[HubSession], elastic: ElasticBackend | None
    ) -> tuple[Table, list[str], bool]:
        table = Table(
            "backend",
            "enterprises",
            "recalls",
            "warnings",
            "pending",
            "lag",
            "checked",
            "differ",
            "detail",
        )
        notes: list[str] = []
        wrong = False
        checks: list[Check] = []
        async with sessionmaker() as session:
            targets: list[tuple[str, SearchBackend]] = [(EMBEDDED, EmbeddedBackend(session))]
            if elastic is not None:
                targets.append((ELASTICSEARCH, elastic))
            for target, backend in targets:
                behind = await lag(session, target)
                try:
                    state = await backend.status()
                    found = await check(session, target, backend)
                    checks.append(found)
                    cells = [str(state.documents[kind.value]) for kind in Kind]
                    cells += [str(behind.pending), f"{behind.seconds():.0f}s"]
                    cells += [str(found.checked), str(len(found.diverged)), state.detail]
                except BackendUnavailableError as error:
                    cells = ["-"] * len(Kind) + [str(behind.pending), f"{behind.seconds():.0f}s"]
                    cells += ["-", "-", f"unavailable: {error}"]
                table.add_row(target, *cells)
        for found in checks:
            if found.diverged:
                wrong = True
                notes.append(_divergence_note(found, repair))
        if repair and any(found.diverged for found in checks):
            async with transaction(sessionmaker) as session:
                for kind in Kind:
                    ids = {d.id for found in checks for d in found.diverged if d.kind is kind}
                    await enqueue(session, kind, ids)
            applied = await sync_once(sessionmaker, elastic)
            notes.append(
                "re-queued them and applied the outbox: "
                + ", ".join(f"{target} {n} entries" for target, n in applied.items())
            )
        if elastic is not None:
            try:
                left = await unserved(sessionmaker, elastic)
            except BackendUnavailableError:
                left = Unserved([], orphaned=False)
            wrong = wrong or left.orphaned
            notes += await _orphan_notes(sessionmaker, elastic, left, repair)
        return table, notes, wrong and not repair

    table, notes, failed = _run(run)
    Console(width=160).print(table)
    for note in notes:
        click.echo(note)
    if failed:
        raise click.exceptions.Exit(1)


def _divergence_note(found: Check, repair: bool) -> str:
    examples = ", ".join(
        f"{d.kind.value} {d.id} (database version {d.expected}, index "
        + (f"version {d.found})" if d.found is not None else "none)")
        for d in found.diverged[:5]
    )
    advice = (
        ""
        if repair
        else f"; `hub search status --repair` re-queues them, "
        f"`hub search reindex --backend {found.target}` rebuilds the whole index"
    )
    return (
        f"{found.target}: {len(found.diverged)} of {found.checked} sampled records differ "
        f"from the database, e.g. {examples}{advice}"
    )


async def _orphan_notes(
    sessionmaker: async_sessionmaker[HubSession],
    elastic: ElasticBackend,
    left: Unserved,
    repair: bool,
) -> list[str]:
    if not left.indices:
        return []
    if not left.orphaned:
        return [f"being built by a running reindex: {name}" for name in left.indices]
    if repair:
        dropped = await repair_orphans(sessionmaker, elastic)
        return [f"dropped orphan index {name}" for name in dropped]
    return [
        f"orphan index {name}, left by a reindex that did not finish; "
        "`hub search status --repair` or the next reindex drops it"
        for name in left.indices
    ]
