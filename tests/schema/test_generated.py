"""Documents generated from each tier's schema answer alike with compiled reads on and off.

For each tier (public, partner with every scope, internal), a seeded generator
(tests/fixtures/generator.py) writes DOCUMENTS_PER_TIER documents that together reach every
field of the tier's schema, with arguments drawn from a seeded world (tests/fixtures/world.py)
and from earlier answers (cursors, global IDs). Each document goes over HTTP, with a bearer
token from the hub's token endpoint where the tier needs one, to two apps on the same
database: one with compiled reads (``compile_queries=True``, the production default) and one
with the resolvers only. On PostgreSQL and again on SQLite, each with its own statements
(``schema.compiled.dialects``). Their answers must be equal (data as JSON writes it, truth
values apart from numbers and keys in order; errors by message, code and path), no answer may
be an ``INTERNAL`` error or escape the app, and no compiled statement may fail.

What the compiled path took is counted per tier, with the field that stopped each document it
did not take (the reason the hub logs once at INFO); the summary is printed (``pytest -s``) and
written to ``generated-summary.txt`` in pytest's base temporary directory, with every
document that went wrong in full.

Known defects (``KNOWN``) are told apart by what their documents do (``Generated.notes``) and
counted, not failed on; each has a test of its own below, marked ``xfail(strict=True)``, that
passes once the defect is fixed, and then its entry in ``KNOWN`` goes too.

The world lives in a database of its own, committed: a compiled statement that failed would
abort a test's transaction and with it every later document.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import logging
import time
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import SAWarning

from hub.auth.principal import Tier
from hub.auth.scopes import SCOPES
from hub.config import Settings
from schema.build import build_schema
from search.indexer import reindex
from search.outbox import EMBEDDED
from tests.fixtures.generator import (
    DocumentGenerator,
    FieldKey,
    Generated,
    reachable_fields,
)
from tests.fixtures.hubs import bearer, hub_over_http, hub_settings, own_database
from tests.fixtures.oauth import access_token, oauth_client
from tests.fixtures.world import World, seed_world
from tests.fixtures.written import written

DOCUMENTS_PER_TIER = 2_000
SEED = 20_240_611
"""Change it to explore other documents; a failure names the index of its document."""

TIERS = {"public": Tier.PUBLIC, "partner": Tier.PARTNER, "internal": Tier.INTERNAL}

EXCLUDED: dict[FieldKey, str] = {}
"""Fields the coverage need not reach, with the reason. None today: the search fields answer
from the embedded index, the same backend for both apps, so they are compared too."""

NOT_COMPILED: dict[str, str] = {
    "arguments the resolvers refuse": "the resolvers write BAD_USER_INPUT, with paths",
    "does not validate": "a GraphQL validation error, no plan at all",
    "Query.statistics": "kept figures and suppression, computed in Python",
    "Query.complaintStatistics": "small counts suppressed in Python",
    "Query.complaintCounts": "small counts suppressed in Python",
    "Query.complaints": "personal data, audited in the read's transaction",
    "Enterprise.legalRepresentativeIdNumber needs scopes or is not declared": "personal data",
    "Enterprise.legalRepresentativePhone needs scopes or is not declared": "personal data",
    "Enterprise.complaints needs scopes or is not declared": "behind a scope; audited",
    "Product.complaints needs scopes or is not declared": "behind a scope; audited",
}
"""Every reason a generated document may go to the resolvers, with why: the fields with no SQL
form. Any other reason is a field that should compile and does not, and fails the test."""

# A sanity floor only: the shares move with the schema, since a new field changes what the
# seeded generator draws (adding `facetsSampled` took public from 65.6% to 62.8%). What must
# compile is held by NOT_COMPILED; the floor catches a generator that stops reaching the
# compiled roots at all.
COMPILED_FLOOR = {"public": 0.55, "partner": 0.42, "internal": 0.43}

MAX_DEPTH = 5
"""Deep enough for every field (the deepest is 4 fields down), shallow enough to be quick."""

BATCH = 8
"""Documents in flight at once: PostgreSQL's waits overlap the app's work. On SQLite one at a
time, each app in turn: the personal data fields write their audit records, and SQLite has one
writer at a time (a locked database is a 503, not the difference this test looks for)."""

ROOT_WEIGHTS = {"enterprise": 4.0, "blacklist": 3.0, "enterprises": 3.0, "licence": 2.0}
"""How much likelier these roots are than the others: the questions users bring
(DESIGN.md) start from an enterprise, the blacklist or a licence."""

ESCAPED = "escaped the app"


@dataclass
class Hubs:
    compiled: httpx.AsyncClient
    resolvers: httpx.AsyncClient
    tokens: dict[str, str | None]
    world: World
    summary: Path
    dialect: str


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
async def hubs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Hubs]:
    """Both apps over the seeded world, and a token of each tier, on each database."""
    directory = tmp_path_factory.mktemp("generated")
    async with AsyncExitStack() as stack:
        database = await stack.enter_async_context(own_database(request.param, directory))
        async with database.sessionmaker() as session:
            world = await seed_world(session)
        await reindex(database.sessionmaker, EMBEDDED)  # the search fields answer from it
        settings = hub_settings(directory)
        compiled = await stack.enter_async_context(hub_over_http(settings, database.sessionmaker))
        resolvers = await stack.enter_async_context(
            hub_over_http(
                settings.model_copy(update={"compile_queries": False}), database.sessionmaker
            )
        )
        async with database.sessionmaker() as session:
            partner = await oauth_client(session, tier="partner", scopes=SCOPES, name="partner")
            internal = await oauth_client(session, tier="internal", scopes=(), name="agency")
            await session.commit()
        tokens = {
            "public": None,
            "partner": await access_token(compiled, partner),
            "internal": await access_token(compiled, internal),
        }
        summary = tmp_path_factory.getbasetemp() / "generated-summary.txt"
        # What the app's lifespan does for `hub serve` (it does not run here): what start-up
        # built is frozen, so the collector stops walking it on every full collection.
        gc.collect()
        gc.freeze()
        try:
            yield Hubs(compiled, resolvers, tokens, world, summary, request.param)
        finally:
            # What the tests froze (_freeze_what_lives) is the collector's again, the
            # connections an escaped request left behind included.
            async with _leaks_tolerated():
                gc.unfreeze()


# -- what went wrong, and what is known to --------------------------------------------------


@dataclass
class Problem:
    kind: str
    """"difference", "failed compiled statement", "internal error" or ESCAPED."""
    generated: Generated
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.upper()}\n{self.generated}\n{self.detail}"


@dataclass(frozen=True)
class Known:
    reason: str
    matches: Callable[[Problem], bool]


def _noted(note: str, *kinds: str) -> Callable[[Problem], bool]:
    return lambda problem: note in problem.generated.notes and problem.kind in kinds


KNOWN: dict[str, Known] = {}
"""None today: the six defects these documents found (a district's region range, a cursor of
another order, tied boolean facets, a cancelled DataLoader future, hasPreviousPage alone, a
date for an instant) are fixed, and each kept its test below."""


@dataclass
class Tally:
    tier: str
    documents: int = 0
    compiled: int = 0
    seconds: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)
    codes: Counter[str | None] = field(default_factory=Counter)
    known: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    unknown: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)
        for name, known in KNOWN.items():
            if known.matches(problem):
                self.known[name] += 1
                return
        self.unknown.append(problem)

    def report(self) -> str:
        share = self.compiled / self.documents if self.documents else 0.0
        codes = ", ".join(f"{code} {n}" for code, n in self.codes.most_common())
        known = ", ".join(f"{name} {n}" for name, n in self.known.most_common()) or "none"
        lines = [
            f"{self.tier}: {self.documents} documents in {self.seconds:.0f} s, "
            f"{self.compiled} compiled ({share:.1%}); {len(self.unknown)} unknown problems, "
            f"known ones: {known}",
            f"  documents answered with an error of each code: {codes}",
            "  not compiled, by the field or rule that stopped them:",
        ]
        lines += [f"    {n:5d}  {reason}" for reason, n in self.reasons.most_common()]
        return "\n".join(lines)


# -- asking both apps -----------------------------------------------------------------------


@dataclass
class Answers:
    """One document's two answers: compiled reads on, and off (or what escaped the app)."""

    generated: Generated
    on: httpx.Response | str
    off: httpx.Response | str


