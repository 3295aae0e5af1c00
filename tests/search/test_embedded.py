"""The embedded index's ways to a fast answer, each held to a plain reading of the profile.

The page is read by class, from heads and through the index; past the count limit the facets
count a sample; rows whose time-dependent facts have changed are judged by the live tables. On
a corpus made to have every class, many ties and both dialects, each answer must equal what
scoring every record in Python and sorting gives (``expected``).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from hub.db import HubSession
from hub.enterprise.models import CreditGrade, Enterprise
from hub.kit.time import utcnow
from search import embedded_heads, embedded_tally
from search.backend import (
    COUNT_LIMIT,
    EnterpriseConditions,
    SearchRequest,
    SearchResult,
    sort_facet,
)
from search.documents import EXACT_BONUS, PREFIX_BONUS, PROFILES, Kind
from search.embedded import SEARCH_SETTINGS, EmbeddedBackend
from search.embedded_match import pg_deferred, pg_excluded, pg_text
from search.embedded_search import HEAD_SIZE, next_walk
from search.embedded_statistics import Frequencies, frequent_words, read_frequencies
from search.indexer import HEADS, _Schedule, build_tallies, reindex, sync_once
from search.matching import (
    AllOf,
    AnyOf,
    Both,
    Either,
    Match,
    NoneOf,
    _plan,
    holds,
    plan,
    required_terms,
)
from search.models import (
    SearchDocument,
    SearchHead,
    SearchHeadBound,
    SearchSchedule,
    SearchTallyWord,
)
from search.outbox import EMBEDDED, enqueue
from search.service import parse
from search.terms import grade_term, in_level
from search.tokenize import field_units
from tests.fixtures.blacklist import make_entry
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.licence import make_licence
from tests.fixtures.quality import make_product

PLACES = ("北京", "深圳市", "苏州")
BRANDS = ("华鑫", "恒泰", "科达")
TRADES = ("科技", "电子科技", "食品", "鑫科")
SUFFIXES = ("有限公司", "股份有限公司", "")
PRODUCTS = ("科技灯", "LED灯", "电子秤", "华鑫食品袋")
REGIONS = ("110000", "440300", "320500", "440100")
GRADES = (CreditGrade.A, CreditGrade.B, CreditGrade.C, None)


@dataclass(frozen=True)
class Record:
    """An enterprise as a plain reading of the search sees it."""

    id: int
    name: str
    brands: tuple[str, ...]
    products: tuple[str, ...]
    region: str
    grade: str | None
    blacklisted: bool


async def make_corpus(session: HubSession, count: int = 90) -> list[Record]:
    """Names of a few words, so that terms are frequent, ties many and every class occurs."""
    pick = random.Random(7)
    records = []
    for n in range(count):
        name = "".join(
            (pick.choice(PLACES), pick.choice(BRANDS), pick.choice(TRADES), pick.choice(SUFFIXES))
        )
        if n == 0:
            name = "华鑫科技"  # the exact bonus of the query 华鑫科技
        region, grade = pick.choice(REGIONS), pick.choice(GRADES)
        enterprise = await make_enterprise(
            session, name=name, region_code=region, credit_grade=grade, industry_code="C39"
        )
        made = [
            await make_product(session, enterprise, name=pick.choice(PRODUCTS), brand=brand)
            for brand in pick.sample(BRANDS, pick.choice((0, 0, 1, 2)))
        ]
        blacklisted = pick.random() < 0.2
        if blacklisted:
            await make_entry(session, enterprise, date(2025, 1, 1), date(2099, 12, 31))
        records.append(
            Record(
                id=enterprise.id,
                name=name,
                brands=tuple(dict.fromkeys(p.brand for p in made)),
                products=tuple(dict.fromkeys(p.name for p in made)),
                region=region,
                grade=grade.value if grade else None,
                blacklisted=blacklisted,
            )
        )
    return records


def expected(
    records: list[Record], text: str, conditions: EnterpriseConditions
) -> list[tuple[float, int, int]]:
    """(score, rank, id) of every match, best first: the profile read plainly."""
    query = parse(text)
    patterns = [query.pattern(phrase) for phrase in query.phrases]
    weights = [weight for _, weight in PROFILES[Kind.ENTERPRISE].fields]
    found = []
    for record in records:
        if conditions.region_code and not record.region.startswith(conditions.region_code[:2]):
            continue
        if conditions.credit_grades and record.grade not in conditions.credit_grades:
            continue
        if conditions.blacklisted is not None and record.blacklisted != conditions.blacklisted:
            continue
        fields = [
            field_units([record.name]),
            field_units(list(record.brands)),
            field_units(list(record.products)),
        ]
        if not all(any(p in field for field in fields) for p in patterns):
            continue
        score = sum(
            w for w, f in zip(weights, fields, strict=True) if all(p in f for p in patterns)
        )
        score += PREFIX_BONUS * fields[0].startswith(patterns[0])
        score += EXACT_BONUS * (fields[0] == f" {query.key} ")
        found.append((float(score), len(record.name), record.id))
    return sorted(found, key=lambda f: (-f[0], f[1], f[2]))


async def search(
    sessionmaker: async_sessionmaker[HubSession],
    text: str,
    conditions: EnterpriseConditions,
    *,
    first: int = 20,
    after: tuple[float, int, int] | None = None,
    now: datetime | None = None,
    count_limit: int = COUNT_LIMIT,
) -> SearchResult:
    # Committed, as a GraphQL operation is: whatever the search wrote would stay.
    async with sessionmaker() as session, session.begin():
        return await EmbeddedBackend(session).search(
            SearchRequest(
                kind=Kind.ENTERPRISE,
                query=parse(text),
                conditions=conditions,
                first=first,
                after=after,
                now=now,
                count_limit=count_limit,
            )
        )


QUERIES: list[tuple[str, EnterpriseConditions]] = [
    ("科技", EnterpriseConditions()),
    ("华鑫", EnterpriseConditions()),
    ("北京", EnterpriseConditions()),
    ("鑫科", EnterpriseConditions()),
    ("科", EnterpriseConditions()),
    ("华鑫科技", EnterpriseConditions()),
    ("深圳市恒泰", EnterpriseConditions()),
    ("科技 北京", EnterpriseConditions()),
    ("led", EnterpriseConditions()),
    ("灯", EnterpriseConditions()),
    ("科技", EnterpriseConditions(region_code="440000")),
    ("华鑫", EnterpriseConditions(credit_grades=("A", "B"), blacklisted=False)),
    ("食品", EnterpriseConditions(blacklisted=True)),
]


@pytest.fixture
async def records(sessionmaker: async_sessionmaker[HubSession]) -> list[Record]:
    async with sessionmaker() as session, session.begin():
        made = await make_corpus(session)
    await reindex(sessionmaker, EMBEDDED)
    return made


async def small_heads(
    sessionmaker: async_sessionmaker[HubSession], monkeypatch: pytest.MonkeyPatch
) -> int:
    """Heads of four rows, built again as the relay builds them: a probe of half the records
    calls almost every class frequent, and a head that small ends early, so the rows past its
    bound are read too. How many heads there are (none on SQLite). The words' tallies too."""
    heads_of_four(monkeypatch)
    await drop_heads(sessionmaker)
    async with sessionmaker() as session, session.begin():
        built = await EmbeddedBackend(session).refresh_heads()
    # and the tallies of the same words, as the relay's next passes build them
    await build_tallies(sessionmaker, seconds=float("inf"))
    return built


