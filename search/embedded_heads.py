"""Heads: the first rows of a frequent word's classes in ranking order (``search.models``).

A search of a frequent word reads a class's first rows from its head instead of sorting every
match. Heads are written by the relay and the reindex only (``refresh_heads``), for the most
frequent words of each kind: one per frequent class of the word, and one per frequent term of
it (``term_head``), which the classes of longer queries walk when they have none of their own.
The relay keeps them in step with every row it writes (``join_heads``); searches only read
them (``readable_head``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    and_,
    delete,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    text,
    true,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db import HubSession
from hub.kit.time import utcnow
from search import embedded_search, embedded_tally
from search.backend import (
    Conditions,
    EnterpriseConditions,
    RecallConditions,
    SearchRequest,
    WarningConditions,
)
from search.documents import (
    Kind,
    among,
)
from search.embedded_match import pg_match
from search.embedded_search import Search, dense_rows
from search.embedded_statistics import frequent_words, read_frequencies
from search.matching import (
    AllOf,
    Head,
    NoneOf,
    plan,
    term_head,
)
from search.models import SearchDocument, SearchHead, SearchHeadBound, SearchSchedule
from search.tokenize import parse_query

if TYPE_CHECKING:
    from search.embedded import EmbeddedBackend

_NO_CONDITIONS: dict[Kind, Conditions] = {
    Kind.ENTERPRISE: EnterpriseConditions(),
    Kind.RECALL: RecallConditions(),
    Kind.WARNING: WarningConditions(),
}
# Heads are built for this many words of each kind, the most frequent: the searches that
# would otherwise sort hundreds of thousands of matches for a page.
HEAD_WORDS = 200
# The heads' row in ``search_schedule``.
_HEADS_TASK = "heads"


async def readable_head(
    session: AsyncSession,
    kind: Kind,
    head: Head,
    frequency: Callable[[str], float] | None,
) -> tuple[str, tuple[int, int] | None] | None:
    """The head a search walks for a class whose head is ``head``, and its bound: ``head``
    itself if it was built, else the term head (``term_head``) of the rarest of its required
    terms that has one (its rows include the class's, among others: the walk checks each),
    else None. Searches only read heads: the relay and the reindex build them
    (``refresh_heads``), so a read request writes nothing.

    A term head serves the searches of several words: USB插座 has no head of its own, but 插座
    in the products has one, and at 1M 37 of its first 100 rows have usb there too.
    """
    terms = sorted(head.required, key=lambda t: (frequency(t) if frequency else 0.0, t))
    keys = [head.key] + [term_head(t).key for t in terms]
    found = {
        key: (rank, ref_id)
        for key, rank, ref_id in (
            await session.execute(
                select(SearchHeadBound.key, SearchHeadBound.rank, SearchHeadBound.ref_id).where(
                    SearchHeadBound.kind == kind.value, SearchHeadBound.key.in_(keys)
                )
            )
        ).all()
    }
    for key in keys:
        if key in found:
            rank, ref_id = found[key]
            return key, None if rank is None or ref_id is None else (rank, ref_id)
    return None


async def refresh_heads(backend: EmbeddedBackend, words: int | None = None) -> int:
    """Build the heads of the ``words`` most frequent words of each kind (by the index's
    statistics, ``read_frequencies``), those of their classes a search reads from a head and
    those of their frequent terms (``term_head``), and the words' tallies
    (``search.embedded_tally``); drop every other head and tally, and record when
    (``heads_built_at``); how many were built. Called on PostgreSQL under the embedded
    relay's lock (the relay, the reindex): the relay keeps the heads in step with what it
    writes.

    Heads of a few hundred words, not of whatever a caller searches: their number, and what
    every relay write pays to join them (``join_heads``), stay bounded.
    """
    session = backend.session
    frequencies = await read_frequencies(session)

    def frequency(term: str) -> float:
        return frequencies.get(term, 0.0)

    # Rows in all, as the statistics were made: a word of fewer rows than a class needs to be
    # read from a head has no such class.
    rows = await session.scalar(
        text("SELECT reltuples FROM pg_class WHERE relname = 'search_document'")
    )
    dense = dense_rows()
    wanted: dict[tuple[str, str], Head] = {}
    # And the tallies of the same words (``search.embedded_tally``): their totals and facets.
    tallies: dict[tuple[str, str], tuple[str, ...]] = {}
    for kind, word, share in frequent_words(frequencies, HEAD_WORDS if words is None else words):
        if share * float(rows or 0) < dense:
            continue
        request = SearchRequest(
            kind=kind,
            query=parse_query(word),
            conditions=_NO_CONDITIONS[kind],
            first=0,
            sees_unpublished=True,  # no filter: the head serves every search of the word
        )
        planned = plan(request, frequency)
        terms = embedded_tally.word_terms(planned.text) if planned.exact_terms else None
        if terms is not None:
            tallies[(kind.value, embedded_tally.word_key(terms))] = terms
        if not planned.heads:
            continue
        probe = await Search(backend, request, utcnow(), planned).probe()
        for row_class, head in planned.heads.items():
            if probe.classes.get(row_class, 0) >= dense:
                wanted[(kind.value, head.key)] = head
        # And the term heads of the word's frequent terms: what the classes of longer
        # queries that have the word (USB插座, PPR冷热水管), which have no head of their own,
        # walk instead (``readable_head``).
        for term in {t for head in planned.heads.values() for t in head.required}:
            if frequency(term) * float(rows or 0) >= dense:
                made = term_head(term)
                wanted[(kind.value, made.key)] = made
    existing = set((await session.execute(select(SearchHeadBound.kind, SearchHeadBound.key))).all())
    for kind_value, key in existing - set(wanted):
        for model in (SearchHead, SearchHeadBound):
            await session.execute(delete(model).where(model.kind == kind_value, model.key == key))
    built = 0
    for (kind_value, key), head in wanted.items():
        if (kind_value, key) not in existing:
            await _build_head(session, Kind(kind_value), head)
            built += 1
    await embedded_tally.refresh(session, tallies)
    # For every process's relay: the heads are current (``heads_built_at``).
    await session.execute(delete(SearchSchedule).where(SearchSchedule.name == _HEADS_TASK))
    await session.execute(insert(SearchSchedule).values(name=_HEADS_TASK, done_at=utcnow()))
    return built


async def heads_built_at(session: AsyncSession) -> datetime | None:
    """When a process last built the heads (``refresh_heads``); None: never."""
    done: datetime | None = await session.scalar(
        select(SearchSchedule.done_at).where(SearchSchedule.name == _HEADS_TASK)
    )
    return done


async def join_heads(session: HubSession, kind: Kind, ids: Sequence[int]) -> None:
    """Add rows just written (PostgreSQL) to the heads they belong to, within each head's
    bound."""
    if not ids:
        return
    term = func.unnest(SearchDocument.tokens).table_valued("term").alias("term")
    tokens = SearchDocument.tokens
    rows = (
        select(SearchDocument.kind, SearchHeadBound.key, SearchDocument.rank, SearchDocument.ref_id)
        .select_from(SearchDocument)
        .join(term, true())
        .join(
            SearchHeadBound,
            and_(
                SearchHeadBound.kind == SearchDocument.kind,
                SearchHeadBound.term == term.c.term,
            ),
        )
        .where(
            SearchDocument.kind == kind.value,
            among(session, SearchDocument.ref_id, ids),
            tokens.op("@>")(SearchHeadBound.required),
            not_(tokens.op("&&", return_type=Boolean)(SearchHeadBound.excluded)),
            or_(
                SearchHeadBound.rank.is_(None),
                tuple_(SearchDocument.rank, SearchDocument.ref_id)
                <= tuple_(SearchHeadBound.rank, SearchHeadBound.ref_id),
            ),
        )
    )
    await session.execute(insert(SearchHead).from_select(["kind", "key", "rank", "ref_id"], rows))


async def _build_head(
    session: AsyncSession, kind: Kind, head: Head
) -> tuple[bool, tuple[int, int] | None]:
    """Write ``head`` in ``session``'s transaction (under the embedded relay's lock)."""
    conditions = [SearchDocument.kind == kind.value, pg_match(AllOf(head.required))]
    if head.excluded:
        conditions.append(pg_match(NoneOf(head.excluded)))
    # Written by the database itself: the first rows, and one more to tell whether more exist
    # (the head then ends at that row: every row up to it is in).
    first = (
        select(literal(kind.value), literal(head.key), SearchDocument.rank, SearchDocument.ref_id)
        .where(*conditions)
        .order_by(SearchDocument.rank, SearchDocument.ref_id)
        .limit(embedded_search.HEAD_SIZE + 1)
    )
    written = await session.execute(
        insert(SearchHead).from_select(["kind", "key", "rank", "ref_id"], first)
    )
    bound: tuple[int, int] | None = None
    if written.rowcount > embedded_search.HEAD_SIZE:  # type: ignore[attr-defined]
        last = (
            await session.execute(
                select(SearchHead.rank, SearchHead.ref_id)
                .where(SearchHead.kind == kind.value, SearchHead.key == head.key)
                .order_by(SearchHead.rank.desc(), SearchHead.ref_id.desc())
                .limit(1)
            )
        ).one()
        bound = (last.rank, last.ref_id)
    await session.execute(
        insert(SearchHeadBound).values(
            kind=kind.value,
            key=head.key,
            term=head.term,
            required=list(head.required),
            excluded=list(head.excluded),
            rank=bound[0] if bound else None,
            ref_id=bound[1] if bound else None,
        )
    )
    return True, bound
