"""``hub search reindex | sync | status`` on a database of their own."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from hub.cli import main
from hub.config import get_settings
from hub.db import create_engine, create_sessionmaker
from hub.enterprise.models import Enterprise
from hub.migrate import upgrade
from search.documents import Kind
from search.elastic import ElasticBackend
from search.outbox import ELASTICSEARCH, EMBEDDED, enqueue, mark_done, pending_ids
from tests.fixtures.databases import empty_database
from tests.fixtures.enterprise import make_enterprise

T = TypeVar("T")


@pytest.fixture
async def database(dialect: str, tmp_path: Path) -> AsyncIterator[str]:
    async with empty_database(dialect, tmp_path) as url:
        engine = create_engine(url)
        try:
            await upgrade(engine)
            async with create_sessionmaker(engine)() as session, session.begin():
                first = await make_enterprise(session, name="华为技术有限公司")
                await make_enterprise(session, name="TCL科技集团股份有限公司")
                await enqueue(session, Kind.ENTERPRISE, [first.id])
        finally:
            await engine.dispose()
        yield url


@pytest.fixture
def environment(
    database: str, elastic: ElasticBackend, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("HUB_DATABASE_URL", database)
    monkeypatch.setenv("HUB_SEARCH_URL", elastic.url)
    monkeypatch.setenv("HUB_SEARCH_INDEX_PREFIX", prefix)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _cells(output: str) -> list[list[str]]:
    """The table's cells, lag and detail left out: backend, counts, pending, checked, differ."""
    rows = [line.split("│")[1:-1] for line in output.splitlines() if "│" in line]
    cells = [[cell.strip() for cell in row] for row in rows]
    return [[*row[:5], row[6], row[7]] for row in cells]


def _notes(output: str) -> list[str]:
    """The lines after the table."""
    lines = output.splitlines()
    last = max(i for i, line in enumerate(lines) if line.startswith("└"))
    return lines[last + 1 :]


