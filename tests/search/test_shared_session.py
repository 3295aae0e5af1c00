"""The search's statements on a session that concurrent resolvers share.

GraphQL resolves sibling fields concurrently on the operation's one session (``HubSession``):
a statement sent on its connection without the session's lock ran beside a sibling's and
failed on PostgreSQL ('another operation is in progress'); on SQLite the two interleaved.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from hub.db import HubSession
from hub.enterprise.models import Enterprise
from search.documents import Kind, build_documents
from search.embedded import EmbeddedBackend
from search.models import SearchDocument
from tests.search.corpus import Corpus


async def test_documents_are_built_beside_other_statements_of_the_session(
    sessionmaker: async_sessionmaker[HubSession], corpus: Corpus
) -> None:
    ids = sorted(e.id for e in corpus.enterprises.values())
    async with sessionmaker() as session:
        # when: documents built while siblings read through the same session
        built, *counts = await asyncio.gather(
            build_documents(session, Kind.ENTERPRISE, ids),
            *(session.scalar(select(func.count()).select_from(Enterprise)) for _ in range(4)),
        )

    assert sorted(document.id for document in built) == ids
    assert counts == [len(ids)] * 4


async def test_documents_are_stored_beside_other_statements_of_the_session(
    sessionmaker: async_sessionmaker[HubSession], corpus: Corpus
) -> None:
    async with sessionmaker() as session:
        documents = await build_documents(
            session, Kind.ENTERPRISE, [e.id for e in corpus.enterprises.values()]
        )
        backend = EmbeddedBackend(session)
        kinds = SearchDocument.kind == Kind.ENTERPRISE.value

        # when: the documents stored again (a COPY on PostgreSQL) while a sibling reads
        async def store() -> None:
            await backend.delete(Kind.ENTERPRISE, [d.id for d in documents])
            await backend.insert(documents)

        _, during = await asyncio.gather(
            store(), session.scalar(select(func.count()).select_from(Enterprise))
        )
        stored = await session.scalar(select(func.count()).select_from(SearchDocument).where(kinds))

    assert (during, stored) == (len(documents), len(documents))