async def _ask(hubs: Hubs, generated: Generated, headers: dict[str, str]) -> Answers:
    body = {"query": generated.query, "variables": generated.variables}
    if hubs.dialect == "sqlite":
        on = await _post(hubs.compiled, body, headers)
        return Answers(generated, on, await _post(hubs.resolvers, body, headers))
    on, off = await asyncio.gather(
        _post(hubs.compiled, body, headers), _post(hubs.resolvers, body, headers)
    )
    return Answers(generated, on, off)


async def _post(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str]
) -> httpx.Response | str:
    """The response, or what escaped the app instead (a server would close the connection)."""
    try:
        return await client.post("/graphql", json=body, headers=headers)
    except asyncio.CancelledError as error:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # the test itself is cancelled
        return f"{ESCAPED}: {error!r}"
    except Exception as error:
        return f"{ESCAPED}: {error!r}"


class _Reasons(logging.Handler):
    """What hub.compiled logs at INFO: the reason a document was not compiled, by digest;
    and what hub.graphql logs of an INTERNAL error, kept by batch: the error, not its frames."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.by_digest: dict[str, str] = {}
        self.failures: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        reason = record.__dict__.get("reason")
        digest = record.__dict__.get("document_sha256")
        if isinstance(reason, str) and isinstance(digest, str):
            self.by_digest[digest] = reason
        elif record.name == "hub.graphql" and record.exc_info and record.exc_info[1]:
            error = record.exc_info[1]
            self.failures.append(f"{record.getMessage()}: {type(error).__name__}: {error}"[:600])


@contextmanager
def _reasons() -> Iterator[_Reasons]:
    """The reasons, while the records of hub.compiled (thousands) and of hub.graphql (an
    INTERNAL error's traceback, with every frame it holds) stay out of pytest's captured log,
    which would keep them all alive for the collector to walk again and again."""
    handler = _Reasons()
    compiled, graphql = logging.getLogger("hub.compiled"), logging.getLogger("hub.graphql")
    level = compiled.level
    compiled.setLevel(logging.INFO)
    compiled.addHandler(handler)
    graphql.addHandler(handler)
    compiled.propagate = graphql.propagate = False
    try:
        yield handler
    finally:
        compiled.propagate = graphql.propagate = True
        graphql.removeHandler(handler)
        compiled.removeHandler(handler)
        compiled.setLevel(level)


@asynccontextmanager
async def _leaks_tolerated() -> AsyncIterator[None]:
    """A request whose CancelledError escaped the app (as one did before
    test_cancelled_error_escapes_no_more) leaves its pooled connection unreturned; SQLAlchemy
    warns when the collector finds it, at any moment, which warnings-as-errors would turn
    into an error of some later test. Collected here instead, once the loop has let go of the
    cancelled tasks."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The garbage collector is trying", SAWarning)
        try:
            yield
        finally:
            for _ in range(3):
                await asyncio.sleep(0)
            gc.collect()


