"""``hub search reindex | sync | status`` on a database of their own."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli import main
from hub.config import get_settings
from hub.db import create_engine, create_sessionmaker
from hub.migrate import upgrade
from search.documents import Kind
from search.elastic import ElasticBackend
from search.outbox import enqueue
from tests.fixtures.databases import empty_database
from tests.fixtures.enterprise import make_enterprise


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


def test_reindex_status_sync(environment: None) -> None:
    runner = CliRunner()

    status = runner.invoke(main, ["search", "status"], catch_exceptions=False)
    assert status.exit_code == 0
    rows = [line.split("│")[1:-1] for line in status.output.splitlines() if "│" in line]
    cells = [[cell.strip() for cell in row][:5] for row in rows]
    assert cells == [["embedded", "0", "0", "0", "1"], ["elasticsearch", "0", "0", "0", "1"]]

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
    rows = [line.split("│")[1:-1] for line in status.output.splitlines() if "│" in line]
    cells = [[cell.strip() for cell in row][:5] for row in rows]
    assert cells == [["embedded", "2", "0", "0", "0"], ["elasticsearch", "2", "0", "0", "0"]]

    synced = runner.invoke(main, ["search", "sync"], catch_exceptions=False)
    assert synced.output == "embedded: 0 entries applied, elasticsearch: 0 entries applied\n"
