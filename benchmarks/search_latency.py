"""Search latency per backend and reindex throughput on demo data.

    python benchmarks/search_latency.py --database-url postgresql+asyncpg://... \
        [--search-url http://127.0.0.1:9241] [--enterprises 1000000] [--repeat 20]

Seeds an empty database with ``hub.demo.seed.seed`` (an already seeded one is used as it is),
rebuilds the embedded index and, with --search-url, the Elasticsearch one, printing documents
per second, then runs a fixed set of queries on each backend and prints p50 and p95 latency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid

from sqlalchemy import select

from hub.db import create_engine, create_sessionmaker
from hub.demo.seed import seed
from hub.enterprise.models import Enterprise
from hub.migrate import upgrade
from search.backend import EnterpriseConditions
from search.documents import Kind
from search.elastic import ElasticBackend
from search.indexer import reindex
from search.outbox import ELASTICSEARCH, EMBEDDED
from search.service import SearchService

QUERIES: list[tuple[str, EnterpriseConditions]] = [
    ("华为", EnterpriseConditions()),
    ("石油", EnterpriseConditions()),
    ("科技", EnterpriseConditions(region_code="440000")),
    ("食品", EnterpriseConditions(credit_grades=("A", "B"), blacklisted=False)),
    ("电子有限公司", EnterpriseConditions(has_valid_licence=True)),
    ("tcl", EnterpriseConditions()),
]


def load() -> str:
    """The machine's load average (1, 5, 15 min): the figures mean little without it."""
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def main(arguments: argparse.Namespace) -> None:
    engine = create_engine(arguments.database_url, pool_size=4)
    sessionmaker = create_sessionmaker(engine)
    await upgrade(engine)
    async with sessionmaker() as session:
        empty = await session.scalar(select(Enterprise.id).limit(1)) is None
    if empty:
        report = await seed(engine, enterprises=arguments.enterprises, progress=True)
        print(f"seeded {arguments.enterprises:,} enterprises in {report.seconds:.0f}s")
    elastic = (
        ElasticBackend(arguments.search_url, prefix=f"bench-{uuid.uuid4().hex[:6]}", timeout=120)
        if arguments.search_url
        else None
    )
    try:
        targets = [EMBEDDED] + ([ELASTICSEARCH] if elastic else [])
        for target in targets:
            cpu = time.process_time()
            done = await reindex(sessionmaker, target, elastic)
            print(
                f"reindex {target}: {done.total:,} documents in {done.seconds:.1f}s, "
                f"{done.per_second:,.0f} documents/s "
                f"(this process {time.process_time() - cpu:.0f} CPU s; {load()})"
            )
        services = {EMBEDDED: SearchService()}
        if elastic is not None:
            services[ELASTICSEARCH] = SearchService(elastic)
        # A total marked >= is a lower bound (the embedded backend's COUNT_LIMIT).
        print(f"{'backend':<14}{'query':<24}{'total':>10}{'p50 ms':>9}{'p95 ms':>9}  ({load()})")
        for name, service in services.items():
            every: list[float] = []
            for text, conditions in QUERIES:
                timings: list[float] = []
                total = ""
                for _ in range(arguments.repeat):
                    async with sessionmaker() as session:
                        started = time.perf_counter()
                        answer = await service.search(
                            session,
                            Kind.ENTERPRISE,
                            text,
                            conditions,
                            first=20,
                            after=None,
                            sees_unpublished=False,
                        )
                        timings.append((time.perf_counter() - started) * 1000)
                    assert answer.backend == name, answer.reason
                    exact = answer.result.total_exact
                    total = f"{'' if exact else '>='}{answer.result.total:,}"
                every += timings
                label = text + (" +filter" if conditions != EnterpriseConditions() else "")
                print(
                    f"{name:<14}{label:<24}{total:>10}"
                    f"{percentile(timings, 0.5):>9.1f}{percentile(timings, 0.95):>9.1f}"
                )
            print(
                f"{name:<14}{'(all queries)':<24}{'':>10}"
                f"{percentile(every, 0.5):>9.1f}{percentile(every, 0.95):>9.1f}"
                f"   mean {statistics.fmean(every):.1f}  ({load()})"
            )
    finally:
        if elastic is not None:
            await elastic.drop()
            await elastic.close()
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--search-url")
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    asyncio.run(main(parser.parse_args()))
