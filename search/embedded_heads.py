"""Heads: the first rows of a frequent word's classes in ranking order (``search.models``).

A search of a frequent word reads a class's first rows from its head instead of sorting every
match. Heads are written by the relay and the reindex only (``refresh_heads``), for the most
frequent words of each kind: one per frequent class of the word, and one per frequent term of
it (``term_head``), which the classes of longer queries walk when they have none of their own.
The relay keeps them in step with every row it writes (``join_heads``); searches only read
them (``readable_head``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

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
from search.embedded_tally import Subject
from search.matching import (
    AllOf,
    Head,
    NoneOf,
    plan,
    term_head,
)
from search.models import SearchDocument, SearchHead, SearchHeadBound, SearchSchedule
from search.terms import level_term
from search.tokenize import parse_query

if TYPE_CHECKING:
    from search.embedded import EmbeddedBackend

_NO_CONDITIONS: dict[Kind, Conditions] = {
    Kind.ENTERPRISE: EnterpriseConditions(),
    Kind.RECALL: RecallConditions(),
    Kind.WARNING: WarningConditions(),
}
# Heads are built for this many words of each kind, the most frequent: the searches that
# would otherwise sort hundreds of thousands of matches for a page. Only words of at least
# ``dense_rows()`` rows have one, and at 1M 863 words of enterprises have that many: of the
# first 200 alone, a word near the cut (头盔 is 269th, 乳业 187th) lost its head and its tally
# whenever the statistics' sample moved it past it, and took 140-160 ms instead of 30-36.
HEAD_WORDS = 1000
# A reindex builds the heads of this many (in ranking order, ``_ranked``) and leaves the rest
# due: the relay's next pass builds them, as it builds the tallies. The index is whole without
# them; until then such a word is searched as any other. At 1M: 200 words' heads in the
# reindex, the other 1,237 in 80 s after it.
REINDEX_HEAD_WORDS = 200
# The heads' row in ``search_schedule``.
_HEADS_TASK = "heads"
# Phrases that get a tally (``search.embedded_tally``), of each kind at most, the most frequent
# first: values of the records' fields (a product's name) that terms cannot say, found among
# the rows of one sample level (one in ``2 ** PHRASE_SAMPLE_LEVEL``; 0: every row).
PHRASE_TALLIES = 200
PHRASE_SAMPLE_LEVEL = 5


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


# A btree in ranking order over every row, made by a reindex for its build of the heads and
# dropped before it commits (``ranked``).
RANK_INDEX = "ix_search_document_rank_build"


# A transaction on another connection of the same database, set up for searches: what a
# reindex lends its build of the heads (``refresh_heads``).
Helper = Callable[[], contextlib.AbstractAsyncContextManager[AsyncSession]]


async def refresh_heads(
    backend: EmbeddedBackend,
    words: int | None = None,
    *,
    ranked: bool = False,
    helper: Helper | None = None,
) -> int:
    """Build the heads of the ``words`` (``HEAD_WORDS``) most frequent words of each kind (by
    the index's statistics, ``read_frequencies``), those of their classes a search reads from
    a head and those of their frequent terms (``term_head``), and the words' tallies
    (``search.embedded_tally``); drop every other head and tally, and record when
    (``heads_built_at``); how many were built. Called on PostgreSQL under the embedded
    relay's lock (the relay, the reindex): the relay keeps the heads in step with what it
    writes.

    Heads of at most ``HEAD_WORDS`` words of each kind, not of whatever a caller searches:
    their number, and what every relay write pays to join them (``join_heads``), stay
    bounded. Built for fewer words (a reindex's ``REINDEX_HEAD_WORDS``), they are left due,
    and the relay's next pass builds the rest.

    ``ranked``: build them (a reindex) with a btree in ranking order for the classes
    most rows have, made for this transaction only (``_ranked``). ``helper``: build some of
    them on a second connection at once (``_build_heads``).
    """
    session = backend.session
    frequencies = await read_frequencies(session)

    def frequency(term: str) -> float:
        return frequencies.get(term, 0.0)

    # Rows in all, as the statistics were made: a word of fewer rows than a class needs to be
    # read from a head has no such class.
    rows = float(
        await session.scalar(
            text("SELECT reltuples FROM pg_class WHERE relname = 'search_document'")
        )
        or 0
    )
    dense = dense_rows()
    # Each head wanted, with how many rows its class has (estimated).
    wanted: dict[tuple[str, str], tuple[Head, float]] = {}
    # And the tallies of the same words (``search.embedded_tally``): their totals and facets.
    tallies: dict[tuple[str, str], Subject] = {}

    def frequent(count: int) -> list[tuple[Kind, str, float]]:
        return [found for found in frequent_words(frequencies, count) if found[2] * rows >= dense]

    chosen = frequent(HEAD_WORDS if words is None else min(words, HEAD_WORDS))
    # Whether these are all the words that should have heads (a reindex's may be fewer).
    complete = words is None or len(chosen) == len(frequent(HEAD_WORDS))
    for kind, word, _ in chosen:
        request = SearchRequest(
            kind=kind,
            query=parse_query(word),
            conditions=_NO_CONDITIONS[kind],
            first=0,
            sees_unpublished=True,  # no filter: the head serves every search of the word
        )
        planned = plan(request, frequency)
        counted = embedded_tally.subject(planned)
        if counted is not None and counted.pattern is None:
            tallies[(kind.value, counted.key)] = counted
        if not planned.heads:
            continue
        probe = await Search(backend, request, utcnow(), planned).probe()
        for row_class, head in planned.heads.items():
            if (size := float(probe.classes.get(row_class, 0))) >= dense:
                wanted[(kind.value, head.key)] = (head, size)
        # And the term heads of the word's frequent terms: what the classes of longer
        # queries that have the word (USB插座, PPR冷热水管), which have no head of their own,
        # walk instead (``readable_head``).
        for term in {t for head in planned.heads.values() for t in head.required}:
            if (size := frequency(term) * rows) >= dense:
                made = term_head(term)
                wanted[(kind.value, made.key)] = (made, size)
    existing = set((await session.execute(select(SearchHeadBound.kind, SearchHeadBound.key))).all())
    for kind_value, key in existing - set(wanted):
        for model in (SearchHead, SearchHeadBound):
            await session.execute(delete(model).where(model.kind == kind_value, model.key == key))
    missing = {key: found for key, found in wanted.items() if key not in existing}
    builds: list[_Build] = []
    for (kind_value, _), (head, size) in missing.items():
        share = size / rows if rows else 0.0
        within = int(WALK_READS * (embedded_search.HEAD_SIZE + 1) / share) if share else 0
        builds.append((Kind(kind_value), head, within if share >= WALK_SHARE else None))
    async with _ranked(session) if ranked else contextlib.nullcontext():
        await _build_heads(session, builds, ranked=ranked, helper=helper)
    tallies.update(await _frequent_phrases(session, frequency, dense))
    await embedded_tally.refresh(session, tallies)
    # For every process's relay: the heads are current (``heads_built_at``), or, built for
    # fewer words than should have them (a reindex's), due at once.
    await session.execute(delete(SearchSchedule).where(SearchSchedule.name == _HEADS_TASK))
    if complete:
        await session.execute(insert(SearchSchedule).values(name=_HEADS_TASK, done_at=utcnow()))
    return len(missing)


# A head to build: its kind, the head, and the stretch of the ranking order to walk for it
# (``_build_head``'s ``within``).
_Build = tuple[Kind, Head, int | None]


async def _build_heads(
    session: AsyncSession, builds: list[_Build], *, ranked: bool, helper: Helper | None
) -> None:
    """Build ``builds`` in order on ``session``, and with ``helper`` on a second connection at
    once, each taking the next head when it is done with one.

    A head's build is one statement that keeps one core of the database busy while the other
    waits: a reindex at 1M builds 553 heads, 64 s on one connection. The walks in ranking
    order stay on ``session``, whose transaction alone has the btree they walk (``_ranked``).
    The helper's heads commit in its own transaction when none is left; ``session`` waits for
    that before it goes on, so that dropping the btree waits for no one, and a head is seen
    whole or not at all. Searches never wait for heads: one not yet built is read as any class
    (``readable_head``), and the reindex holds the relay's lock, so no row changes meanwhile.
    """
    walks = deque(build for build in builds if build[2] is not None)
    others = deque(build for build in builds if build[2] is None)

    async def build(on: AsyncSession, first: deque[_Build], ranked: bool) -> None:
        for queue in (first, others):
            while queue:
                kind, head, within = queue.popleft()
                await _build_head(on, kind, head, ranked=ranked, within=within)

    if helper is None or not others:
        await build(session, walks, ranked)
        return

    async def helping(helper: Helper) -> None:
        async with helper() as other:
            if ranked:
                await _set(other, _NO_WALK)  # as ``session``'s builds without a walk
            await build(other, deque(), False)

    task = asyncio.create_task(helping(helper))
    try:
        await build(session, walks, ranked)
        await task
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _frequent_phrases(
    session: AsyncSession, frequency: Callable[[str], float], least: int
) -> dict[tuple[str, str], Subject]:
    """The phrases that get a tally, by (kind, key): of the values of the fields of the rows
    in one sample level, those whose terms cannot say them, at least ``least`` rows as the
    sample estimates them, and at most ``PHRASE_TALLIES`` of a kind, the most frequent first.

    A search of a product's name (USB插座 at 1M: 19,000 rows) counted its rows one by one,
    each row's units checked; words are the heads' (``refresh_heads``). Values, not every
    phrase a field holds: what people type is what the records say, and there are as many
    phrases as substrings."""
    level = PHRASE_SAMPLE_LEVEL
    sample = [pg_match(AllOf((level_term(level),)))] if level else []
    sampled = await session.execute(
        select(SearchDocument.kind, SearchDocument.source).where(*sample)
    )
    values: dict[str, Counter[str]] = {}
    for kind_value, source in sampled.all():
        found = {value for field in source.values() for value in field}
        values.setdefault(kind_value, Counter()).update(found)
    chosen: dict[tuple[str, str], Subject] = {}
    for kind_value, counts in values.items():
        kind, taken = Kind(kind_value), 0
        for value, n in counts.most_common():
            if n << level < least or taken == PHRASE_TALLIES:
                break
            query = parse_query(value)
            if not query.phrases:
                continue  # no letter, digit or CJK character: nothing a search asks for
            request = SearchRequest(
                kind=kind,
                query=query,
                conditions=_NO_CONDITIONS[kind],
                first=0,
                sees_unpublished=True,
            )
            counted = embedded_tally.subject(plan(request, frequency))
            if counted is None or counted.pattern is None or (kind_value, counted.key) in chosen:
                continue  # not one phrase, a word (with the heads), or one seen
            chosen[(kind_value, counted.key)] = counted
            taken += 1
    return chosen


# Under ``_ranked``, a class that has at least this share of the rows is first looked for in
# the first rows in ranking order, ``WALK_READS`` times as many as its head holds if it were
# spread evenly along the order.
WALK_SHARE = 0.04
WALK_READS = 4
# Settings of a head's build under ``_ranked``: the walk in ranking order, or the planner's
# choice without it.
_WALK = {"enable_indexscan": "on", "enable_bitmapscan": "off", "enable_seqscan": "off"}
_NO_WALK = {"enable_indexscan": "off", "enable_bitmapscan": "on", "enable_seqscan": "on"}


@contextlib.asynccontextmanager
async def _ranked(session: AsyncSession) -> AsyncIterator[None]:
    """A btree of the rows in ranking order while the heads are built, dropped after.

    A head is a class's first rows in that order. Without it, a class most rows have (公司 at
    1M) was read by a scan of the whole table and a sort (5 s at load 5), one of 100,000
    rows (科技) through the terms' index (6 s), and a reindex builds hundreds of heads: 92 to
    457 s in all. In ranking order the walk stops at the head's last row (公司: 21 ms). But
    the planner takes a class for spread evenly along the order, and it is not always: the
    names of 农业 companies are long, and the walk read 592,000 rows for their first 2,000
    (4.2 s, against 0.4 s through the terms' index). So a build walks a bounded stretch of
    the order, and reads the class through the terms' index when that stretch does not
    hold its head (``_build_head``).

    Made in this transaction, no other sees it (no search plan changes); made for each
    reindex (5 s at 1M), it costs the relay's writes nothing the rest of the time. The drop
    locks the table until the commit that follows at once.
    """
    await session.execute(
        text(f"CREATE INDEX {RANK_INDEX} ON {SearchDocument.__tablename__} (kind, rank, ref_id)")
    )
    names = list(_WALK)
    before = dict(zip(names, (await session.execute(text(_current(names)))).one(), strict=True))
    yield
    # An error rolls the transaction back, the index and the settings with it.
    await _set(session, before)
    await session.execute(text(f"DROP INDEX {RANK_INDEX}"))


def _current(names: list[str]) -> str:
    return "SELECT " + ", ".join(f"current_setting('{name}')" for name in names)


async def _set(session: AsyncSession, settings: dict[str, str]) -> None:
    """Settings for the rest of the transaction."""
    values = ", ".join(f"set_config('{name}', :{name}, true)" for name in settings)
    await session.execute(text(f"SELECT {values}").bindparams(**settings))


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
    session: AsyncSession,
    kind: Kind,
    head: Head,
    *,
    ranked: bool = False,
    within: int | None = None,
) -> tuple[bool, tuple[int, int] | None]:
    """Write ``head`` in ``session``'s transaction (under the embedded relay's lock).

    ``ranked``: under ``_ranked``; ``within``: look for its rows among the first ``within``
    of the kind in ranking order first.
    """
    written, last = 0, None
    if within is not None:
        await _set(session, _WALK)
        written, last = await _write_first(session, kind, head, within)
        if written <= embedded_search.HEAD_SIZE:
            # The class may have rows further along: these are not known to be its first.
            await session.execute(
                delete(SearchHead).where(SearchHead.kind == kind.value, SearchHead.key == head.key)
            )
    if written <= embedded_search.HEAD_SIZE:
        if ranked:
            await _set(session, _NO_WALK)
        written, last = await _write_first(session, kind, head, None)
    bound = last if written > embedded_search.HEAD_SIZE else None
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


async def _write_first(
    session: AsyncSession, kind: Kind, head: Head, within: int | None
) -> tuple[int, tuple[int, int] | None]:
    """Write the first rows of ``head``'s class, and one more to tell whether more exist (the
    head then ends at that row: every row up to it is in); how many, and the last one's
    (rank, ref_id). ``within``: among the first ``within`` rows of the kind in ranking order
    only.

    The last row comes back from the insert itself: read from ``search_head`` afterwards, it
    took 235 ms a head at 1M after a reindex, whose emptying of the heads leaves the index
    entries of the same keys dead until a vacuum, and a backward scan visits each of them."""
    conditions = [pg_match(AllOf(head.required))]
    if head.excluded:
        conditions.append(pg_match(NoneOf(head.excluded)))
    rows: Any = SearchDocument.__table__
    if within is None:
        conditions.append(SearchDocument.kind == kind.value)
    else:
        # Named as the table: the conditions are SQL text on ``search_document.tokens`` and
        # ``marks``.
        rows = (
            select(
                SearchDocument.rank,
                SearchDocument.ref_id,
                SearchDocument.tokens,
                SearchDocument.marks,
            )
            .where(SearchDocument.kind == kind.value)
            .order_by(SearchDocument.rank, SearchDocument.ref_id)
            .limit(within)
            .subquery(SearchDocument.__tablename__)
        )
    # Written by the database itself.
    first = (
        select(literal(kind.value), literal(head.key), rows.c.rank, rows.c.ref_id)
        .select_from(rows)
        .where(*conditions)
        .order_by(rows.c.rank, rows.c.ref_id)
        .limit(embedded_search.HEAD_SIZE + 1)
    )
    written = (
        insert(SearchHead)
        .from_select(["kind", "key", "rank", "ref_id"], first)
        .returning(SearchHead.rank, SearchHead.ref_id)
        .cte("written")
    )
    found = (
        await session.execute(
            select(written.c.rank, written.c.ref_id, func.count().over())
            .order_by(written.c.rank.desc(), written.c.ref_id.desc())
            .limit(1)
        )
    ).one_or_none()
    if found is None:
        return 0, None
    rank, ref_id, count = found
    return int(count), (int(rank), int(ref_id))
