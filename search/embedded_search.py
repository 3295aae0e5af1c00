"""One search of the embedded index: its page, its total and its facets (``Search``).

The page: the rows that are the query exactly, then each class's first rows in (rank, id)
order, best class first, until no class left can reach the page (``search.matching``); the
total: counted up to the request's ``count_limit`` (``search.backend.bounded``); the facets:
counted over every match up to ``FACET_SAMPLE``, past it over a uniform sample of about that
many (the rows of one sample level, ``search.terms``), scaled to all matches. Stale rows (past
``flags_until``) are judged by the live tables, at most ``STALE_LIMIT`` of them.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    case,
    exists,
    func,
    literal,
    select,
    true,
    union_all,
)

from search import embedded_tally
from search.backend import (
    SearchRequest,
    bounded,
    sort_facet,
)
from search.documents import (
    Kind,
)
from search.matching import (
    AllOf,
    Head,
    Judged,
    Match,
    Plan,
    RowClass,
    both,
    class_of,
    holds,
    terms_of,
)
from search.matching import filters as request_filters
from search.models import SearchDocument
from search.terms import (
    BLACKLISTED,
    FACETS,
    LEVELS,
    in_level,
    level_term,
)

if TYPE_CHECKING:
    from search.embedded import EmbeddedBackend

log = logging.getLogger("hub.search")

_DOC = SearchDocument.__table__.c
# Rows read at most per round when a class's first rows are not its members (a long phrase
# whose tokens are there but apart).
_CHUNK_LIMIT = 4000
# Facets are counted over every match up to this many, past it over a uniform sample of about
# this many, scaled: enough for a share of 5 % to be within about 20 % of its count.
FACET_SAMPLE = 2000
# Read every match when the probe saw too few to sample, up to this many times the count
# limit: the probe's estimate is rough, and one read of them all is cheaper than a count
# followed by a sample.
_EXACT_READ = 4
# Rows whose time-dependent facts changed since they were built that one search judges by the
# live tables, at most (``Search.stale_matches``).
STALE_LIMIT = 1000
# A head holds this many rows when built (``search.embedded_heads``): enough for a page of 100
# under filters that keep one row in twenty of the term's.
HEAD_SIZE = 2000
# A class reads its head when the probe (one record in ``2 ** LEVELS``) saw this many of its
# rows: from about two thousand rows up, sorting them all costs more than the head.
HEAD_FROM = 2


def next_walk(entries: int, walked: int, members: int, wanted: int) -> int:
    """How many head entries to read next, having read ``walked`` of them for ``members``
    of the ``wanted`` rows: as many as the share of members seen so far says the rest will
    take, and half again (at least twice the last read, at most ``HEAD_SIZE``). Under a
    filter that keeps one row in twenty (科技 in 330000 with a valid licence, at 1M) the
    walk of 100, 400 and 1,600 entries became one of 100 and one of about 500."""
    share = max(members, 1) / walked
    needed = math.ceil((wanted - members) / share * 1.5)
    return min(max(2 * entries, needed), HEAD_SIZE)


def dense_rows() -> int:
    """Rows a class has (as the probe estimates them) from which it is read from a head."""
    return HEAD_FROM << LEVELS


@dataclass(slots=True)
class Row:
    ref_id: int
    rank: int
    texts: tuple[str, ...]
    facets: dict[str, Any] | None

    @property
    def position(self) -> tuple[int, int]:
        return (self.rank, self.ref_id)


@dataclass(frozen=True, slots=True)
class Found:
    """A matching row with its place in the ranking."""

    score: float
    rank: int
    id: int


def after_cursor(found: Found, after: tuple[float, int, int] | None) -> bool:
    """Whether ``found`` comes after the cursor's position (score desc, rank, id)."""
    if after is None:
        return True
    score, rank, last = after
    return found.score < score or (found.score == score and (found.rank, found.id) > (rank, last))


