"""/metrics: Prometheus text for internal callers only, with the series the README lists,
each moving with what the hub does."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from hub.config import Settings
from hub.db import HubSession, create_engine
from hub.observability.metrics import OperationNames, watch_pool
from search.documents import Kind
from search.outbox import enqueue
from tests.fixtures.enterprise import make_enterprise
from tests.fixtures.limits import limits as fixed_limits
from tests.observability.conftest import Hub, scrape, token_of, value

README = Path(__file__).resolve().parents[2] / "README.md"
CREDIT_FILE = "query ObservedCreditFile($u: String!) { enterprise(uscc: $u) { uscc name } }"


def _readme_series() -> set[str]:
    section = README.read_text().split("## Operating the hub", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`(hub_[a-z_]+)`", section))


async def test_anonymous_callers_get_401_and_partners_403(
    hub: httpx.AsyncClient, session: HubSession
) -> None:
    anonymous = await hub.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}

    forged = await hub.get("/metrics", headers={"authorization": "Bearer not.a.token"})
    assert forged.status_code == 401
    assert forged.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}

    partner = await token_of(hub, session, "partner")
    refused = await hub.get("/metrics", headers={"authorization": f"Bearer {partner}"})
    assert refused.status_code == 403
    assert refused.json() == {
        "errors": [
            {
                "message": "Metrics are for the internal tier only.",
                "extensions": {"code": "FORBIDDEN"},
            }
        ]
    }


async def test_every_series_of_the_readme_is_scraped(
    settings: Settings,
    make_hub: Hub,
    session: HubSession,
) -> None:
    # given a hub with both breakers (Redis and Elasticsearch) configured
    redis = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    es = os.environ.get("HUB_TEST_ELASTICSEARCH_URL", "http://127.0.0.1:9200")
    limits = fixed_limits(public={"rate_limit": 1, "rate_window": 3600})
    configured = settings.model_copy(
        update={"redis_url": redis, "search_url": es, "limits": limits}
    )
    async with make_hub(configured) as hub:
        token = await token_of(hub, session, "internal")
        # a refusal of the rate budget and of a token, for the series that count them
        for _ in range(2):
            await hub.post("/graphql", json={"query": "{ __typename }"})
        await hub.get("/metrics", headers={"authorization": "Bearer x.y.z"})
        # when it is scraped
        response = await hub.get("/metrics", headers={"authorization": f"Bearer {token}"})
    # then every family the README names is there, with samples
    assert response.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    named = _readme_series()
    assert len(named) == 12, named
    for series in named:
        family = series.removesuffix("_total")
        assert family in families, series
        assert families[family].samples, series
    breakers = {s.labels["breaker"]: s.value for s in families["hub_breaker_state"].samples}
    assert breakers == {"redis": 0.0, "elasticsearch": 0.0, "database": 0.0}
    lags = {s.labels["backend"] for s in families["hub_search_outbox_lag_seconds"].samples}
    assert lags == {"embedded", "elasticsearch"}


async def test_a_request_moves_its_counters_with_the_right_labels(
    dialect: str, hub: httpx.AsyncClient, session: HubSession
) -> None:
    firm = await make_enterprise(session)
    await session.commit()
    token = await token_of(hub, session, "internal")
    labels = {"tier": "public", "plan": "compiled", "status": "200"}
    before = await scrape(hub, token)

    response = await hub.post(
        "/graphql", json={"query": CREDIT_FILE, "variables": {"u": firm.uscc}}
    )

    assert response.status_code == 200
    assert response.headers["x-hub-plan"] == "compiled"
    after = await scrape(hub, token)
    assert value(after, "hub_graphql_requests_total", **labels) == (
        value(before, "hub_graphql_requests_total", **labels) + 1
    )
    assert value(after, "hub_graphql_operations_total", operation="ObservedCreditFile") == (
        value(before, "hub_graphql_operations_total", operation="ObservedCreditFile") + 1
    )
    latency = {"tier": "public", "plan": "compiled"}
    assert value(after, "hub_graphql_request_duration_seconds_count", **latency) == (
        value(before, "hub_graphql_request_duration_seconds_count", **latency) + 1
    )
    # each scrape verified the internal token once more
    assert value(after, "hub_token_verifications_total", result="accepted") == (
        value(before, "hub_token_verifications_total", result="accepted") + 1
    )


async def test_refused_tokens_and_rate_limits_are_counted(
    settings: Settings,
    make_hub: Hub,
    session: HubSession,
) -> None:
    public = {"rate_limit": 2, "rate_window": 60}
    limited = settings.model_copy(update={"limits": fixed_limits(public=public)})
    async with make_hub(limited) as hub:
        token = await token_of(hub, session, "internal")
        before = await scrape(hub, token)
        # credentials that prove nothing spend the public budget of their address too
        forged = await hub.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"authorization": "Bearer x.y.z"}
        )
        statuses = [
            (await hub.post("/graphql", json={"query": "{ __typename }"})).status_code
            for _ in range(2)
        ]
        after = await scrape(hub, token)
    assert statuses == [200, 429]
    assert forged.status_code == 401
    assert forged.headers["x-hub-plan"] == "refused"
    assert value(after, "hub_rate_limit_refusals_total", tier="public") == (
        value(before, "hub_rate_limit_refusals_total", tier="public") + 1
    )
    assert value(after, "hub_token_verifications_total", result="refused") == (
        value(before, "hub_token_verifications_total", result="refused") + 1
    )
    refused = {"tier": "public", "plan": "refused", "status": "429"}
    assert value(after, "hub_graphql_requests_total", **refused) == (
        value(before, "hub_graphql_requests_total", **refused) + 1
    )
    unknown = {"tier": "unknown", "plan": "refused", "status": "401"}
    assert value(after, "hub_graphql_requests_total", **unknown) == (
        value(before, "hub_graphql_requests_total", **unknown) + 1
    )


async def test_the_outbox_lag_is_read_on_scrape(
    hub: httpx.AsyncClient, session: HubSession
) -> None:
    token = await token_of(hub, session, "internal")
    before = await scrape(hub, token)
    firm = await make_enterprise(session)
    await enqueue(session, Kind.ENTERPRISE, [firm.id])
    await session.commit()
    await asyncio.sleep(0.05)

    after = await scrape(hub, token)

    pending = value(before, "hub_search_outbox_pending", backend="embedded")
    assert value(after, "hub_search_outbox_pending", backend="embedded") == pending + 1
    assert value(after, "hub_search_outbox_lag_seconds", backend="embedded") >= 0.05


async def test_the_pool_reports_use_and_waits(
    dialect: str, database_url: str, hub: httpx.AsyncClient, session: HubSession
) -> None:
    token = await token_of(hub, session, "internal")
    # The test's own sessions use one connection of the shared engine, which the scrape reports.
    app_engine = session.bind
    samples = await scrape(hub, token)
    pool = app_engine.engine.sync_engine.pool  # type: ignore[union-attr]
    assert value(samples, "hub_db_pool_checked_out") == pool.checkedout()
    assert value(samples, "hub_db_pool_size") == pool.size()

    # An engine of one connection: the second checkout waits for the first to come back.
    engine = create_engine(database_url, pool_size=1)
    watch_pool(engine)
    try:
        before = await scrape(hub, token)
        async with engine.connect():  # the pool is empty: it opens one (a wait)
            pass
        async with engine.connect():  # the idle one: no wait
            pass
        middle = await scrape(hub, token)
        assert (
            value(middle, "hub_db_pool_waits_total") == value(before, "hub_db_pool_waits_total") + 1
        )
        checkouts = "hub_db_pool_checkout_duration_seconds_count"
        assert value(middle, checkouts) == value(before, checkouts) + 2
        if dialect == "postgres":
            holder = await engine.connect()
            waiter = asyncio.ensure_future(engine.connect())
            await asyncio.sleep(0.2)
            assert not waiter.done()
            await holder.close()
            await (await waiter).close()
            after = await scrape(hub, token)
            assert (
                value(after, "hub_db_pool_waits_total")
                == value(middle, "hub_db_pool_waits_total") + 1
            )
            buckets = "hub_db_pool_checkout_duration_seconds_bucket"
            for bound, checkouts in (("0.1", 1), ("+Inf", 2)):  # the waiter's took 0.2 s
                moved = value(after, buckets, le=bound) - value(middle, buckets, le=bound)
                assert moved == checkouts, bound
    finally:
        await engine.dispose()


async def test_a_breaker_that_opens_is_reported(
    settings: Settings,
    make_hub: Hub,
    session: HubSession,
) -> None:
    # Nothing listens on port 9: Redis "fails" at the first request and its breaker opens.
    gone = settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"})
    async with make_hub(gone) as hub:
        token = await token_of(hub, session, "internal")
        closed = await scrape(hub, token)
        await hub.post("/graphql", json={"query": "{ __typename }"})
        opened = await scrape(hub, token)
    assert value(closed, "hub_breaker_state", breaker="redis") == 0.0
    assert value(opened, "hub_breaker_state", breaker="redis") == 2.0


def test_operation_names_are_bounded() -> None:
    names = OperationNames(limit=2)
    assert [names.label(n) for n in ("A", "B", "C", "A", None, "bad name", "")] == [
        "A",
        "B",
        "other",
        "A",
        "anonymous",
        "other",
        "anonymous",
    ]


async def test_a_document_names_its_operation_when_the_request_does_not(
    hub: httpx.AsyncClient, session: HubSession
) -> None:
    token = await token_of(hub, session, "internal")
    before = await scrape(hub, token)
    await hub.post("/graphql", json={"query": "# a comment\nquery  Named { __typename }"})
    await hub.post("/graphql", json={"query": "{ __typename }"})
    after = await scrape(hub, token)
    for name in ("Named", "anonymous"):
        assert value(after, "hub_graphql_operations_total", operation=name) == (
            value(before, "hub_graphql_operations_total", operation=name) + 1
        )
