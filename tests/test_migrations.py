"""The Alembic migrations, on a database of their own per test, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect, text
from sqlalchemy.dialects.postgresql.base import PGInspector
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.cli import main
from hub.config import get_settings
from hub.db import create_engine
from hub.migrate import current, downgrade, upgrade
from hub.models import Base
from search.models import MIGRATION_ONLY
from search.terms import marks_of
from tests.fixtures.databases import empty_database


def _head() -> str:
    from alembic.script import ScriptDirectory

    from hub.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


HEAD = _head()


@pytest.fixture
async def empty_url(dialect: str, tmp_path: Path) -> AsyncIterator[str]:
    async with empty_database(dialect, tmp_path) as url:
        yield url


@pytest.fixture
async def empty_engine(empty_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(empty_url)
    yield engine
    await engine.dispose()


def _inspect_schema(connection: Connection) -> dict[str, list[str]]:
    """The tables, and the PostgreSQL objects that can outlive a dropped table."""
    inspector = inspect(connection)
    # The FTS5 table of the SQLite search index and its shadow tables: virtual, no model.
    tables = sorted(set(inspector.get_table_names()) - MIGRATION_ONLY)
    if not isinstance(inspector, PGInspector):
        return {"tables": tables, "sequences": [], "enums": []}  # SQLite has neither
    return {
        "tables": tables,
        "sequences": sorted(inspector.get_sequence_names()),
        "enums": sorted(enum["name"] for enum in inspector.get_enums()),
    }


async def _schema(engine: AsyncEngine) -> dict[str, list[str]]:
    async with engine.connect() as connection:
        return await connection.run_sync(_inspect_schema)


def _schema_differences(connection: Connection) -> list[Any]:
    """What autogenerate would put in a new migration: nothing, if the models match the database.

    ``compare_type`` as in migrations/env.py, so this sees what ``alembic revision --autogenerate``
    would see.
    """
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            # Dialect-specific search objects (FTS5 tables, the GIN index): see search.models.
            "include_name": lambda name, *_: name not in MIGRATION_ONLY,
        },
    )
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_downgrade_upgrade(empty_engine: AsyncEngine) -> None:
    # given
    assert await current(empty_engine) is None
    migrated_tables = sorted([*Base.metadata.tables, "alembic_version"])

    # when / then
    await upgrade(empty_engine)
    assert await current(empty_engine) == HEAD
    assert (await _schema(empty_engine))["tables"] == migrated_tables

    await downgrade(empty_engine, "base")
    assert await current(empty_engine) is None
    assert await _schema(empty_engine) == {
        "tables": ["alembic_version"],
        "sequences": [],
        "enums": [],
    }

    await upgrade(empty_engine)
    assert await current(empty_engine) == HEAD
    assert (await _schema(empty_engine))["tables"] == migrated_tables


async def test_models_match_migrations(empty_engine: AsyncEngine) -> None:
    await upgrade(empty_engine)
    async with empty_engine.connect() as connection:
        differences = await connection.run_sync(_schema_differences)
    assert differences == []


async def test_the_marks_of_documents_indexed_before_them_are_filled_in(
    empty_engine: AsyncEngine,
) -> None:
    # given: documents indexed before revision 0014, unpublished, blacklisted, both, neither
    await upgrade(empty_engine, "0013")
    postgres = empty_engine.dialect.name == "postgresql"
    written = {1: ["p:0", "x:a"], 2: ["b:1", "x:a"], 3: ["b:1", "p:0"], 4: ["b:0", "p:1"]}
    async with empty_engine.begin() as connection:
        for ref_id, tokens in written.items():
            await connection.execute(
                text(
                    "INSERT INTO search_document (kind, ref_id, tokens, text_0, text_1, "
                    "text_2, text_3, rank, source) "
                    "VALUES ('enterprise', :ref_id, :tokens, '', '', '', '', 1, '{}')"
                ),
                {"ref_id": ref_id, "tokens": tokens if postgres else " ".join(tokens)},
            )

    # when
    await upgrade(empty_engine)

    # then: each has the bits of its terms, as a document written now would
    async with empty_engine.connect() as connection:
        rows = await connection.execute(text("SELECT ref_id, marks FROM search_document"))
        marks: dict[int, int] = {ref_id: value for ref_id, value in rows.all()}
    assert marks == {ref_id: marks_of(tokens) for ref_id, tokens in written.items()}
    assert marks == {1: 1, 2: 2, 3: 3, 4: 0}


@pytest.fixture
def hub_database_url(empty_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """HUB_DATABASE_URL pointing at the empty database, for the ``hub`` command."""
    monkeypatch.setenv("HUB_DATABASE_URL", empty_url)
    # Settings are read once per process and cached; drop the cache on both sides of the test.
    get_settings.cache_clear()
    yield empty_url
    get_settings.cache_clear()


def test_cli_upgrade_current_downgrade(hub_database_url: str) -> None:
    runner = CliRunner()

    result = runner.invoke(main, ["db", "current"], catch_exceptions=False)
    assert (result.exit_code, result.output) == (0, "base\n")

    result = runner.invoke(main, ["db", "upgrade"], catch_exceptions=False)
    assert (result.exit_code, result.output) == (0, "upgraded to head\n")

    result = runner.invoke(main, ["db", "current"], catch_exceptions=False)
    assert (result.exit_code, result.output) == (0, f"{HEAD}\n")

    result = runner.invoke(main, ["db", "downgrade", "base"], catch_exceptions=False)
    assert (result.exit_code, result.output) == (0, "downgraded to base\n")

    result = runner.invoke(main, ["db", "current"], catch_exceptions=False)
    assert (result.exit_code, result.output) == (0, "base\n")