def heads_of_four(monkeypatch: pytest.MonkeyPatch) -> None:
    """Heads of four rows for classes frequent at this corpus's size; the tallies of phrases
    found among every row's values."""
    monkeypatch.setattr("search.embedded_heads.PHRASE_SAMPLE_LEVEL", 0)
    monkeypatch.setattr("search.embedded_search.LEVELS", 1)
    monkeypatch.setattr("search.embedded_search.HEAD_FROM", 1)
    monkeypatch.setattr("search.embedded_search.HEAD_SIZE", 4)


async def drop_heads(sessionmaker: async_sessionmaker[HubSession]) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(delete(SearchHead))
        await session.execute(delete(SearchHeadBound))


async def count_heads(sessionmaker: async_sessionmaker[HubSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(SearchHeadBound)))


@pytest.fixture(params=["index", "heads", "excluded rows"])
async def way(
    request: pytest.FixtureRequest,
    sessionmaker: async_sessionmaker[HubSession],
    records: list[Record],
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """Reading each class through the index, or (PostgreSQL) from the heads of the frequent
    words (``small_heads``), or through the index with every excluded term checked as the
    rows that have it (``pg_excluded``), whatever the terms' frequencies."""
    if request.param == "heads":
        await small_heads(sessionmaker, monkeypatch)
    if request.param == "excluded rows":
        # The page read by class (as at scale), not all the matches at once, through the
        # index alone, each class's exclusions as the rows that have them.
        monkeypatch.setattr("search.embedded_search.LEVELS", 1)
        monkeypatch.setattr("search.embedded_search.HEAD_FROM", 1)
        await drop_heads(sessionmaker)
        monkeypatch.setattr(EmbeddedBackend, "_by_rows", lambda *_: True)
    return str(request.param)


def test_a_head_walk_reads_next_what_the_share_of_members_so_far_says_the_rest_takes() -> None:
    # one member in twenty entries: the 16 rows still wanted take about 320 more, read with
    # half again to spare; none seen: as many as a head holds; never less than twice the last
    assert next_walk(100, 100, 5, 21) == math.ceil(16 / 0.05 * 1.5)
    assert next_walk(100, 100, 0, 21) == HEAD_SIZE
    assert next_walk(400, 500, 20, 21) == 800
    assert next_walk(1600, 2100, 1, 21) == HEAD_SIZE


@pytest.mark.parametrize(("text", "conditions"), QUERIES)
async def test_every_page_and_count_is_the_plain_ranking(
    sessionmaker: async_sessionmaker[HubSession],
    records: list[Record],
    way: str,
    text: str,
    conditions: EnterpriseConditions,
) -> None:
    wanted = expected(records, text, conditions)
    assert wanted, "the corpus should match every query"
    by_id = {record.id: record for record in records}
    every = _facets([by_id[found[2]] for found in wanted])

    # when: the pages of three, cursor after cursor
    seen: list[tuple[float, int, int]] = []
    after = None
    while True:
        result = await search(sessionmaker, text, conditions, first=3, after=after)
        seen += [hit.position for hit in result.hits]
        assert (result.total, result.total_exact) == (len(wanted), True)
        assert (result.facets, result.facets_sampled) == (every, False)
        if not result.has_next:
            break
        after = result.hits[-1].position

    # then
    assert seen == wanted


@pytest.mark.parametrize("text", ["华鑫科技", "深圳市恒泰"])
async def test_a_phrase_its_terms_cannot_say_is_counted_to_the_limit_by_its_units(
    sessionmaker: async_sessionmaker[HubSession],
    records: list[Record],
    way: str,
    text: str,
) -> None:
    """The count of a long phrase checks each row's units (in the database): rows with its
    rarest bigrams but not the phrase are not counted, up to the limit or past it."""
    wanted = expected(records, text, EnterpriseConditions())
    by_id = {record.id: record for record in records}
    every = _facets([by_id[found[2]] for found in wanted])

    # when: a count limit one short of the matches, and at them
    capped = await search(sessionmaker, text, EnterpriseConditions(), count_limit=len(wanted) - 1)
    counted = await search(sessionmaker, text, EnterpriseConditions(), count_limit=len(wanted))

    # then
    assert (capped.total, capped.total_exact) == (len(wanted) - 1, False)
    assert (counted.total, counted.total_exact) == (len(wanted), True)
    assert [hit.position for hit in capped.hits] == wanted[:20]
    assert (counted.facets, counted.facets_sampled) == (every, False)


async def test_a_head_follows_the_rows_the_relay_writes(
    sessionmaker: async_sessionmaker[HubSession],
    records: list[Record],
    dialect: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built = await small_heads(sessionmaker, monkeypatch)
    conditions = EnterpriseConditions()
    async with sessionmaker() as session:
        heads = set((await session.execute(select(SearchHeadBound.key))).scalars().all())
    assert len(heads) == built
    # the head of 科技 in the name alone among them (PostgreSQL)
    assert any(key.startswith("0:科技 -1:科技 2:科技 ") for key in heads) is (dialect == "postgres")

    # when: a record joins the term with the shortest name of all, another leaves it
    async with sessionmaker() as session, session.begin():
        short = await make_enterprise(session, name="科技", region_code="110000")
        await enqueue(session, Kind.ENTERPRISE, [short.id])
    leaving = expected(records, "科技", conditions)[0][2]
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(Enterprise).where(Enterprise.id == leaving).values(name="北京恒泰食品有限公司")
        )
        await enqueue(session, Kind.ENTERPRISE, [leaving])
    await sync_once(sessionmaker, None)

    # then
    result = await search(sessionmaker, "科技", conditions, first=3)
    first = result.hits[0]
    assert (first.id, first.score) == (short.id, float(8 + PREFIX_BONUS + EXACT_BONUS))
    assert leaving not in [hit.id for hit in result.hits]


async def test_a_search_writes_nothing_to_the_index(
    sessionmaker: async_sessionmaker[HubSession],
    records: list[Record],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Index writes go through the relay: a search of a frequent word that has no head reads
    its classes through the index, and builds nothing (nor takes a second connection)."""
    # given: every class frequent enough for a head, and no head at all
    await small_heads(sessionmaker, monkeypatch)
    async with sessionmaker() as session, session.begin():
        await session.execute(delete(SearchHead))
        await session.execute(delete(SearchHeadBound))

    # when
    result = await search(sessionmaker, "科技", EnterpriseConditions(), first=3)

    # then: the right page, and still no head
    wanted = expected(records, "科技", EnterpriseConditions())
    assert [hit.position for hit in result.hits] == wanted[:3]
    async with sessionmaker() as session:
        written = [
            await session.scalar(select(func.count()).select_from(model))
            for model in (SearchHead, SearchHeadBound)
        ]
    assert written == [0, 0]


def test_the_words_with_heads_are_words_searches_read() -> None:
    """A single character is read by a search of that one character only: at 1M the
    characters of company names filled the heads' places, and 苏州 had no head."""
    frequencies = {"0:苏": 0.5, "0:州": 0.4, "0:苏州": 0.3, "2:usb": 0.2, "2:u": 0.1}

    found = frequent_words(frequencies, 3)

    assert found == [
        (Kind.ENTERPRISE, "苏州", 0.3),
        (Kind.ENTERPRISE, "usb", 0.2),
        (Kind.ENTERPRISE, "u", 0.1),
    ]


async def test_a_class_without_a_head_of_its_own_walks_the_head_of_its_rarest_term(
    sessionmaker: async_sessionmaker[HubSession],
    records: list[Record],
    dialect: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Heads are built for words; a longer query's classes (华鑫科技) walk the term head of
    the rarest of their terms that has one, and find the same page as through the index."""
    await small_heads(sessionmaker, monkeypatch)
    walked: list[str] = []
    walk = EmbeddedBackend._head_rows

    async def spy(self: EmbeddedBackend, *args: Any) -> Any:
        walked.append(args[3])
        return await walk(self, *args)

    monkeypatch.setattr(EmbeddedBackend, "_head_rows", spy)
    async with sessionmaker() as session:
        keys = set((await session.execute(select(SearchHeadBound.key))).scalars().all())

    # when
    result = await search(sessionmaker, "华鑫科技", EnterpriseConditions(), first=3)

    # then
    wanted = expected(records, "华鑫科技", EnterpriseConditions())
    assert [hit.position for hit in result.hits] == wanted[:3]
    # (PostgreSQL) the term head of 华鑫 in the name, rarer there than 科技; none on SQLite
    assert sorted(set(walked)) == ([] if dialect == "sqlite" else ["0:华鑫 -"])
    assert set(walked) <= keys


async def test_few_matches_have_exact_facets_past_the_count_limit_too(
    sessionmaker: async_sessionmaker[HubSession],
    records: list[Record],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: a probe of one record in four, and matches far fewer than the facets' sample
    monkeypatch.setattr("search.embedded_search._EXACT_READ", 1)
    monkeypatch.setattr("search.embedded_search.LEVELS", 2)
    conditions = EnterpriseConditions()
    wanted = expected(records, "科", conditions)
    by_id = {record.id: record for record in records}
    every = _facets([by_id[found[2]] for found in wanted])

    # when: a count limit past the matches, and one short of them
    counted = await search(sessionmaker, "科", conditions)
    capped = await search(sessionmaker, "科", conditions, count_limit=5)

    # then: the pages are the best matches; the total is exact, then the limit, a lower bound
    assert [hit.position for hit in counted.hits] == wanted[:20]
    assert [hit.position for hit in capped.hits] == wanted[:20]
    assert (counted.total, counted.total_exact) == (len(wanted), True)
    assert (capped.total, capped.total_exact) == (5, False)
    # and the facets count every match, and say so
    assert (counted.facets, counted.facets_sampled) == (every, False)
    assert (capped.facets, capped.facets_sampled) == (every, False)


async def test_past_the_facet_sample_the_facets_are_a_uniform_sample_scaled_and_say_so(
    sessionmaker: async_sessionmaker[HubSession],
    records: list[Record],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: facets counted over at most 4 matches, and a probe of one record in four
    monkeypatch.setattr("search.embedded_search._EXACT_READ", 1)
    monkeypatch.setattr("search.embedded_search.LEVELS", 2)
    monkeypatch.setattr("search.embedded_search.FACET_SAMPLE", 4)
    conditions = EnterpriseConditions()
    wanted = expected(records, "科", conditions)
    matches = [found[2] for found in wanted]
    by_id = {record.id: record for record in records}
    probed = 4 * sum(1 for i in matches if in_level(i, 2))
    assert len(matches) > 16 and probed > 16, "the corpus should need a sample"

    # when: a count limit past the matches, and one short of them
    counted = await search(sessionmaker, "科", conditions)
    capped = await search(sessionmaker, "科", conditions, count_limit=5)

    # then: the pages are still the best matches, the totals still counted
    assert [hit.position for hit in counted.hits] == wanted[:20]
    assert [hit.position for hit in capped.hits] == wanted[:20]
    assert (counted.total, counted.total_exact) == (len(matches), True)
    assert (capped.total, capped.total_exact) == (5, False)
    # and the facets are those of the sample level of about 4 matches (records chosen by a
    # hash of their id, whatever their text), times the inverse of its share: by the count,
    # or past the limit by the probe's estimate
    for result, estimate in ((counted, len(matches)), (capped, max(6, probed))):
        level = min(2, int(math.log2(estimate / 4)))
        sample = [by_id[i] for i in matches if in_level(i, level)]
        assert level > 0
        assert result.facets_sampled is True
        assert result.facets == _scaled(_facets(sample), 1 << level)


@pytest.mark.parametrize("dialect", ["postgres"], indirect=True)  # settings there only
async def test_a_search_s_settings_last_as_long_as_its_transaction(engine: AsyncEngine) -> None:
    # given: a connection of its own (the test's transaction would outlast the search's)
    names = list(SEARCH_SETTINGS)
    settings = text("SELECT " + ", ".join(f"current_setting('{name}')" for name in names))
    request = SearchRequest(
        kind=Kind.ENTERPRISE, query=parse("科技"), conditions=EnterpriseConditions(), first=3
    )

    # when: a search in a transaction, then another transaction on the same connection
    async with engine.connect() as connection:
        # (asyncpg looks up the types of a statement's results the first time it meets them,
        # and turns JIT off for the connection's session to do it, taking it for the setting
        # when the search has turned it off: a first search, so that its types are known)
        async with connection.begin(), HubSession(bind=connection) as session:
            await EmbeddedBackend(session).search(request)
        async with connection.begin():
            before = tuple((await connection.execute(settings)).one())
            async with HubSession(bind=connection) as session:
                await EmbeddedBackend(session).search(request)
            during = tuple((await connection.execute(settings)).one())
        async with connection.begin():
            after = tuple((await connection.execute(settings)).one())

    # then: the search ran under its settings, which the next transaction no longer has
    assert dict(zip(names, during, strict=True)) == SEARCH_SETTINGS
    assert before != during
    assert after == before


def _scaled(
    facets: dict[str, list[tuple[Any, int]]], scale: int
) -> dict[str, list[tuple[Any, int]]]:
    return {name: [(value, n * scale) for value, n in counts] for name, counts in facets.items()}


def _facets(records: list[Record]) -> dict[str, list[tuple[Any, int]]]:
    return {
        "regions": sort_facet(Counter(r.region[:2] + "0000" for r in records)),
        "creditGrades": sort_facet(Counter(r.grade for r in records)),
        "industries": sort_facet(Counter("C39" for _ in records)),
        "blacklisted": sort_facet(Counter(r.blacklisted for r in records)),
    }


async def test_a_row_whose_facts_changed_is_judged_by_the_live_tables_until_rebuilt(
    sessionmaker: async_sessionmaker[HubSession], records: list[Record]
) -> None:
    # given: a blacklisted enterprise whose listing ends, three years from now
    async with sessionmaker() as session, session.begin():
        ending = await make_enterprise(session, name="天津华鑫科技有限公司")
        today = utcnow().date()
        await make_entry(session, ending, date(2025, 1, 1), today + timedelta(days=3 * 365))
        await enqueue(session, Kind.ENTERPRISE, [ending.id])
    await sync_once(sessionmaker, None)
    blacklisted = EnterpriseConditions(blacklisted=True)
    assert [h.id for h in (await search(sessionmaker, "天津华鑫", blacklisted)).hits] == [ending.id]

    # when: four years have passed, and the relay has not rebuilt the row
    later = datetime.now(UTC) + timedelta(days=4 * 365)
    async with sessionmaker() as session:
        until = await session.scalar(
            select(SearchDocument.flags_until).where(SearchDocument.ref_id == ending.id)
        )
    assert until is not None and until < later

    # then: the row answers as the tables do at that moment
    now_listed = await search(sessionmaker, "天津华鑫", blacklisted, now=later)
    assert (now_listed.hits, now_listed.total) == ([], 0)
    not_listed = await search(
        sessionmaker, "天津华鑫", EnterpriseConditions(blacklisted=False), now=later
    )
    assert [h.id for h in not_listed.hits] == [ending.id]
    assert not_listed.facets["blacklisted"] == [(False, 1)]


async def test_a_licence_that_expired_since_the_row_was_built_is_judged_live(
    sessionmaker: async_sessionmaker[HubSession], records: list[Record]
) -> None:
    # given: an enterprise whose one licence ends three years from now
    async with sessionmaker() as session, session.begin():
        holder = await make_enterprise(session, name="天津华鑫科技有限公司")
        today = utcnow().date()
        await make_licence(session, holder, valid_until=today + timedelta(days=3 * 365))
        await enqueue(session, Kind.ENTERPRISE, [holder.id])
    await sync_once(sessionmaker, None)
    valid = EnterpriseConditions(has_valid_licence=True)
    assert [h.id for h in (await search(sessionmaker, "天津华鑫", valid)).hits] == [holder.id]

    # when: four years have passed, and the relay has not rebuilt the row
    later = datetime.now(UTC) + timedelta(days=4 * 365)

    # then
    expired = await search(sessionmaker, "天津华鑫", valid, now=later)
    assert (expired.hits, expired.total, expired.total_exact) == ([], 0, True)
    without = await search(
        sessionmaker, "天津华鑫", EnterpriseConditions(has_valid_licence=False), now=later
    )
    assert ([h.id for h in without.hits], without.total) == ([holder.id], 1)


async def test_a_scheduled_publication_is_judged_live(
    sessionmaker: async_sessionmaker[HubSession], records: list[Record]
) -> None:
    # given: an enterprise to be published in two days
    async with sessionmaker() as session, session.begin():
        scheduled = await make_enterprise(
            session, name="天津华鑫科技有限公司", published_at=utcnow() + timedelta(days=2)
        )
        await enqueue(session, Kind.ENTERPRISE, [scheduled.id])
    await sync_once(sessionmaker, None)
    assert (await search(sessionmaker, "天津华鑫", EnterpriseConditions())).hits == []

    # when: three days have passed, and the relay has not rebuilt the row
    later = datetime.now(UTC) + timedelta(days=3)

    # then: the public finds it
    found = await search(sessionmaker, "天津华鑫", EnterpriseConditions(), now=later)
    assert ([h.id for h in found.hits], found.total, found.total_exact) == ([scheduled.id], 1, True)


async def test_a_search_judges_a_bounded_number_of_stale_rows(
    sessionmaker: async_sessionmaker[HubSession],
    records: list[Record],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Many listings end at one midnight: until the relay catches up, a search judges at most
    ``STALE_LIMIT`` of the rows by the live tables, and says that its total is a lower bound."""
    # given: every row of 华鑫 stale, and a limit of 2
    monkeypatch.setattr("search.embedded_search.STALE_LIMIT", 2)
    wanted = expected(records, "华鑫", EnterpriseConditions())
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(SearchDocument).values(flags_until=utcnow() - timedelta(seconds=1))
        )

    # when
    result = await search(sessionmaker, "华鑫", EnterpriseConditions(), first=20)

    # then: the two first rows by rank were judged, and the total is a lower bound
    judged = sorted(wanted, key=lambda found: (found[1], found[2]))[:2]
    assert [hit.position for hit in result.hits] == sorted(
        judged, key=lambda found: (-found[0], found[1], found[2])
    )
    assert (result.total, result.total_exact) == (2, False)


async def test_the_relay_rebuilds_the_rows_whose_facts_changed(
    sessionmaker: async_sessionmaker[HubSession], records: list[Record]
) -> None:
    # given: a row built before its listing ended (as if the day had passed since)
    blacklisted = next(r for r in records if r.blacklisted)
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(SearchDocument)
            .where(SearchDocument.ref_id == blacklisted.id)
            .values(flags_until=utcnow() - timedelta(seconds=1))
        )

    # when
    await sync_once(sessionmaker, None)

    # then: rebuilt, its facts hold again until their next change (the listing's end)
    async with sessionmaker() as session:
        until = await session.scalar(
            select(SearchDocument.flags_until).where(SearchDocument.ref_id == blacklisted.id)
        )
    assert until is not None and until > utcnow() + timedelta(days=365)


@pytest.mark.parametrize("dialect", ["postgres"], indirect=True)  # SQLite keeps no such statistics
async def test_a_rebuild_leaves_the_statistics_of_the_terms_current(
    sessionmaker: async_sessionmaker[HubSession],
) -> None:
    """The searches plan from how common each term is (the statistics of the terms): a
    rebuild that left them as they were had the planner, and the search, see an empty index
    until autovacuum came by."""
    # given: 30 enterprises named 科技, indexed
    async with sessionmaker() as session, session.begin():
        for n in range(30):
            await make_enterprise(session, name=f"苏州{n}号科技有限公司")
    await reindex(sessionmaker, EMBEDDED)

    async with sessionmaker() as session:
        frequencies = await read_frequencies(session)
        planner = (
            await session.execute(
                text(
                    "SELECT attstattarget, most_common_elems::text::text[] FROM pg_stats "
                    "JOIN pg_attribute ON attrelid = 'search_document'::regclass "
                    "AND pg_attribute.attname = pg_stats.attname "
                    "WHERE tablename = 'search_document' AND pg_stats.attname = 'tokens'"
                )
            )
        ).one()

    # then: the search's frequencies and the planner's statistics both know the word; the
    # planner's list is the short one (its estimates read it whole, each of them)
    assert frequencies["0:科技"] == 1.0
    target, common = planner
    assert target == 100
    assert "0:科技" in common


@pytest.mark.parametrize("dialect", ["postgres"], indirect=True)  # SQLite keeps no such statistics
async def test_the_plans_made_with_a_frequency_table_go_when_it_is_read_again(
    sessionmaker: async_sessionmaker[HubSession], records: list[Record]
) -> None:
    """A cached plan holds the frequency table it was made with (ten thousand terms): the
    cache must not keep every table read since the process started."""
    # given: statistics read on every search, and no plan cached
    frequencies = Frequencies(every=-1.0)
    _plan.cache_clear()
    request = SearchRequest(
        kind=Kind.ENTERPRISE, query=parse("科技"), conditions=EnterpriseConditions(), first=3
    )

    # when: a plan made with each of two readings
    async with sessionmaker() as session:
        first = await frequencies.get(session)
        plan(request, first)
        second = await frequencies.get(session)
        plan(request, second)

    # then: only the plan of the second reading is kept
    assert second is not first
    assert _plan.cache_info().currsize == 1


@pytest.mark.parametrize(
    "match",
    [
        NoneOf((grade_term("C"), grade_term(None))),
        Both((NoneOf((grade_term("C"),)), NoneOf((grade_term(None),)))),
    ],
    ids=["none-of", "both-none-of"],
)
async def test_a_condition_of_absent_terms_alone_finds_the_rows_without_them(
    sessionmaker: async_sessionmaker[HubSession], records: list[Record], match: Match
) -> None:
    """SQLite's FTS5 has no unary NOT: the rows without the terms, not those with any."""
    request = SearchRequest(
        kind=Kind.ENTERPRISE, query=parse("科技"), conditions=EnterpriseConditions(), first=3
    )
    async with sessionmaker() as session:
        rows = await EmbeddedBackend(session)._rows(request, match, utcnow(), texts=False)

    assert sorted(row.ref_id for row in rows) == sorted(
        r.id for r in records if r.grade in ("A", "B")
    )


def test_only_terms_are_written_into_the_sql_text() -> None:
    """PostgreSQL's statements carry the terms as literals (the planner estimates from
    them): a value that is not a term never gets there."""
    assert pg_text(AllOf(("0:科技", "g:-", "r:44"))) == (
        "search_document.tokens @> ARRAY['0:科技','g:-','r:44']::text[]"
    )
    with pytest.raises(ValueError, match="not a search term"):
        pg_text(AnyOf(("0:a'); DROP TABLE enterprise; --",)))


def test_the_terms_a_condition_excludes_are_checked_after_the_rest() -> None:
    """An arm's exclusions scan the row's whole term array: PostgreSQL checks them last
    (``pg_deferred``), the marks of the same ``NoneOf`` where they were, an ``Either`` as it
    is; scanned for, or as the rows that have them (``pg_excluded``)."""
    graded = Either((AllOf(("g:A",)), Both((AllOf(("g:B",)), NoneOf(("r:44",))))))
    arm = Both((AllOf(("1:科技",)), NoneOf(("2:科技", "p:0", "e:x")), graded, NoneOf(("b:1",))))

    rest, excluded = pg_deferred(arm)

    assert rest == Both((AllOf(("1:科技",)), NoneOf(("p:0",)), graded, NoneOf(("b:1",))))
    assert excluded == ("2:科技", "e:x")
    assert required_terms(rest) == ("1:科技",)
    assert str(pg_excluded(excluded, by_rows=False)) == (
        "NOT (search_document.tokens && ARRAY['2:科技','e:x']::text[])"
    )
    assert str(pg_excluded(excluded, by_rows=True)) == (
        "search_document.id NOT IN (SELECT search_document.id FROM search_document "
        "WHERE search_document.tokens && ARRAY['2:科技','e:x']::text[])"
    )
    unmarked = Both((AllOf(("1:科技",)), NoneOf(("p:0",))))
    assert pg_deferred(unmarked) == (unmarked, ())


def test_a_condition_holds_of_a_set_of_terms_as_the_database_reads_it() -> None:
    # a class of 科技: in field 1, not in field 2, the record's name not exactly the query;
    # and either of two grades
    of_class = Both((AllOf(("1:科技",)), NoneOf(("2:科技", "e:x"))))
    graded = Either((AllOf(("g:A",)), AnyOf(("g:B", "g:C"))))
    assert holds(of_class, {"1:科技"}) is True
    assert holds(of_class, {"1:科技", "2:科技"}) is False
    assert holds(of_class, {"1:科技", "e:x"}) is False
    assert holds(of_class, {"2:科技"}) is False
    assert [holds(graded, {grade}) for grade in ("g:A", "g:B", "g:C", "g:D")] == [
        True,
        True,
        True,
        False,
    ]


async def test_the_reindex_and_the_relay_build_the_heads(
    sessionmaker: async_sessionmaker[HubSession],
    records: list[Record],
    dialect: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Heads come from the index's writers only: the reindex builds them from the statistics
    it leaves, the relay every so often (PostgreSQL; SQLite keeps no statistics)."""
    # given: classes frequent enough for a head at this corpus's size
    heads_of_four(monkeypatch)

    # when: a reindex
    await reindex(sessionmaker, EMBEDDED)
    built = await count_heads(sessionmaker)

    # and: the heads gone, and the relay's pass due (the last build 10 minutes ago)
    await drop_heads(sessionmaker)
    async with sessionmaker() as session, session.begin():
        await session.execute(update(SearchSchedule).values(done_at=utcnow() - timedelta(0, 601)))
    await sync_once(sessionmaker, None)

    # then
    assert (built > 0, await count_heads(sessionmaker) == built) == (dialect == "postgres", True)


async def _heads(sessionmaker: async_sessionmaker[HubSession]) -> list[Any]:
    async with sessionmaker() as session:
        bounds = (
            await session.execute(select(SearchHeadBound).order_by(SearchHeadBound.key))
        ).scalars()
        rows = (
            await session.execute(
                select(SearchHead.key, SearchHead.rank, SearchHead.ref_id).order_by(
                    SearchHead.key, SearchHead.rank, SearchHead.ref_id
                )
            )
        ).all()
        return [
            [(b.key, b.required, b.excluded, b.rank, b.ref_id) for b in bounds],
            [tuple(row) for row in rows],
        ]


@pytest.mark.parametrize("dialect", ["postgres"], indirect=True)  # SQLite keeps no heads
async def test_a_reindex_builds_the_heads_in_ranking_order_as_the_relay_does(
    sessionmaker: async_sessionmaker[HubSession],
    records: list[Record],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reindex reads a frequent class's head from the first rows in ranking order, and
    through the terms' index when they do not hold it (``embedded_heads._ranked``): the
    heads are the relay's, row for row, and the index it made is gone."""
    # given: the heads as the relay builds them
    heads_of_four(monkeypatch)
    await drop_heads(sessionmaker)
    async with sessionmaker() as session, session.begin():
        relay = await EmbeddedBackend(session).refresh_heads()
    by_relay = await _heads(sessionmaker)

    # when: built as a reindex does, every class walked along a stretch too short for some
    monkeypatch.setattr("search.embedded_heads.WALK_SHARE", 0.0)
    monkeypatch.setattr("search.embedded_heads.WALK_READS", 0.6)
    walks: list[tuple[int | None, int]] = []
    write = embedded_heads._write_first

    async def counted(
        session: Any, kind: Kind, head: Any, within: int | None
    ) -> tuple[int, tuple[int, int] | None]:
        written, last = await write(session, kind, head, within)
        walks.append((within, written))
        return written, last

    monkeypatch.setattr("search.embedded_heads._write_first", counted)
    await drop_heads(sessionmaker)
    async with sessionmaker() as session, session.begin():
        settings = text("SELECT current_setting('enable_indexscan')")
        before = await session.scalar(settings)
        ranked = await EmbeddedBackend(session).refresh_heads(ranked=True)
        after = await session.scalar(settings)
        index = await session.scalar(
            text("SELECT to_regclass(:name)::text").bindparams(name=embedded_heads.RANK_INDEX)
        )

    # then: the same heads; some found on the walk, some not; the index and settings gone
    assert (ranked, await _heads(sessionmaker)) == (relay, by_relay)
    walked = [written for within, written in walks if within is not None]
    assert (len(walked), any(n > 4 for n in walked), any(n <= 4 for n in walked)) == (
        relay,
        True,
        True,
    )
    assert (index, after) == (None, before)


@pytest.mark.parametrize("dialect", ["postgres"], indirect=True)  # SQLite keeps no heads
async def test_a_reindex_on_two_connections_builds_the_heads_one_builds(
    own: async_sessionmaker[HubSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reindex whose sessionmaker has a pool builds heads on a second connection too
    (``embedded_heads._build_heads``): the same heads, row for row, as one transaction
    builds, the walks on the transaction that has the btree in ranking order."""
    # given: a corpus in a database of its own, and heads small enough for many classes, some
    # of them walked
    heads_of_four(monkeypatch)
    monkeypatch.setattr("search.embedded_heads.WALK_SHARE", 0.2)
    async with own() as session, session.begin():
        await make_corpus(session)
    built_on: list[tuple[int, int | None]] = []
    build = embedded_heads._build_head

    async def spied(session: Any, kind: Kind, head: Any, **options: Any) -> Any:
        connection = await session.connection()
        built_on.append((id(connection.sync_connection.connection), options["within"]))
        return await build(session, kind, head, **options)

    monkeypatch.setattr("search.embedded_heads._build_head", spied)

    # when: a reindex, then the same heads built again in one transaction
    await reindex(own, EMBEDDED)
    by_reindex, on = await _heads(own), list(built_on)
    await drop_heads(own)
    async with own() as session, session.begin():
        await EmbeddedBackend(session).refresh_heads(ranked=True)

    # then: the same heads; the reindex built them on two connections, every walk on one
    assert by_reindex == await _heads(own)
    connections = {connection for connection, _ in on}
    walked_on = {connection for connection, within in on if within is not None}
    assert (len(connections), len(walked_on)) == (2, 1)


async def test_the_workers_share_when_the_heads_were_last_built(
    sessionmaker: async_sessionmaker[HubSession],
    records: list[Record],
    dialect: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every worker of ``hub serve`` runs the relay: the heads are built again once every 10
    minutes by one of them, not by each by its own clock."""
    heads_of_four(monkeypatch)

    # given: the heads just built (by a reindex), then gone, to see whether they come back
    await reindex(sessionmaker, EMBEDDED)
    built = await count_heads(sessionmaker)
    await drop_heads(sessionmaker)

    # when: the relay of a worker started since (a schedule of its own)
    monkeypatch.setattr("search.indexer.HEADS", _Schedule(600.0))
    await sync_once(sessionmaker, None)
    again = await count_heads(sessionmaker)

    # and: 10 minutes after the build
    async with sessionmaker() as session, session.begin():
        await session.execute(update(SearchSchedule).values(done_at=utcnow() - timedelta(0, 601)))
    await sync_once(sessionmaker, None)

    # then: not built again until then (PostgreSQL; SQLite keeps no heads)
    assert (built > 0, again, await count_heads(sessionmaker) == built) == (
        dialect == "postgres",
        0,
        True,
    )


@pytest.mark.parametrize("dialect", ["postgres"], indirect=True)  # SQLite keeps no heads
async def test_a_reindex_builds_the_heads_of_the_most_frequent_words_and_the_relay_the_rest(
    sessionmaker: async_sessionmaker[HubSession],
    records: list[Record],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reindex does not wait for every head (``REINDEX_HEAD_WORDS``): it leaves them due,
    and the relay's next pass builds the others."""
    # given: heads of four rows, and a reindex that builds those of one word of each kind
    heads_of_four(monkeypatch)
    monkeypatch.setattr("search.indexer.REINDEX_HEAD_WORDS", 1)

    # when: a reindex, then the relay's next pass
    await reindex(sessionmaker, EMBEDDED)
    by_reindex, due = await head_keys(sessionmaker), await heads_due(sessionmaker)
    await sync_once(sessionmaker, None)
    by_relay, due_after = await head_keys(sessionmaker), await heads_due(sessionmaker)

    # then: the reindex built some of them and left them due; the relay built the rest, the
    # same heads as a build of all of them at once
    await drop_heads(sessionmaker)
    async with sessionmaker() as session, session.begin():
        await EmbeddedBackend(session).refresh_heads()
    assert set() < by_reindex < by_relay == await head_keys(sessionmaker)
    assert (due, due_after) == (True, False)


async def head_keys(sessionmaker: async_sessionmaker[HubSession]) -> set[tuple[str, str]]:
    async with sessionmaker() as session:
        found = await session.execute(select(SearchHeadBound.kind, SearchHeadBound.key))
        return {(kind, key) for kind, key in found.all()}


async def heads_due(sessionmaker: async_sessionmaker[HubSession]) -> bool:
    async with sessionmaker() as session:
        return await HEADS.due(session)


# Tallies (search.embedded_tally) ------------------------------------------------------------


async def tallied_words(sessionmaker: async_sessionmaker[HubSession]) -> dict[str, int]:
    """Each tallied word's or phrase's key and the rows its tally counts, beside the rows that
    have the word (or whose units hold the phrase, the fields' units read as one text: a
    pattern cannot span two of them, each ends and starts with its own space): what a tally
    must always equal."""
    units = "d.text_0 || d.text_1 || d.text_2 || d.text_3"
    async with sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT w.key, (SELECT sum(t.rows) FROM search_tally AS t "
                "WHERE t.kind = w.kind AND t.key = w.key), "
                "(SELECT count(*) FROM search_document AS d WHERE d.kind = w.kind AND "
                f"CASE WHEN w.pattern IS NULL THEN d.tokens && w.terms "
                f"ELSE strpos({units}, w.pattern) > 0 END) "
                "FROM search_tally_word AS w"
            )
        )
        found = {key: (int(tallied or 0), int(counted)) for key, tallied, counted in rows.all()}
    assert all(tallied == counted for tallied, counted in found.values()), found
    return {key: counted for key, (_, counted) in found.items()}


def answered_by_tallies(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each search since was answered by a tally (``embedded_tally.read``)."""
    answers: list[bool] = []
    read = embedded_tally.read

    async def spy(*args: Any, **kwargs: Any) -> Any:
        found = await read(*args, **kwargs)
        answers.append(found is not None)
        return found

    monkeypatch.setattr(embedded_tally, "read", spy)
    return answers


TALLIED_QUERIES: list[tuple[str, EnterpriseConditions]] = [
    ("科技", EnterpriseConditions()),
    ("科技", EnterpriseConditions(region_code="440000")),
    ("华鑫", EnterpriseConditions(credit_grades=("A", "B"), blacklisted=False)),
    ("食品", EnterpriseConditions(blacklisted=True)),
    ("北京", EnterpriseConditions(credit_grades=("C",))),
    # phrases: products' names, and a phrase only some names hold
    ("LED灯", EnterpriseConditions()),
    ("led灯", EnterpriseConditions(region_code="440000", blacklisted=False)),
    ("科技灯", EnterpriseConditions(credit_grades=("A", "B"))),
    ("华鑫食品袋", EnterpriseConditions(blacklisted=True)),
]


@pytest.mark.parametrize("dialect", ["postgres"], indirect=True)  # SQLite keeps no tallies
@pytest.mark.parametrize(("text", "conditions"), TALLIED_QUERIES)
async def test_a_frequent_word_is_counted_and_faceted_from_its_tally(
    sessionmaker: async_sessionmaker[HubSession],
    records: list[Record],
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    conditions: EnterpriseConditions,
) -> None:
    # given: the tallies of the words frequent at this size, built as the relay builds them
    await small_heads(sessionmaker, monkeypatch)
    tallied = await tallied_words(sessionmaker)
    assert {"0:科技 1:科技 2:科技", "~led 灯", "~科 技 灯", "~华 鑫 食 品 袋"} <= tallied.keys()
    answers = answered_by_tallies(monkeypatch)
    wanted = expected(records, text, conditions)
    by_id = {record.id: record for record in records}

    # when: with a count limit past the matches, and one short of them
    counted = await search(sessionmaker, text, conditions, first=3)
    capped = await search(sessionmaker, text, conditions, first=3, count_limit=len(wanted) - 1)

    # then: answered by the tally, every match counted and faceted, none sampled
    assert answers == [True, True]
    every = _facets([by_id[found[2]] for found in wanted])
    assert (counted.total, counted.total_exact) == (len(wanted), True)
    assert (capped.total, capped.total_exact) == (len(wanted) - 1, False)
    for result in (counted, capped):
        assert [hit.position for hit in result.hits] == wanted[:3]
        assert (result.facets, result.facets_sampled) == (every, False)


@pytest.mark.parametrize("dialect", ["postgres"], indirect=True)
async def test_a_tally_follows_the_rows_the_relay_writes(
    sessionmaker: async_sessionmaker[HubSession],
    records: list[Record],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await small_heads(sessionmaker, monkeypatch)
    before = await tallied_words(sessionmaker)
    word = "0:科技 1:科技 2:科技"

    # when: a record joins 科技 (and LED灯), one leaves it, one changes grade, one is deleted
    by_id = {record.id: record for record in records}
    leaving, regraded, deleted = [
        found[2]
        for found in expected(records, "科技", EnterpriseConditions())
        if not any("科技" in text for text in by_id[found[2]].products)
    ][:3]
    async with sessionmaker() as session, session.begin():
        joining = await make_enterprise(session, name="天津科技有限公司", region_code="120000")
        await make_product(session, joining, name="LED灯", brand="恒泰")
        await session.execute(
            update(Enterprise).where(Enterprise.id == leaving).values(name="北京恒泰食品有限公司")
        )
        await session.execute(
            update(Enterprise).where(Enterprise.id == regraded).values(credit_grade=CreditGrade.D)
        )
        await session.execute(delete(Enterprise).where(Enterprise.id == deleted))
        await enqueue(session, Kind.ENTERPRISE, [joining.id, leaving, regraded, deleted])
    await sync_once(sessionmaker, None)

    # then: every tally still counts the rows that have its word (``tallied_words``): one
    # more, two fewer; the phrase's, one more and the deleted record's
    after = await tallied_words(sessionmaker)
    assert (after.keys(), after[word]) == (before.keys(), before[word] - 1)
    phrase = "~led 灯"
    assert after[phrase] == before[phrase] + 1 - ("LED灯" in by_id[deleted].products)
    # and a search of the word counts and facets them from the tally, the new grade with them
    answers = answered_by_tallies(monkeypatch)
    found = await search(sessionmaker, "科技", EnterpriseConditions())
    assert answers == [True]
    assert (found.total, found.total_exact) == (after[word], True)
    assert ("D", 1) in found.facets["creditGrades"]


@pytest.mark.parametrize("dialect", ["postgres"], indirect=True)
@pytest.mark.parametrize("word", ["科技", "科技灯"])
async def test_a_tally_takes_out_the_rows_whose_facts_changed_and_judges_them_live(
    sessionmaker: async_sessionmaker[HubSession],
    records: list[Record],
    monkeypatch: pytest.MonkeyPatch,
    word: str,
) -> None:
    # given: two blacklisted enterprises whose listings end three years from now, tallied:
    # one of 科技 and 科技灯, one with the terms of 科技灯 but not the phrase (科技, 灯技灯)
    ending: list[Record] = []
    async with sessionmaker() as session, session.begin():
        for name, products in (
            ("天津科技有限公司", ("科技灯",)),
            ("天津恒泰有限公司", ("科技", "灯技灯")),
        ):
            made = await make_enterprise(session, name=name, region_code="120000")
            for product in products:
                await make_product(session, made, name=product, brand="恒泰")
            await make_entry(
                session, made, date(2025, 1, 1), utcnow().date() + timedelta(days=1095)
            )
            await enqueue(session, Kind.ENTERPRISE, [made.id])
            ending.append(Record(made.id, name, ("恒泰",), products, "120000", "A", False))
    await sync_once(sessionmaker, None)
    await small_heads(sessionmaker, monkeypatch)
    answers = answered_by_tallies(monkeypatch)

    # when: four years have passed, and the relay has not rebuilt the rows
    later = datetime.now(UTC) + timedelta(days=4 * 365)
    listed = await search(sessionmaker, word, EnterpriseConditions(blacklisted=True), now=later)
    free = await search(sessionmaker, word, EnterpriseConditions(blacklisted=False), now=later)

    # then: from the tally, the rows counted as the tables say they are then: no longer listed
    assert answers == [True, True]
    for result, blacklisted in ((listed, True), (free, False)):
        wanted = expected(records + ending, word, EnterpriseConditions(blacklisted=blacklisted))
        assert (result.total, result.total_exact) == (len(wanted), True)
        assert dict(result.facets["blacklisted"]) == {blacklisted: len(wanted)}
    assert not {record.id for record in ending} & {hit.id for hit in listed.hits}


@pytest.mark.parametrize("dialect", ["postgres"], indirect=True)
async def test_the_phrases_tallied_are_values_of_records_that_terms_cannot_say(
    sessionmaker: async_sessionmaker[HubSession],
    records: list[Record],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: besides the corpus's products, a value with no letter, digit or CJK character
    # on several records (nothing a search can ask for)
    async with sessionmaker() as session, session.begin():
        for n in range(3):
            name = f"天津恒泰{n}号有限公司"
            made = await make_enterprise(session, name=name, region_code="120000")
            await make_product(session, made, name="——", brand="恒泰")
            await enqueue(session, Kind.ENTERPRISE, [made.id])
    await sync_once(sessionmaker, None)

    # when: the heads and tallies are chosen and built, as the relay does
    await small_heads(sessionmaker, monkeypatch)

    # then: every product's name that terms cannot say has a tally (电子秤 too); no brand (a
    # word: the words' tallies), nothing for the punctuation
    async with sessionmaker() as session:
        patterns = set(
            (
                await session.execute(
                    select(SearchTallyWord.pattern).where(SearchTallyWord.pattern.is_not(None))
                )
            ).scalars()
        )
    products = {f" {' '.join(parse(name).phrases[0])} " for name in PRODUCTS}
    assert products <= patterns
    assert not {f" {brand[0]} {brand[1]} " for brand in BRANDS} & patterns
    assert all(parse(pattern).phrases for pattern in patterns)


def test_a_tally_answers_one_word_under_filters_of_tallied_terms_only() -> None:
    def request(text: str, conditions: EnterpriseConditions) -> SearchRequest:
        return SearchRequest(
            kind=Kind.ENTERPRISE, query=parse(text), conditions=conditions, first=3
        )

    def key(text: str, conditions: EnterpriseConditions) -> str | None:
        made = request(text, conditions)
        counted = embedded_tally.answers(made, plan(made))
        return None if counted is None else counted.key

    word = "0:科技 1:科技 2:科技"
    assert key("科技", EnterpriseConditions()) == word
    assert key("科技", EnterpriseConditions(region_code="440000", has_valid_licence=True)) == word
    # a phrase its terms cannot say, by its units, whatever the case
    assert key("华鑫科技", EnterpriseConditions(credit_grades=("A",))) == "~华 鑫 科 技"
    assert key("LED灯", EnterpriseConditions()) == key("led灯", EnterpriseConditions()) == "~led 灯"
    # a city, two words or phrases, a date range: the rows are counted
    assert key("科技", EnterpriseConditions(region_code="440300")) is None
    assert key("华鑫科技", EnterpriseConditions(region_code="440300")) is None
    assert key("科技 北京", EnterpriseConditions()) is None
    assert key("LED灯 华鑫科技", EnterpriseConditions()) is None


@pytest.mark.parametrize("dialect", ["postgres"], indirect=True)
async def test_the_reindex_chooses_the_tallies_and_the_relay_builds_them(
    sessionmaker: async_sessionmaker[HubSession],
    records: list[Record],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: words frequent enough at this size
    heads_of_four(monkeypatch)
    answers = answered_by_tallies(monkeypatch)
    wanted = expected(records, "科技", EnterpriseConditions())

    # when: a reindex, which does not wait for the tallies
    await reindex(sessionmaker, EMBEDDED)
    async with sessionmaker() as session:
        states = (await session.execute(select(SearchTallyWord.built_at))).scalars().all()
    before = await search(sessionmaker, "科技", EnterpriseConditions())

    # and: the relay's next pass
    await sync_once(sessionmaker, None)
    after = await search(sessionmaker, "科技", EnterpriseConditions())

    # then: chosen, none built, and the rows counted; then built, and the tally read
    assert states and all(state is None for state in states)
    assert "0:科技 1:科技 2:科技" in await tallied_words(sessionmaker)
    assert answers == [False, True]
    for result in (before, after):
        assert (result.total, result.total_exact) == (len(wanted), True)