def test_reindex_status_sync(environment: None) -> None:
    runner = CliRunner()

    # The second enterprise was stored without an outbox entry: neither index has it, and
    # nothing will bring it there. Status finds it in its sample and says so.
    status = runner.invoke(main, ["search", "status"], catch_exceptions=False)
    assert status.exit_code == 1
    assert _cells(status.output) == [
        ["embedded", "0", "0", "0", "1", "2", "1"],
        ["elasticsearch", "0", "0", "0", "1", "2", "1"],
    ]
    assert _notes(status.output) == [
        f"{target}: 1 of 2 sampled records differ from the database, e.g. enterprise 2 "
        "(database version 1, index none); `hub search status --repair` re-queues them, "
        f"`hub search reindex --backend {target}` rebuilds the whole index"
        for target in ("embedded", "elasticsearch")
    ]

    result = runner.invoke(main, ["search", "reindex", "--no-progress"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    pattern = (
        r"(embedded|elasticsearch): 2 documents \(2 enterprise, 0 recall, 0 warning\) "
        r"in \d+\.\ds, [\d,]+ documents/s"
    )
    lines = result.output.splitlines()
    assert [re.fullmatch(pattern, line) is not None for line in lines] == [True, True]
    assert [line.split(":")[0] for line in lines] == ["embedded", "elasticsearch"]

    status = runner.invoke(main, ["search", "status"], catch_exceptions=False)
    assert status.exit_code == 0
    assert _cells(status.output) == [
        ["embedded", "2", "0", "0", "0", "2", "0"],
        ["elasticsearch", "2", "0", "0", "0", "2", "0"],
    ]
    assert _notes(status.output) == []

    synced = runner.invoke(main, ["search", "sync"], catch_exceptions=False)
    assert synced.output == "embedded: 0 entries applied, elasticsearch: 0 entries applied\n"


def _run_async(work: Coroutine[Any, Any, T]) -> T:
    """Async setup in a test of the CLI, which runs its own event loop (no loop is running)."""
    return asyncio.run(work)


async def _lose_a_write(url: str) -> None:
    """Rename the first enterprise and stamp its outbox entry done for both indexes without
    applying it: what a reindex that overlapped the rename used to do."""
    engine = create_engine(url)
    try:
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as session, session.begin():
            await session.execute(
                update(Enterprise).where(Enterprise.id == 1).values(name="华为终端有限公司")
            )
            await enqueue(session, Kind.ENTERPRISE, [1])
        async with sessionmaker() as session, session.begin():
            lost = await pending_ids(session, EMBEDDED)
            await mark_done(session, EMBEDDED, lost)
            await mark_done(session, ELASTICSEARCH, lost)
    finally:
        await engine.dispose()


def test_status_finds_a_lost_write_and_repair_brings_it(environment: None, database: str) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["search", "reindex", "--no-progress"]).exit_code == 0

    # given: a write both indexes lost, while the outbox says it was applied
    _run_async(_lose_a_write(database))

    # then: counts and lag look right, the sampled versions do not
    status = runner.invoke(main, ["search", "status"], catch_exceptions=False)
    assert status.exit_code == 1
    assert _cells(status.output) == [
        ["embedded", "2", "0", "0", "0", "2", "1"],
        ["elasticsearch", "2", "0", "0", "0", "2", "1"],
    ]
    assert _notes(status.output) == [
        f"{target}: 1 of 2 sampled records differ from the database, e.g. enterprise 1 "
        "(database version 3, index version 2); `hub search status --repair` re-queues them, "
        f"`hub search reindex --backend {target}` rebuilds the whole index"
        for target in ("embedded", "elasticsearch")
    ]

    # when: repaired
    repaired = runner.invoke(main, ["search", "status", "--repair"], catch_exceptions=False)

    # then: the records were queued again and applied, and the indexes agree again
    assert repaired.exit_code == 0
    assert _notes(repaired.output)[2:] == [
        "re-queued them and applied the outbox: embedded 1 entries, elasticsearch 1 entries"
    ]
    status = runner.invoke(main, ["search", "status"], catch_exceptions=False)
    assert (status.exit_code, _notes(status.output)) == (0, [])
    assert _cells(status.output)[1] == ["elasticsearch", "2", "0", "0", "0", "2", "0"]


async def _half_built(url: str, prefix: str) -> str:
    """An index as a reindex killed half-way leaves it: behind the build alias, refresh off."""
    elastic = ElasticBackend(url, prefix=prefix)
    try:
        return await elastic.create_index(Kind.ENTERPRISE, loading=True)
    finally:
        await elastic.close()


async def _indices(url: str, prefix: str) -> dict[str, list[str]]:
    elastic = ElasticBackend(url, prefix=prefix)
    try:
        layouts = await elastic.layout()
    finally:
        await elastic.close()
    return {
        "serving": [name for layout in layouts.values() for name in layout.serving],
        "other": [name for layout in layouts.values() for name in layout.building + layout.loose],
    }


def test_status_lists_orphan_indices_and_repair_or_reindex_drop_them(
    environment: None, elastic: ElasticBackend, prefix: str
) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["search", "reindex", "--no-progress"]).exit_code == 0

    orphan = _run_async(_half_built(elastic.url, prefix))
    status = runner.invoke(main, ["search", "status"], catch_exceptions=False)
    assert status.exit_code == 1
    assert _notes(status.output) == [
        f"orphan index {orphan}, left by a reindex that did not finish; "
        "`hub search status --repair` or the next reindex drops it"
    ]
    repaired = runner.invoke(main, ["search", "status", "--repair"], catch_exceptions=False)
    assert (repaired.exit_code, _notes(repaired.output)) == (
        0,
        [f"dropped orphan index {orphan}"],
    )
    assert len(_run_async(_indices(elastic.url, prefix))["serving"]) == 3
    assert _run_async(_indices(elastic.url, prefix))["other"] == []

    another = _run_async(_half_built(elastic.url, prefix))
    result = runner.invoke(
        main, ["search", "reindex", "--backend", "elasticsearch", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        f"dropped {another}, left by a reindex that did not finish"
    )
    assert _run_async(_indices(elastic.url, prefix))["other"] == []


# Slows the reindex down before its first batch, so that it is killed with its new index made
# and half-loaded at most.
_SLOW_REINDEX = """
import asyncio
from search import indexer

batches = indexer.document_batches

async def slow(session, kind, size):
    await asyncio.sleep(120)
    async for batch in batches(session, kind, size):
        yield batch

indexer.document_batches = slow
from hub.cli import main
main(["search", "reindex", "--backend", "elasticsearch", "--no-progress"])
"""


def test_a_reindex_killed_with_sigkill_leaves_an_orphan_the_next_one_drops(
    environment: None, elastic: ElasticBackend, prefix: str
) -> None:
    # given: indexes in step, then a reindex killed (SIGKILL) while it builds its first index
    assert CliRunner().invoke(main, ["search", "reindex", "--no-progress"]).exit_code == 0
    process = subprocess.Popen([sys.executable, "-c", _SLOW_REINDEX])
    try:
        deadline = time.monotonic() + 60
        while not (building := _run_async(_indices(elastic.url, prefix))["other"]):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        process.kill()
        process.wait()

    # then: status finds what it left; its lock died with it, so it is an orphan
    status = CliRunner().invoke(main, ["search", "status"], catch_exceptions=False)
    assert status.exit_code == 1
    assert _notes(status.output) == [
        f"orphan index {building[0]}, left by a reindex that did not finish; "
        "`hub search status --repair` or the next reindex drops it"
    ]

    # and the next reindex drops it
    result = CliRunner().invoke(
        main, ["search", "reindex", "--backend", "elasticsearch", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        f"dropped {building[0]}, left by a reindex that did not finish"
    )
    assert _run_async(_indices(elastic.url, prefix))["other"] == []