async def _freeze_what_lives(escaped: bool) -> None:
    """Every document met for the first time leaves a plan and a parsed document in the
    apps' caches, about a thousand objects that live on; left to the collector, each full
    collection walks all of them again, and took half of this module's time. The young
    garbage is collected first (cheap), so little of it is frozen; gc.unfreeze() at the end of
    the module hands the rest back to the collector. After a request escaped the app, the
    collection is a full one, within ``_leaks_tolerated``, so that its unreturned connection
    is not frozen to be found later."""
    if escaped:
        for _ in range(3):
            await asyncio.sleep(0)
        gc.collect()
    else:
        gc.collect(1)
    gc.freeze()


def _digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()[:16]


def _comparable(answer: dict[str, Any]) -> dict[str, Any]:
    """Data as is; errors by message, code and path, in a stable order."""
    errors = sorted(
        (
            error.get("message"),
            (error.get("extensions") or {}).get("code"),
            json.dumps(error.get("path")),
        )
        for error in answer.get("errors") or ()
    )
    return {"data": written(answer.get("data")), "errors": errors}


def _alike(on: dict[str, Any], off: dict[str, Any]) -> bool:
    """Equal, as ``_comparable`` sees them. But when an error nulls the whole answer, graphql-
    core cancels the fields still running, so whether their own errors made it into the answer
    depends on which finished first: then both answers must be null, and the errors of one must
    be among the other's (the same messages, codes and paths), none of them made up."""
    a, b = _comparable(on), _comparable(off)
    if a == b:
        return True
    if a["data"] is not None or b["data"] is not None or not a["errors"] or not b["errors"]:
        return False
    return set(a["errors"]) <= set(b["errors"]) or set(b["errors"]) <= set(a["errors"])


