"""A reindex's documents made into what a backend writes in worker processes
(``search.building``): the same rows and lines as in this process, in the same order."""

from __future__ import annotations

import functools
import io
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.db import HubSession
from search import indexer
from search.building import prepared
from search.documents import Document, Kind
from search.elastic import bulk_bodies
from search.embedded import COPY_COLUMNS, EmbeddedBackend, _copy_field, copy_rows, document_row
from search.indexer import reindex
from search.models import SearchDocument
from search.outbox import EMBEDDED
from tests.search.test_embedded import make_corpus

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def _document(number: int) -> Document:
    return Document(
        kind=Kind.WARNING,
        id=number,
        texts={
            "title": [f"电动自行车{number}号充电器召回预警"],
            "category": ["电器"],
            "hazard": ["过热"],
            "advice": ["停止使用"],
        },
        rank=-number,
        version=number,
        attributes={
            "category": "电器",
            "severity": "high",
            "issued_on": "2026-11-30",
            "published_at": NOW,
        },
    )


def _pid(documents: list[Document]) -> int:
    return os.getpid()


async def _batches(sizes: list[int]) -> AsyncIterator[list[Document]]:
    start = 0
    for size in sizes:
        yield [_document(n) for n in range(start, start + size)]
        start += size


async def test_batches_past_the_first_are_made_by_workers_in_their_order() -> None:
    # when
    made = [made async for made in prepared(_batches([2, 3, 1, 4, 2]), _pid)]
    rows = [
        made
        async for made in prepared(_batches([2, 3, 1, 4, 2]), functools.partial(copy_rows, now=NOW))
    ]
    lines = [
        made
        async for made in prepared(_batches([3, 1]), functools.partial(bulk_bodies, target="x"))
    ]

    # then: the first in this process, the rest in others; each as this process makes it
    assert [size for size, _ in made] == [2, 3, 1, 4, 2]
    assert [pid == os.getpid() for _, pid in made] == [True, False, False, False, False]
    wanted = [batch async for batch in _batches([2, 3, 1, 4, 2])]
    assert rows == [(len(batch), copy_rows(batch, NOW)) for batch in wanted]
    assert lines == [(len(batch), bulk_bodies(batch, "x")) async for batch in _batches([3, 1])]


async def _rows(sessionmaker: async_sessionmaker[HubSession]) -> list[tuple[Any, ...]]:
    columns = [getattr(SearchDocument, name) for name in COPY_COLUMNS if name != "flags_until"]
    async with sessionmaker() as session:
        found = await session.execute(
            select(*columns).order_by(SearchDocument.kind, SearchDocument.ref_id)
        )
        return [tuple(row) for row in found.all()]


async def test_a_reindex_of_many_batches_writes_the_rows_of_one(
    sessionmaker: async_sessionmaker[HubSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    async with sessionmaker() as session, session.begin():
        await make_corpus(session, 40)
    await reindex(sessionmaker, EMBEDDED)
    whole = await _rows(sessionmaker)

    # when: a batch of 7 records at a time
    monkeypatch.setattr(indexer, "REINDEX_BATCH", 7)
    report = await reindex(sessionmaker, EMBEDDED)

    # then
    assert report.documents[Kind.ENTERPRISE.value] == 40
    assert await _rows(sessionmaker) == whole


# Values COPY's text format must escape: its delimiter, line ends, its escape character, what
# marks NULL, and what an array literal quotes.
AWKWARD = ["a\tb", "line\nbreak\r", "back\\slash", '"quoted"', "{braces,comma}", "\\N", "NULL", ""]


@pytest.mark.parametrize("dialect", ["postgres"], indirect=True)  # SQLite takes no COPY
async def test_copied_rows_read_back_as_the_documents_rows(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    # given: documents whose texts hold every value COPY's text format escapes, one published
    # from tomorrow (its facts hold until then), one published
    documents = [
        Document(
            kind=Kind.WARNING,
            id=1,
            texts={"title": AWKWARD, "category": ["电器"], "hazard": ["\\"], "advice": []},
            rank=3,
            version=2,
            attributes={
                "category": "电器",
                "severity": "high",
                "issued_on": "2026-11-30",
                "published_at": NOW + timedelta(days=1),
            },
        ),
        _document(2),
    ]
    columns = [getattr(SearchDocument, name) for name in COPY_COLUMNS]

    # when
    async with sessionmaker() as session:
        await EmbeddedBackend(session).copy(copy_rows(documents, NOW))
        found = await session.execute(select(*columns).order_by(SearchDocument.ref_id))
        rows = [dict(zip(COPY_COLUMNS, row, strict=True)) for row in found.all()]
        # and an array of such values, and an empty one, as PostgreSQL reads COPY's text format
        await session.execute(
            text("CREATE TEMPORARY TABLE copied (terms text[], empty text[], note text)")
        )
        async with session.held_connection() as connection:
            raw = await connection.get_raw_connection()
            line = "\t".join([_copy_field(AWKWARD), _copy_field([]), _copy_field(None)]) + "\n"
            await raw.driver_connection.copy_to_table(  # type: ignore[union-attr]
                "copied", source=io.BytesIO(line.encode()), format="text"
            )
        array = (await session.execute(text("SELECT terms, empty, note FROM copied"))).one()

    # then: each row as ``document_row`` makes it (the moments to the microsecond)
    assert rows == [document_row(document, NOW) for document in documents]
    assert rows[0]["source"]["title"] == AWKWARD
    assert [row["flags_until"] for row in rows] == [NOW + timedelta(days=1), None]
    assert tuple(array) == (AWKWARD, [], None)
