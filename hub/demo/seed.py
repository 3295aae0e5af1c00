"""Seeding a database with the demo data: the public API of ``hub demo seed``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import aclosing, contextmanager
from datetime import date

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.demo.codes import MAX_ENTERPRISES
from hub.demo.errors import DatabaseNotEmptyError
from hub.demo.generator import (
    CHUNK_SIZE,
    TABLES,
    Calendar,
    Chunk,
    ChunkBuilder,
    chunk_ranges,
    new_ids,
)
from hub.demo.load import Loader, analyze, open_loader
from hub.demo.report import SeedReport
from hub.demo.worker import generated_elsewhere
from hub.errors import BadUserInputError
from hub.kit.time import today
from hub.models import Base, Enterprise

DEFAULT_SEED = 20_150_601
"""The seed when none is given; any fixed number would do."""

# The calendar reaches 40 years back and 6 forward from as-of; these keep it within date's range
# and the data plausible (GB 32100 codes exist since 2015, but older records are fine).
EARLIEST_AS_OF = date(2000, 1, 1)
LATEST_AS_OF = date(2999, 12, 31)

__all__ = ["DEFAULT_SEED", "SeedReport", "seed", "seed_if_empty"]


async def seed(
    engine: AsyncEngine,
    *,
    enterprises: int,
    seed: int = DEFAULT_SEED,
    as_of: date | None = None,
    progress: bool = False,
) -> SeedReport:
    """Fill an empty, migrated database with ``enterprises`` enterprises and their records.

    The rows depend only on (enterprises, seed, as_of); as_of defaults to today in Shanghai.
    Everything is written in one transaction: a failure leaves the database empty.
    """
    if not 1 <= enterprises <= MAX_ENTERPRISES:
        raise BadUserInputError("enterprises", f"must be between 1 and {MAX_ENTERPRISES:,}")
    as_of = as_of or today()
    if not EARLIEST_AS_OF <= as_of <= LATEST_AS_OF:
        raise BadUserInputError(
            "as_of", f"must be between {EARLIEST_AS_OF} and {LATEST_AS_OF}, got {as_of}"
        )
    started = time.perf_counter()
    rows = dict.fromkeys(TABLES, 0)
    async with engine.connect() as connection:
        loader: Loader | None = None
        try:
            async with connection.begin():
                await _refuse_non_empty(connection)
                loader = await open_loader(connection)
                await loader.start()
                chunks = _load_while_generating(loader, _chunks(loader, enterprises, seed, as_of))
                with _progress_bar(progress, enterprises) as advance:
                    async with aclosing(chunks):
                        async for chunk in chunks:
                            for table, table_rows in chunk.items():
                                rows[table] += len(table_rows)
                            advance(len(chunk["enterprise"]))
                await loader.finish()
        finally:
            if loader is not None:
                await loader.close()
        await analyze(connection)
        await connection.commit()
    return SeedReport(
        dialect=engine.dialect.name,
        enterprises=enterprises,
        seed=seed,
        as_of=as_of,
        rows=rows,
        seconds=time.perf_counter() - started,
    )


async def seed_if_empty(engine: AsyncEngine, *, enterprises: int) -> SeedReport | None:
    """Seed with the default seed if there is no enterprise yet; ``None`` if there was one."""
    async with engine.connect() as connection:
        if await connection.scalar(select(Enterprise.id).limit(1)) is not None:
            return None
    return await seed(engine, enterprises=enterprises)


async def _refuse_non_empty(connection: AsyncConnection) -> None:
    for name in TABLES:
        table = Base.metadata.tables[name]
        if await connection.scalar(select(table).limit(1).exists().select()):
            raise DatabaseNotEmptyError(
                f"the database already has rows in '{name}': the demo seed writes fixed ids "
                "and only fills an empty database (start from a new one, or run "
                "'hub db downgrade base' and 'hub db upgrade' first)",
                table=name,
            )


def _chunks(
    loader: Loader, enterprises: int, seed: int, as_of: date
) -> AsyncGenerator[Chunk, None]:
    """Where the chunks come from: another process when there are several and the loader's
    converters can go there; otherwise this one, taking turns with the load."""
    converters = loader.portable_converters
    if converters is not None and enterprises > CHUNK_SIZE:
        return generated_elsewhere(enterprises, seed, as_of, converters)
    return _generated_here(
        enterprises, seed, Calendar(as_of, loader.date_value, loader.stamp_value)
    )


async def _generated_here(
    enterprises: int, seed: int, calendar: Calendar
) -> AsyncGenerator[Chunk, None]:
    """The chunks of ``generate``, handing control to the event loop every few hundred
    enterprises, so that the loop pushes the previous chunk to the database meanwhile.

    A thread instead would make the driver's encoding wait for the GIL while the database
    sits idle.
    """
    ids = new_ids()
    for index, enterprise_ids in enumerate(chunk_ranges(enterprises)):
        builder = ChunkBuilder(seed, index, calendar, ids)
        for count, enterprise_id in enumerate(enterprise_ids, 1):
            builder.enterprise(enterprise_id)
            if count % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
        yield builder.close()


async def _load_while_generating(
    loader: Loader, chunks: AsyncGenerator[Chunk, None]
) -> AsyncGenerator[Chunk, None]:
    """Load each chunk while the next one is made; yield each chunk once it is loaded."""
    loading: asyncio.Task[Chunk] | None = None
    try:
        async with aclosing(chunks):
            async for chunk in chunks:
                if loading is not None:
                    yield await loading
                loading = asyncio.create_task(_load(loader, chunk))
        if loading is not None:
            yield await loading
            loading = None
    finally:
        if loading is not None and not loading.done():
            loading.cancel()
            await asyncio.wait([loading])


_YIELD_EVERY = 200  # enterprises, about 10 ms of generation


async def _load(loader: Loader, chunk: Chunk) -> Chunk:
    await loader.load(chunk)
    return chunk


@contextmanager
def _progress_bar(show: bool, total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr counting enterprises; yields the function that advances it."""
    if not show:
        yield lambda _count: None
        return
    columns = (
        TextColumn("seeding"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("enterprises"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("seeding", total=total)
        yield lambda count: bar.advance(task, count)