# -- the test -------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", TIERS)
async def test_generated_documents_answer_alike_compiled_or_not(
    hubs: Hubs, tier: str, compiled_errors: list[logging.LogRecord]
) -> None:
    schema = build_schema(TIERS[tier])._schema
    generator = DocumentGenerator(
        schema,
        hubs.world.pools,
        seed=SEED + len(tier),
        max_depth=min(Settings().limits.of(TIERS[tier]).max_depth, MAX_DEPTH),
        excluded=frozenset(EXCLUDED),
        root_weights=ROOT_WEIGHTS,
    )
    headers = bearer(hubs.tokens[tier])
    tally = Tally(f"{hubs.dialect} {tier}")
    batch_size = BATCH
    started = time.perf_counter()
    async with _leaks_tolerated():
        with _reasons() as reasons:
            while tally.documents < DOCUMENTS_PER_TIER:
                # A batch is written before any of its answers is harvested, and harvested in
                # order, so the sequence stays the same however the requests interleave.
                batch = [generator.next() for _ in range(batch_size)]
                reasons.failures.clear()
                if hubs.dialect == "sqlite":
                    answered = [await _ask(hubs, g, headers) for g in batch]
                else:
                    answered = await asyncio.gather(*(_ask(hubs, g, headers) for g in batch))
                if compiled_errors:
                    compiled_errors.clear()
                    await _find_failed_statements(hubs, batch, headers, compiled_errors, tally)
                for answers in answered:
                    _check(answers, tally, reasons)
                    if not isinstance(answers.off, str):
                        generator.harvest(answers.generated, answers.off.json().get("data"))
                escaped = any(isinstance(a.on, str) or isinstance(a.off, str) for a in answered)
                await _freeze_what_lives(escaped)
    tally.seconds = time.perf_counter() - started

    report = tally.report()
    print("\n" + report)
    with hubs.summary.open("a") as out:
        out.write(report + "\n")
        for problem in tally.problems:
            out.write(f"{problem}\n")

    missing = reachable_fields(schema) - generator.covered - set(EXCLUDED)
    assert missing == set(), f"fields no document reached: {sorted(missing)}"
    assert tally.unknown == [], "\n\n".join(str(p) for p in tally.unknown[:5])
    unexpected = sorted(set(tally.reasons) - set(NOT_COMPILED))
    assert unexpected == [], f"documents the compiler should take and did not: {unexpected}"
    assert tally.compiled / tally.documents >= COMPILED_FLOOR[tier], report


def _check(answers: Answers, tally: Tally, reasons: _Reasons) -> None:
    generated, on, off = answers.generated, answers.on, answers.off
    tally.documents += 1
    if isinstance(on, str) or isinstance(off, str):
        tally.add(Problem(ESCAPED, generated, f"compiled on: {on}\ncompiled off: {off}"))
        return
    plan = on.headers.get("x-hub-plan")
    assert plan in ("compiled", "resolvers"), (str(generated), on.status_code, on.text)
    assert off.headers.get("x-hub-plan") == "resolvers", (str(generated), off.text)
    assert on.status_code == off.status_code, (str(generated), on.text, off.text)
    assert on.headers["content-type"].startswith("application/json"), str(generated)
    answer_on, answer_off = on.json(), off.json()
    if plan == "compiled":
        tally.compiled += 1
    else:
        reason = reasons.by_digest.get(_digest(generated.query), "arguments the resolvers refuse")
        tally.reasons[reason] += 1
    codes = {(e.get("extensions") or {}).get("code") for e in answer_off.get("errors") or ()}
    tally.codes.update(codes)
    if "INTERNAL" in codes or on.status_code >= 500:
        logged = "\n  ".join(reasons.failures)  # of the whole batch: which one is not known
        detail = f"answer: {off.text}\nlogged by hub.graphql in its batch:\n  {logged}"
        tally.add(Problem("internal error", generated, detail))
    if not _alike(answer_on, answer_off):
        detail = (
            f"compiled on:  {json.dumps(answer_on, ensure_ascii=False)}\n"
            f"compiled off: {json.dumps(answer_off, ensure_ascii=False)}"
        )
        tally.add(Problem("difference", generated, detail))


