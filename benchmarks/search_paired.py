"""Two hubs answering the same searches in turn, one client: main against a branch.

``search_latency.py`` replays one hub after the other; on a shared machine the load moves
between the two replays by more than a change of a millisecond or two does. Here two
``hub serve`` processes, each from its own checkout (its own ``PYTHONPATH``), answer every
random draw of the query set one after the other, in a random order per draw, so that the load
falls on both alike. With ``--search-url`` they search Elasticsearch, and each draw of a text
query also goes to Elasticsearch directly, in the same random order (``Direct``, as in
``search_latency.py``): it prints, and writes as JSON, each hub's p50 and p95 and its own cost
(its p50 of the text queries minus the direct p50). Without it they search the embedded
index of the one database (two checkouts whose migrations differ cannot share one): each hub's
p50 and p95, and per query.

    python -m benchmarks.search_paired --database-url postgresql+asyncpg://... \\
        --search-url http://127.0.0.1:9241 --search-prefix s1m \\
        --tree main=/tmp/main-checkout --tree branch=. --output /tmp/paired.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from benchmarks.search_latency import (
    QUERIES,
    Direct,
    Hub,
    Replay,
    hub_server,
    load,
    load_queries,
    percentile,
    python_speed,
    summary,
)
from search.elastic import ElasticBackend
from search.outbox import ELASTICSEARCH, EMBEDDED


async def main(arguments: argparse.Namespace) -> dict[str, Any]:
    queries = load_queries(arguments.queries)
    trees: dict[str, str] = dict(arguments.tree)
    elastic = (
        ElasticBackend(arguments.search_url, prefix=arguments.search_prefix, timeout=300)
        if arguments.search_url
        else None
    )
    backend = EMBEDDED if elastic is None else ELASTICSEARCH
    result: dict[str, Any] = {
        "load_before": load(),
        "python_loop_ms_before": python_speed(),
        "backend": backend,
        "trees": trees,
        "repeat": arguments.repeat,
    }
    direct = Direct(elastic, queries.queries) if elastic is not None else None
    straight: dict[str, list[float]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="search-paired-") as logs, ExitStack() as stack:
            replays: dict[str, Replay] = {}
            hubs: dict[str, Hub] = {}
            for number, (label, tree) in enumerate(trees.items()):
                # hub_server passes this process's environment on: each hub its own code.
                os.environ["PYTHONPATH"] = tree
                hubs[label] = stack.enter_context(
                    hub_server(arguments.database_url, arguments.port + number, Path(logs), elastic)
                )
                replays[label] = Replay(hubs[label].url, queries, backend)
            timings: dict[str, dict[str, list[float]]] = {
                label: {q.id: [] for q in queries.queries} for label in trees
            }
            chooser = random.Random(arguments.draw_seed)
            async with httpx.AsyncClient(timeout=120) as client:
                for query in queries.queries * 2:
                    # The node first (``Replay.latencies``).
                    if direct is not None and direct.sends(query):
                        await direct.send(client, query)
                    for replay in replays.values():
                        await replay.send(client, query)
                cpu = {label: hub.cpu_seconds() for label, hub in hubs.items()}
                for _ in range(arguments.repeat * len(queries.queries)):
                    query = chooser.choice(queries.queries)
                    order: list[str | None] = list(trees)
                    if direct is not None and direct.sends(query):
                        order.append(None)  # Elasticsearch directly
                    chooser.shuffle(order)
                    for who in order:
                        if who is None:
                            assert direct is not None
                            found = straight.setdefault(query.id, [])
                            found.append(await direct.send(client, query))
                        else:
                            found = timings[who][query.id]
                            found.append(await replays[who].send(client, query))
                for label, hub in hubs.items():
                    cpu[label] = hub.cpu_seconds() - cpu[label]
    finally:
        if elastic is not None:
            await elastic.close()
    if straight:
        result["direct"] = summary(straight)
    for label in trees:
        own: dict[str, float] = {}
        if straight:
            hub_text = summary(timings[label], set(straight))["p50_ms"]
            own = {
                "hub_p50_ms_text_queries": hub_text,
                "hub_cost_ms": round(hub_text - result["direct"]["p50_ms"], 2),
            }
        result[label] = {
            **summary(timings[label]),
            **own,
            "hub_cpu_ms_per_request": round(
                cpu[label] * 1000 / sum(map(len, timings[label].values())), 2
            ),
            "errors": sum(len(found) for found in replays[label].errors.values()),
            "per_query_p50_ms": {
                key: round(percentile(values, 0.5), 2)
                for key, values in timings[label].items()
                if values
            },
        }
    result["load_after"] = load()
    result["python_loop_ms_after"] = python_speed()
    return result


def _tree(value: str) -> tuple[str, str]:
    label, _, path = value.partition("=")
    return label, str(Path(path).resolve())


def parser() -> argparse.ArgumentParser:
    made = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    made.add_argument("--database-url", required=True)
    made.add_argument("--search-url", help="Elasticsearch; without it the embedded index")
    made.add_argument("--search-prefix", help="of indices already built (with --search-url)")
    made.add_argument(
        "--tree",
        action="append",
        required=True,
        type=_tree,
        help="label=checkout, twice (or more)",
    )
    made.add_argument("--repeat", type=int, default=20, help="draws per query of the set")
    made.add_argument("--queries", type=Path, default=QUERIES)
    made.add_argument("--port", type=int, default=4391, help="of the first hub; the next +1")
    made.add_argument("--draw-seed", type=int, default=15)
    made.add_argument("--output", type=Path, help="a .json file")
    return made


if __name__ == "__main__":
    made = parser()
    options = made.parse_args()
    if options.search_url and not options.search_prefix:
        made.error("--search-url needs --search-prefix (the indices to search)")
    found = asyncio.run(main(options))
    shown = {
        key: {k: v for k, v in value.items() if k != "per_query_p50_ms"}
        if isinstance(value, dict)
        else value
        for key, value in found.items()
    }
    print(json.dumps(shown, ensure_ascii=False, indent=1))
    if options.output is not None:
        options.output.write_text(json.dumps(found, ensure_ascii=False, indent=2))
