"""Elasticsearch hung and stopped under the hub: searches answer from the embedded index.

A search waits ``HUB_SEARCH_QUERY_TIMEOUT`` for Elasticsearch at most; the first failure opens
the breaker, after which searches answer from the embedded index at once and one search per
``HUB_SEARCH_RETRY_INTERVAL`` tries Elasticsearch again. So a node that hangs costs the searches
already waiting on it and one per interval, not every search that starts meanwhile; and the
log says once that it failed and once that it answers again.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest

from hub.app import create_app
from hub.config import Settings
from hub.db import create_engine, create_sessionmaker, transaction
from hub.migrate import upgrade
from search.elastic import ElasticBackend
from search.indexer import reindex
from search.outbox import ELASTICSEARCH, EMBEDDED
from tests.faults.conftest import (
    Call,
    Outcome,
    dishonest,
    dispose,
    late,
    messages,
    problems,
    roomy_limits,
    send,
    tracebacks,
    until,
)
from tests.faults.services import Elasticsearch
from tests.search.corpus import make_corpus

TIMEOUT = 1.0
RETRY_INTERVAL = 2.0
BOUND = TIMEOUT + 1.0
SEARCH = Call(
    "search",
    "POST",
    "/graphql",
    {"json": {"query": '{ searchEnterprises(query: "华为") { totalCount nodes { name } } }'}},
)
FAILED = "elasticsearch failed, searches answer from the embedded index: "
BACK = "elasticsearch answers searches again after "


@pytest.fixture(scope="module")
def elasticsearch() -> Iterator[Elasticsearch]:
    server = Elasticsearch()
    server.start()
    try:
        yield server
    finally:
        server.close()


@dataclass(frozen=True, slots=True)
class Hub:
    client: httpx.AsyncClient
    elasticsearch: Elasticsearch

    async def ask(self) -> Outcome:
        return await send(self.client, SEARCH)

    async def answered_by_elasticsearch(self) -> bool:
        return _backend(await self.ask()) == "elasticsearch"


def _backend(outcome: Outcome) -> str | None:
    assert outcome.response is not None
    return outcome.response.json().get("extensions", {}).get("search", {}).get("backend")


def _answer(outcome: Outcome) -> object:
    assert outcome.response is not None
    return outcome.response.json()["data"]


@pytest.fixture(scope="module")
async def hub(
    elasticsearch: Elasticsearch, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Hub]:
    folder = tmp_path_factory.mktemp("hub")
    url = f"sqlite+aiosqlite:///{folder / 'hub.db'}"
    engine = create_engine(url)
    await upgrade(engine)
    maker = create_sessionmaker(engine)
    async with transaction(maker) as session:
        await make_corpus(session)
    await reindex(maker, EMBEDDED)
    elastic = ElasticBackend(elasticsearch.url, prefix="hub", timeout=30)
    await reindex(maker, ELASTICSEARCH, elastic)
    await elastic.close()
    await engine.dispose()
    settings = Settings(
        database_url=url,
        search_url=elasticsearch.url,
        search_index_prefix="hub",
        search_query_timeout=TIMEOUT,
        search_retry_interval=RETRY_INTERVAL,
        signing_key_path=folder / "key.pem",
        limits=roomy_limits(),
    )
    app = create_app(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test"
    ) as client:
        yield Hub(client, elasticsearch)
    await app.state.search.close()
    await dispose(app)


def _within(outcome: Outcome) -> str | None:
    return late(outcome, BOUND)


async def test_a_hung_elasticsearch_costs_one_slow_search_per_retry(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    before = await hub.ask()
    assert _backend(before) == "elasticsearch"
    caplog.set_level(logging.INFO)
    caplog.clear()
    # when: the node stops answering while four clients search as fast as they can
    outcomes: list[Outcome] = []
    streams, seconds = 4, 2.5 * RETRY_INTERVAL

    async def stream(until: float) -> None:
        while time.monotonic() < until:
            outcomes.append(await hub.ask())

    hub.elasticsearch.hang()
    try:
        await asyncio.gather(*(stream(time.monotonic() + seconds) for _ in range(streams)))
    finally:
        hub.elasticsearch.resume()
    # then: every search answered in time, from the embedded index, with the same results
    assert problems(outcomes, dishonest, _within) == []
    assert {outcome.status for outcome in outcomes} == {200}
    assert {_backend(outcome) for outcome in outcomes} == {"embedded"}
    assert all(_answer(outcome) == _answer(before) for outcome in outcomes)
    # ... and only the searches in flight when it hung, and one per retry, waited for it (a
    # search of the embedded index takes tens of milliseconds; give or take one pause of the
    # machine, which would slow a search of every client at once)
    slow = [outcome for outcome in outcomes if outcome.seconds >= TIMEOUT * 0.9]
    assert len(slow) <= 2 * streams + math.ceil(seconds / RETRY_INTERVAL), slow
    assert len(outcomes) >= 10 * len(slow)
    # ... and once it answers, searches go to it again
    assert await until(hub.answered_by_elasticsearch, RETRY_INTERVAL + 5)
    assert len(messages(caplog.records, "hub.search", FAILED)) == 1
    assert len(messages(caplog.records, "hub.search", BACK)) == 1
    assert tracebacks(caplog.records) == []


async def test_a_stopped_elasticsearch_is_replaced_by_the_embedded_index_at_once(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    before = await hub.ask()
    assert _backend(before) == "elasticsearch"
    caplog.set_level(logging.INFO)
    caplog.clear()
    # when: the node is gone (the last test of the module: it is not started again)
    hub.elasticsearch.kill()
    outcomes = [await hub.ask() for _ in range(20)]
    # then
    assert problems(outcomes, dishonest, _within) == []
    assert {outcome.status for outcome in outcomes} == {200}
    assert {_backend(outcome) for outcome in outcomes} == {"embedded"}
    assert all(_answer(outcome) == _answer(before) for outcome in outcomes)
    assert outcomes[0].response is not None
    reason = outcomes[0].response.json()["extensions"]["search"]["reason"]
    assert reason.startswith("elasticsearch unavailable: search: ConnectionError"), reason
    assert len(messages(caplog.records, "hub.search", FAILED)) == 1
    assert tracebacks(caplog.records) == []