async def _find_failed_statements(
    hubs: Hubs,
    batch: list[Generated],
    headers: dict[str, str],
    compiled_errors: list[logging.LogRecord],
    tally: Tally,
) -> None:
    """A compiled statement failed in this batch: ask its documents again one at a time to
    tell which (the plan is kept, so the same statement runs again)."""
    for generated in batch:
        body = {"query": generated.query, "variables": generated.variables}
        await _post(hubs.compiled, body, headers)
        if compiled_errors:
            messages = "; ".join(str(r.exc_info[1]) for r in compiled_errors if r.exc_info)
            tally.add(Problem("failed compiled statement", generated, messages))
            compiled_errors.clear()


# -- each known defect, alone: these pass once it is fixed -----------------------------------


async def _both(
    hubs: Hubs, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> tuple[httpx.Response, httpx.Response]:
    body = {"query": query, "variables": variables or {}}
    on, off = await asyncio.gather(
        hubs.compiled.post("/graphql", json=body, headers=bearer(token)),
        hubs.resolvers.post("/graphql", json=body, headers=bearer(token)),
    )
    return on, off


@pytest.mark.parametrize("root", ["blacklist", "enterprises", "licences", "spotChecks", "recalls"])
async def test_district_region_code(
    hubs: Hubs, root: str, compiled_errors: list[logging.LogRecord]
) -> None:
    query = f'{{ {root}(filter: {{regionCode: "440305"}}) {{ totalCount }} }}'
    try:
        on, off = await _both(hubs, query)
        failed = [str(r.exc_info[1]) for r in compiled_errors if r.exc_info]
    finally:
        compiled_errors.clear()
    assert off.json() == {"data": {root: {"totalCount": 0}}}
    assert on.json() == off.json()
    assert failed == []


async def _first_cursor(hubs: Hubs, order: str) -> str:
    query = f"{{ enterprises(order: {order}, first: 1) {{ edges {{ cursor }} }} }}"
    response = await hubs.resolvers.post("/graphql", json={"query": query})
    cursor: str = response.json()["data"]["enterprises"]["edges"][0]["cursor"]
    return cursor


@pytest.mark.parametrize(
    ("given", "made_by", "selection"),
    [
        ("NEWEST", "NAME", "totalCount"),
        ("OLDEST", "NAME", "nodes { name }"),
        ("NAME", "NEWEST", "nodes { name }"),
    ],
)
async def test_cursor_of_another_order(
    hubs: Hubs,
    given: str,
    made_by: str,
    selection: str,
    compiled_errors: list[logging.LogRecord],
) -> None:
    cursor = await _first_cursor(hubs, made_by)
    query = f"query($c: String) {{ enterprises(order: {given}, after: $c) {{ {selection} }} }}"
    try:
        on, off = await _both(hubs, query, {"c": cursor})
        failed = [str(r.exc_info[1]) for r in compiled_errors if r.exc_info]
    finally:
        compiled_errors.clear()
    codes = [e["extensions"]["code"] for e in off.json().get("errors", [])]
    assert codes == ["BAD_USER_INPUT"], off.json()
    assert on.json() == off.json()
    assert failed == []


async def test_search_facets_that_tie(hubs: Hubs) -> None:
    # The public sees two enterprises named 乳业, one of them listed in force: a tie.
    query = '{ searchEnterprises(query: "乳业") { facets { blacklisted { value count } } } }'
    on, off = await _both(hubs, query)
    facets = off.json()["data"]["searchEnterprises"]["facets"]["blacklisted"]
    assert sorted((f["value"], f["count"]) for f in facets) == [(False, 1), (True, 1)]
    assert on.json() == off.json()


async def test_cancelled_error_escapes_no_more(hubs: Hubs) -> None:
    query = (
        "{ enterprises { nodes { licences(first: 2) { nodes { enterprise {"
        ' blacklistEntries { removalReason } creditHistory(after: "not-a-cursor") { totalCount }'
        " } } } blacklistEntries { removalReason } } } }"
    )
    async with _leaks_tolerated():
        answers = await _ask(hubs, Generated(0, query, {}, set(), [], set()), {})
    assert not isinstance(answers.off, str), answers.off
    assert not isinstance(answers.on, str), answers.on
    assert answers.off.status_code == 200
    codes = {e["extensions"]["code"] for e in answers.off.json()["errors"]}
    assert codes == {"BAD_USER_INPUT"}


@pytest.mark.parametrize(
    ("selection", "after_the_last"),
    [("", False), ("totalCount", False), ("", True)],
)
async def test_previous_page_alone(
    hubs: Hubs, selection: str, after_the_last: bool, compiled_errors: list[logging.LogRecord]
) -> None:
    variables: dict[str, Any] = {}
    if after_the_last:
        listed = await hubs.resolvers.post(
            "/graphql", json={"query": "{ blacklist(first: 100) { edges { cursor } } }"}
        )
        variables["c"] = listed.json()["data"]["blacklist"]["edges"][-1]["cursor"]
    query = (
        "query($c: String) { blacklist(first: 1, after: $c) "
        f"{{ {selection} pageInfo {{ hasPreviousPage }} }} }}"
    )
    try:
        on, off = await _both(hubs, query, variables)
        failed = [str(r.exc_info[1]) for r in compiled_errors if r.exc_info]
    finally:
        compiled_errors.clear()
    expected: dict[str, Any] = {"pageInfo": {"hasPreviousPage": after_the_last}}
    if selection:
        expected = {"totalCount": 10, **expected}  # the public sees 10 listings in force
    assert off.json() == {"data": {"blacklist": expected}}
    assert on.json() == off.json()
    assert failed == []
    assert on.headers["x-hub-plan"] == "compiled"


@pytest.mark.parametrize("root", ["complaints", "complaintCounts"])
async def test_a_date_for_an_instant(hubs: Hubs, root: str) -> None:
    selection = "totalCount" if root == "complaints" else "count"
    query = f'{{ {root}(filter: {{receivedBefore: "2025-03-01"}}) {{ {selection} }} }}'
    on, off = await _both(hubs, query, token=hubs.tokens["internal"])
    errors = off.json()["errors"]
    assert [e["extensions"] for e in errors] == [
        {"code": "BAD_USER_INPUT", "argument": "filter.receivedBefore"}
    ], errors
    assert "an instant needs its UTC offset" in errors[0]["message"]
    assert on.json() == off.json()

    offset = query.replace("2025-03-01", "2025-03-01T00:00:00+08:00")
    on, off = await _both(hubs, offset, token=hubs.tokens["internal"])
    assert "errors" not in off.json(), off.json()
    assert on.json() == off.json()


async def test_a_search_beside_other_fields_under_concurrent_requests(hubs: Hubs) -> None:
    """Sixteen requests at once, each a search beside fields of the same operation's session:
    none may fail for sharing the session (the documents of this module found it)."""
    query = (
        "{ statistics { spotChecksByCategory { category } }"
        ' searchRecalls(query: "奶粉", first: 10) { totalCountExact } }'
    )
    headers = bearer(hubs.tokens["internal"])
    responses = await asyncio.gather(
        *(hubs.compiled.post("/graphql", json={"query": query}, headers=headers) for _ in range(16))
    )
    answers = [response.json() for response in responses]
    assert [a.get("errors") for a in answers] == [None] * 16, answers[0]
    assert {json.dumps(a["data"]["searchRecalls"]) for a in answers} == {
        '{"totalCountExact": true}'
    }