class Search:
    """One search of the embedded index: its page, its total and its facets.

    ``plan`` is the text query's; a search of records found by code has ``ids`` instead.
    """

    def __init__(
        self,
        backend: EmbeddedBackend,
        request: SearchRequest,
        now: datetime,
        plan: Plan | None,
        ids: Sequence[int] | None = None,
    ) -> None:
        self.backend = backend
        self.request = request
        self.now = now
        self.plan = plan
        self.ids = ids
        self.filters = plan.filters if plan is not None else request_filters(request)
        # Whether more stale rows matched than a search judges (``STALE_LIMIT``).
        self.stale_cut = False
        # Whether the facets are estimated from a sample of the matches (``totals``).
        self.facets_sampled = False

    def _judged(self, rows: list[Row]) -> list[tuple[Row, Judged]]:
        assert self.plan is not None
        judge = self.plan.scorer.judge
        return [(row, judged) for row in rows if (judged := judge(row.texts)).matches]

    def _facets(self, rows: list[Row]) -> dict[str, list[tuple[Any, int]]]:
        return count_facets(self.request, rows) if self.request.with_facets else {}

    async def run(self) -> tuple[list[Found], int, bool, dict[str, list[tuple[Any, int]]]]:
        """The page (``first + 1`` rows after the cursor), the total, whether it is exact, and
        the facets."""
        assert self.plan is not None
        probe = await self.probe()
        stale = await self.stale_matches() if probe.stale else []
        if probe.seen < HEAD_FROM:
            # Few matches, most likely: read them all at once, and count them exactly.
            matched, complete = await self._matching(
                self.plan.matching, facets=self.request.with_facets, limit=self._exact_read + 1
            )
            if complete:
                every = matched + stale
                found = [Found(judged.score, row.rank, row.ref_id) for row, judged in every]
                total, exact = bounded(len(every), self.request.count_limit)
                return (
                    self._first(found),
                    total,
                    exact and not self.stale_cut,
                    self._facets([row for row, _ in every]),
                )
        found = await self.page(stale, probe) if self.request.first > 0 else []
        total, exact, facets = await self.totals(stale, probe)
        return found, total, exact and not self.stale_cut, facets

    @property
    def _exact_read(self) -> int:
        return _EXACT_READ * self.request.count_limit

    def _first(self, found: list[Found]) -> list[Found]:
        after = self.request.after
        ordered = sorted((f for f in found if after_cursor(f, after)), key=_order)
        return ordered[: self.request.first + 1]

    async def probe(self) -> Probe:
        """The fresh matches in the finest sample level, about one in ``2 ** LEVELS``, counted
        in all and by class: how many matches there are, and of which class, within a factor
        of a few. In the same statement: whether any stale row might match.

        The rows are counted by which of the classes' terms they have (a bit each), and the
        classes here from those counts (``holds``): a count per class in SQL tested every
        class's terms on every row, two dozen conditions on its whole term array (at 1M,
        8 of 16 ms for 科技 graded A or B).
        """
        plan = self.plan
        assert plan is not None
        backend, request = self.backend, self.request
        classes = [c for c in plan.classes if c in plan.heads]
        asked = {
            c: (plan.class_terms[c] or plan.text, plan.class_positive[c] or plan.text)
            for c in classes
        }
        terms = sorted({t for pair in asked.values() for m in pair for t in terms_of(m)})
        has = [
            case((backend._match(AllOf((term,))), 1 << bit), else_=0)
            for bit, term in enumerate(terms)
        ]
        held: Any = sum(has[1:], has[0]) if has else None
        stale = exists(
            select(_DOC.id).where(
                *backend._where(request, plan.stale_matching, self.now, stale=True)
            )
        )
        sampled = backend._where(
            request, both(plan.matching, AllOf((level_term(LEVELS),))), self.now
        )
        if held is None:  # no class asked: one count
            grouped = select(literal(0).label("held"), func.count().label("n")).where(*sampled)
        else:
            grouped = select(held.label("held"), func.count().label("n")).where(*sampled)
            grouped = grouped.group_by(held)
        counted = grouped.subquery("counted")
        flag = select(stale.label("stale")).subquery("flag")
        # A row for each set of terms seen, the flag beside each; the flag alone, none seen.
        statement = select(flag.c.stale, counted.c.held, counted.c.n).select_from(
            flag.outerjoin(counted, true())
        )
        rows = (await backend._core(statement)).all()
        counts: dict[RowClass, int] = dict.fromkeys(classes, 0)
        read: dict[RowClass, int] = dict.fromkeys(classes, 0)
        seen = 0
        for _, mask, n in rows:
            if mask is None:
                continue
            seen += int(n)
            present = {term for bit, term in enumerate(terms) if int(mask) >> bit & 1}
            for c, (of_class, positive) in asked.items():
                counts[c] += int(n) if holds(of_class, present) else 0
                read[c] += int(n) if holds(positive, present) else 0
        stale_found = bool(rows[0][0])
        return Probe(
            matches=seen << LEVELS,
            seen=seen,
            classes={c: n << LEVELS for c, n in counts.items()},
            read={c: n << LEVELS for c, n in read.items()},
            stale=stale_found,
        )

    async def stale_matches(self) -> list[tuple[Row, Judged]]:
        """Stale rows that match and pass the request's conditions at ``now``, judged by the
        live tables: the first ``STALE_LIMIT`` of them by (rank, id).

        Many facts change at one Shanghai midnight (listings and licences end by the day), and
        until the relay has rebuilt their rows every search that matches them judges them
        here. Past the limit the rest are left out, and the total says it is a lower bound,
        for the seconds the relay takes to catch up.
        """
        assert self.plan is not None
        rows = await self.backend._rows(
            self.request,
            self.plan.stale_matching,
            self.now,
            facets=True,
            stale=True,
            ordered=True,
            limit=STALE_LIMIT + 1,
        )
        if len(rows) > STALE_LIMIT:
            self.stale_cut = True
            rows = rows[:STALE_LIMIT]
            log.warning(
                "search: more than %d rows whose facts changed match; the relay is behind",
                STALE_LIMIT,
            )
        return self._judged(await self._live(rows))

    async def stale(self) -> list[Row]:
        """Stale rows of the records found by code that pass the conditions at ``now``."""
        rows = await self.backend._rows(
            self.request,
            self.filters.static,
            self.now,
            ids=self.ids,
            texts=False,
            facets=True,
            stale=True,
        )
        return await self._live(rows)

    async def _live(self, rows: list[Row]) -> list[Row]:
        """The stale ``rows`` that pass the request's conditions, judged by the live tables.

        Usually none: the relay rebuilds a row soon after its facts change.
        """
        if not rows:
            return []
        flags = await self.backend.live_flags(
            self.request.kind, [row.ref_id for row in rows], self.now
        )
        kept = []
        for row in rows:
            live = flags.get(row.ref_id)
            if live is None or not self.filters.passes(live):
                continue  # a record that is gone leaves with its outbox entry
            if row.facets is not None and BLACKLISTED in live:
                row.facets["blacklisted"] = live[BLACKLISTED]
            kept.append(row)
        return kept

    async def page(self, stale: list[tuple[Row, Judged]], probe: Probe) -> list[Found]:
        """The first ``first + 1`` matches after the cursor, best first.

        One statement reads every row that is the query exactly and the first rows of each class
        the probe saw little of (each collected through the index and sorted by the
        database); then, best class first while it can still reach the page, the first rows
        of each class the probe saw much of, from its head.
        """
        assert self.plan is not None
        request, plan, backend = self.request, self.plan, self.backend
        wanted = request.first + 1
        after = request.after
        found: dict[int, Found] = {}

        def keep(row: Row, score: float) -> None:
            candidate = Found(score, row.rank, row.ref_id)
            if after_cursor(candidate, after):
                found[row.ref_id] = candidate

        for row, judged in stale:
            keep(row, judged.score)
        many = dense_rows()
        dense = [c for c in plan.classes if probe.classes.get(c, 0) >= many]
        # Classes whose rows an index finds only among many others (spread phrases, a class
        # its exclusions make small) are read later, and only when the better classes fall
        # short of the page.
        later = [
            c
            for c in plan.classes
            if c not in dense and (not c.fields or probe.read.get(c, 0) >= many)
        ]
        # A class read through the index is read at once only if it can outrank the rows of
        # the heads; the others are read after them, when those fall short of the page.
        floor = min((c.score for c in dense), default=-1.0)
        later += [c for c in plan.classes if c not in dense and c not in later and c.score < floor]
        sparse = [c for c in plan.classes if c not in dense and c not in later]
        # Each part says which class's arm it is (0: the exact key's).
        arms: list[RowClass | None] = [None]
        parts = [
            backend._select(request, plan.of(plan.exact), self.now, texts=True).add_columns(
                literal(0).label("arm")
            )
        ]
        for row_class in sparse:
            if after is not None and row_class.score > after[0]:
                continue  # every row of the class comes before the cursor
            start = None
            if after is not None and row_class.score == after[0]:
                start = (after[1], after[2])
            arm = backend._select(
                request,
                plan.of(plan.class_terms[row_class]),
                self.now,
                ordered=True,
                after=start,
                limit=wanted,
                texts=True,
            )
            which = literal(len(arms)).label("arm")
            if backend.dialect == "postgresql":
                # A member of the union in parentheses, with its own order and limit: as a
                # subquery, its columns' proxies took a tenth of the hub's CPU at 1M.
                parts.append(arm.add_columns(which))
            else:  # SQLite takes no ORDER BY or LIMIT in a member of a union
                nested = arm.subquery()
                parts.append(select(*nested.c, which))
            arms.append(row_class)
        read: dict[int, list[Row]] = {}
        for row, arm_number in await backend._fetch(
            request, union_all(*parts), texts=True, facets=False
        ):
            read.setdefault(arm_number, []).append(row)
        members: Counter[RowClass] = Counter()
        for row, judged in self._judged([row for rows in read.values() for row in rows]):
            of = class_of(judged)
            if of is None or of in sparse:
                keep(row, judged.score)
                if of is not None:
                    members[of] += 1
        # An arm whose terms do not select its class alone (spread phrases, long phrases) may
        # have read rows of other classes: the class's next rows come after the arm's last.
        following: list[tuple[RowClass, tuple[int, int] | None]] = [(c, None) for c in dense]
        following += [(c, None) for c in later]
        for number, of_arm in enumerate(arms):
            rows = read.get(number, [])
            if of_arm is not None and len(rows) == wanted and members[of_arm] < wanted:
                following.append((of_arm, max(row.position for row in rows)))
        following.sort(key=lambda item: -item[0].score)
        for row_class, last in following:
            if after is not None and row_class.score > after[0]:
                continue  # every row of the class comes before the cursor
            if sum(1 for f in found.values() if f.score > row_class.score) >= wanted:
                continue  # no row of this class can reach the page
            start = last
            if start is None and after is not None and row_class.score == after[0]:
                start = (after[1], after[2])
            head = plan.heads.get(row_class) if last is None else None
            for row in await self._members(row_class, wanted, start, head):
                keep(row, row_class.score)
        return sorted(found.values(), key=_order)[:wanted]

    async def _members(
        self, row_class: RowClass, wanted: int, start: tuple[int, int] | None, head: Head | None
    ) -> list[Row]:
        """The class's first ``wanted`` rows by (rank, id) after ``start``.

        With ``head``, the class's head is walked in order (or, not built, the head of one of
        its terms that is: ``EmbeddedBackend.readable_head``), each entry's row looked up for
        the class's terms and the request's conditions, then the rows past its bound are read;
        without, the class's rows are collected through the index and sorted by the database.
        """
        assert self.plan is not None
        match = self.plan.of(self.plan.class_terms[row_class])
        members: list[Row] = []

        def take(rows: list[Row]) -> None:
            members.extend(
                row for row, judged in self._judged(rows) if class_of(judged) == row_class
            )

        readable = None
        if head is not None:
            frequency = self.plan.filters.frequency
            readable = await self.backend.readable_head(self.request.kind, head, frequency)
        if readable is not None:
            key, bound = readable
            entries, last, walked = max(4 * wanted, 100), start, 0
            while True:
                rows, last, read = await self.backend._head_rows(
                    self.request, match, self.now, key, last, entries
                )
                take(rows)
                walked += read
                if len(members) >= wanted:
                    return members[:wanted]
                if read < entries:
                    break  # the head is read
                entries = next_walk(entries, walked, len(members), wanted)
            if bound is None:
                return members  # the head holds every row of the class
            # Past the head's bound only the index finds the rows.
            start = bound if start is None else max(start, bound)
        chunk = wanted - len(members)
        while True:
            rows = await self.backend._rows(
                self.request, match, self.now, ordered=True, after=start, limit=chunk
            )
            take(rows)
            if len(members) >= wanted or len(rows) < chunk:
                return members[:wanted]
            start = rows[-1].position
            chunk = min(chunk * 4, _CHUNK_LIMIT)

    async def totals(
        self, stale: list[tuple[Row, Judged]], probe: Probe
    ) -> tuple[int, bool, dict[str, list[tuple[Any, int]]]]:
        """The total (``bounded`` by the count limit) and the facets: from the word's tally
        when one answers (``search.embedded_tally``); else of every match when the probe saw
        few, else of every match up to ``FACET_SAMPLE`` of them, past it of a uniform sample
        of about that many (one sample level), scaled to all matches (``facets_sampled``).

        Counted apart: a count reads each match's row once and nothing of it, and stops past the
        limit; reading a match's facets (its JSON) costs several times that, so they are read
        for a sample only. At 1M, 苏州 (26,400 matches): the count of 10,001 read 9,400 pages in
        about 60 ms, the facets of every match took 190 ms more.
        """
        assert self.plan is not None
        stale_rows = [row for row, _ in stale]
        matching = self.plan.matching
        limit = self.request.count_limit
        tallied = await embedded_tally.read(
            self.backend, self.request, self.plan, self.now, stale=probe.stale
        )
        if tallied is not None:
            # One word under tallied filters: every match counted, none of them read.
            counted = _counted(self.request.kind, tallied)
            total, exact = bounded(counted.rows + len(stale_rows), limit)
            facets = self._tally(counted.facets, stale_rows, 1) if self.request.with_facets else {}
            return total, exact, facets
        if self.request.with_facets and probe.matches <= 4 * FACET_SAMPLE:
            # Few enough for their facets to be read all (a sample would hold a good share of
            # them): counted and faceted in one read. At 1M, 3,445 matches (the probe said
            # more than 4,000): 104 ms, 185 in two reads.
            counted = await self._count(matching, limit=limit + 1)
            if counted.rows <= limit:
                total, exact = bounded(counted.rows + len(stale_rows), limit)
                return total, exact, self._tally(counted.facets, stale_rows, 1)
            # The probe was far off: more than the limit, whose first rows are no sample.
        matches = await self._count_only(matching, limit + 1) + len(stale_rows)
        total, exact = bounded(matches, limit)
        if not self.request.with_facets:
            return total, exact, {}
        if not exact:
            matches = max(matches, probe.matches)  # the count stopped: the probe's estimate
        # The level that holds about ``FACET_SAMPLE`` of the matches, at least that many as
        # estimated; level 0 is every match.
        level = 0
        if matches > FACET_SAMPLE:
            level = min(LEVELS, int(math.log2(matches / FACET_SAMPLE)))
        counted = await self._count(
            both(matching, AllOf((level_term(level),))) if level else matching
        )
        sampled = [row for row in stale_rows if in_level(row.ref_id, level)]
        self.facets_sampled = level > 0
        return total, exact, self._tally(counted.facets, sampled, 1 << level)

    def _tally(
        self, counts: dict[str, Counter[Any]], stale: list[Row], scale: int
    ) -> dict[str, list[tuple[Any, int]]]:
        """The facets of the fresh rows' ``counts`` and the ``stale`` rows, each count times
        ``scale`` (a sample of one in ``scale``)."""
        names = FACETS[self.request.kind]
        for row in stale:
            assert row.facets is not None
            for name in names:
                counts[name][row.facets.get(name)] += 1
        return {
            name: sort_facet({value: n * scale for value, n in counts[name].items()})
            for name in names
        }

    async def _count_only(self, match: Match, limit: int) -> int:
        """The fresh matching rows, counted up to ``limit`` (``EmbeddedBackend._count_rows``),
        none of their texts or facets read: when the plan's terms do not tell which rows match
        (long phrases: their units do), the database checks the units.

        At 1M, USB插座's count of 10,001 took 250 ms when its rows' units were read and
        judged here, the database's part of it 70-110 ms."""
        assert self.plan is not None
        found = self.backend._select(self.request, match, self.now, texts=False)
        if not self.plan.exact_terms:
            found = found.where(self.backend._holding(self.request.kind, self.plan.scorer.patterns))
        return await self.backend._count_rows(found, limit)

    async def _count(self, match: Match, *, limit: int | None = None) -> Counted:
        """The fresh matching rows (at most ``limit``) and their facet values, counted."""
        assert self.plan is not None
        request, backend = self.request, self.backend
        postgres = backend.dialect == "postgresql"
        rows = backend._select(request, match, self.now, texts=False, limit=limit)
        if request.with_facets:
            facets = embedded_tally.facet_items(request.kind) if postgres else [_DOC.facets]
            rows = rows.add_columns(*facets)
        if not self.plan.exact_terms:
            # Long phrases: only their units tell which rows match, checked by the database.
            rows = rows.where(backend._holding(request.kind, self.plan.scorer.patterns))
        # A common table expression: the facets and the total read the matches once (a
        # subquery named twice was read twice, the index scan and the rows with it).
        found = rows.cte("found")
        statement: Any
        if not request.with_facets:
            statement = select(literal(""), literal(None), func.count()).select_from(found)
        elif postgres:
            # Each facet's values and the total in one pass (at 1M, 广东 食品's 3,445 matches:
            # 46 ms with each row's facets read apart, json_each_text on json, 31 ms so).
            items = [found.c[f"facet_{i}"] for i in range(len(FACETS[request.kind]))]
            columns, grouping = embedded_tally.by_facet(items)
            statement = select(func.count(), *columns).select_from(found).group_by(grouping)
            counted = (await backend._core(statement)).all()
            return _counted(request.kind, embedded_tally.facet_counts(request.kind, counted))
        else:
            pairs = func.json_each(found.c.facets).table_valued("key", "value").alias("facet")
            statement = (
                select(pairs.c.key, pairs.c.value, func.count())
                .select_from(found)
                .join(pairs, true())
                .group_by(pairs.c.key, pairs.c.value)
                .union_all(select(literal(""), literal(None), func.count()).select_from(found))
            )
        return _counted(request.kind, (await backend._core(statement)).all())

    async def _matching(
        self, match: Match, *, facets: bool, limit: int | None = None
    ) -> tuple[list[tuple[Row, Judged]], bool]:
        """Fresh matching rows (up to ``limit``), as the query judges them, and whether
        they are all of them."""
        assert self.plan is not None
        size = limit
        while True:
            rows = await self.backend._rows(
                self.request, match, self.now, facets=facets, texts=True, limit=size
            )
            kept = self._judged(rows)
            if size is None or len(rows) < size:
                return kept, True
            if limit is not None and len(kept) >= limit:
                return kept[:limit], False
            size *= 4


@dataclass(frozen=True, slots=True)
class Probe:
    """What the probe saw (``Search.probe``)."""

    # Matches, estimated; how many the probe saw.
    matches: int
    seen: int
    # Rows per class, estimated; and rows an index reads to find them (the class's terms but
    # its exclusions).
    classes: dict[RowClass, int]
    read: dict[RowClass, int]
    # Whether a stale row might match.
    stale: bool


@dataclass(frozen=True, slots=True)
class Counted:
    rows: int
    facets: dict[str, Counter[Any]]


def _counted(kind: Kind, rows: Iterable[Sequence[Any]]) -> Counted:
    """(facet name, value, count) rows and ("", None, total) as counts."""
    counts: dict[str, Counter[Any]] = {name: Counter() for name in FACETS[kind]}
    total = 0
    for key, value, n in rows:
        if key == "":
            total = int(n)
        elif key in counts:
            counts[key][_facet_value(key, value)] += int(n)
    return Counted(total, counts)


def _facet_value(name: str, value: Any) -> Any:
    """A facet value as the facets report it, from the database's JSON reading of it."""
    if name == "blacklisted":
        return value in (True, 1, "1", "true")
    return value


def _order(found: Found) -> tuple[float, int, int]:
    return (-found.score, found.rank, found.id)


def _classes(rows: list[tuple[Row, Judged]]) -> Counter[RowClass | None]:
    """How many of ``rows`` each class has (None: the exact key's)."""
    return Counter(class_of(judged) for _, judged in rows)


def facets_of(kind: Kind, value: Any) -> dict[str, Any]:
    """A row's facets as read: on PostgreSQL its values as text in the order of
    ``FACETS[kind]`` (``embedded_tally.facet_values``), on SQLite its JSON."""
    if isinstance(value, list):
        return {name: _facet_value(name, v) for name, v in zip(FACETS[kind], value, strict=True)}
    if isinstance(value, str):
        found: dict[str, Any] = json.loads(value)
        return found
    return dict(value)


def no_facets(request: SearchRequest) -> dict[str, list[tuple[Any, int]]]:
    return {name: [] for name in FACETS[request.kind]} if request.with_facets else {}


def count_facets(request: SearchRequest, rows: Sequence[Row]) -> dict[str, list[tuple[Any, int]]]:
    facets = [row.facets for row in rows if row.facets is not None]
    assert len(facets) == len(rows), "rows read without their facets"
    return {
        name: sort_facet(dict(Counter(values.get(name) for values in facets)))
        for name in FACETS[request.kind]
    }
