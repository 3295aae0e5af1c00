"""The result table of a run, in Markdown: written to benchmarks/results/<date>.md and printed."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.compare.workloads import FULL_RECORD, WORKLOADS, Contestant

if TYPE_CHECKING:
    from benchmarks.compare.run import Measurement, OpenLoopMeasurement, RunResult

LABELS = {
    Contestant.HUB: "hub",
    Contestant.POSTGRAPHILE: "PostGraphile",
    Contestant.PGBENCH_HUB_SQL: "pgbench, hub's SQL",
    Contestant.PGBENCH_ONE: "pgbench, 1 statement",
}

TARGETS = {"W1": 1.5, "W1z": 1.5, "W2": 1.5, "W3": 1.5, "W5": 1.5, "W1p": 1.0}
"""Issue 11's targets, hub / PostGraphile throughput; the hub also sends one SQL statement
per request on each, W1p keeps 0.8 of the hub's own W1, and the hub's open-loop p99 stays
under OPEN_LOOP_P99_MS."""
PARTNER_OF_PUBLIC = 0.8
ONE_STATEMENT = 1.05
"""Statements per request that still count as one: the hub's background work (the search
outbox relay, every second) adds a few statements that no request sent."""
OPEN_LOOP_P99_MS = 50.0
PAGE_P95_MS = {"P1": 100.0}
"""Issue 14's target for the portal's credit page: p95 under this with its 8 clients, on an
enterprise with a full record, without errors."""


def summarise(runs: list[Measurement]) -> dict[str, Any]:
    """Rounds of one contestant on one workload: throughput over all rounds, worst p99."""
    requests = sum(r.requests for r in runs)
    seconds = sum(r.seconds for r in runs)
    memory = [r.peak_memory_bytes for r in runs if r.peak_memory_bytes is not None]
    p95 = [r.p95_ms for r in runs if r.p95_ms is not None]
    cpu = [r.cpu_seconds for r in runs if r.cpu_seconds is not None]
    return {
        "rate": requests / seconds if seconds else 0.0,
        "rounds": [r.requests / r.seconds if r.seconds else 0.0 for r in runs],
        "p50": sum(r.p50_ms for r in runs) / len(runs),
        "p95": max(p95) if p95 else None,
        "p99": max(r.p99_ms for r in runs),
        "errors": sum(r.errors for r in runs),
        "memory": max(memory) if memory else None,
        "statements": sum(r.statements for r in runs) / requests if requests else 0.0,
        "selects": sum(r.selects for r in runs) / requests if requests else 0.0,
        # Per request, in ms: only when every round recorded it.
        "cpu": 1000 * sum(cpu) / requests if requests and len(cpu) == len(runs) else None,
    }


def table(result: RunResult) -> dict[str, dict[str, dict[str, Any]]]:
    """{workload: {contestant: summary}}, in run order."""
    grouped: dict[tuple[str, str], list[Measurement]] = defaultdict(list)
    for m in result.measurements:
        grouped[m.workload, m.contestant].append(m)
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for (workload, contestant), runs in grouped.items():
        out[workload][contestant] = summarise(runs)
    return out


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def _ratios(
    workload: str,
    contestants: dict[str, dict[str, Any]],
    summary: dict[str, dict[str, dict[str, Any]]],
) -> str:
    """One row of the ratio table: throughput ratios and whether issue 11's target is met."""
    hub = contestants.get(Contestant.HUB, {})
    rate = hub.get("rate", 0.0)
    peer = contestants.get(Contestant.POSTGRAPHILE, {}).get("rate", 0.0)
    sql = contestants.get(Contestant.PGBENCH_HUB_SQL, {}).get("rate", 0.0)
    one = contestants.get(Contestant.PGBENCH_ONE, {}).get("rate", 0.0)
    wanted = TARGETS.get(workload)
    if wanted is None or not hub:
        return (
            f"| {workload} | {_ratio(rate, peer)} | {_ratio(rate, sql)} | {_ratio(rate, one)} | — |"
        )
    checks = [
        (peer > 0 and rate / peer >= wanted, f"hub >= {wanted:g}x PostGraphile"),
        (hub["statements"] <= ONE_STATEMENT, f"1 statement/request ({hub['statements']:.2f})"),
        (not hub["errors"], "no errors"),
    ]
    public = summary.get("W1", {}).get(Contestant.HUB, {}).get("rate", 0.0)
    if workload == "W1p" and public:
        checks.append(
            (
                rate / public >= PARTNER_OF_PUBLIC,
                f"{PARTNER_OF_PUBLIC:g}x the hub's W1 ({rate / public:.2f})",
            )
        )
    missed = [what for ok, what in checks if not ok]
    verdict = "met" if not missed else "not met: " + ", ".join(missed)
    wants = ", ".join(what for _, what in checks)
    return (
        f"| {workload} | {_ratio(rate, peer)} | {_ratio(rate, sql)} | {_ratio(rate, one)} "
        f"| {verdict} ({wants}) |"
    )


def _is_page(workload: str) -> bool:
    return workload in WORKLOADS and WORKLOADS[workload].page is not None


def _population(found: dict[str, Any] | None) -> tuple[str, bool]:
    """The keys of a page workload in words, and whether their record is full."""
    if not found:
        return "?", False
    full = found["lists"] == found["of"]
    if full:
        return f"{found['enterprises']:,} enterprises, each with all {found['of']} lists", True
    return (
        f"{found['enterprises']:,} enterprises with {found['lists']} of {found['of']} lists: "
        f"no enterprise of this seed has all {found['of']}",
        False,
    )


def _pages_section(
    summary: dict[str, dict[str, dict[str, Any]]], populations: dict[str, dict[str, Any]]
) -> list[str]:
    """The portal's pages (hub only), each against its p95 target."""
    pages = [w for w in summary if _is_page(w)]
    if not pages:
        return []
    lines = [
        "",
        "## The portal's pages (hub only)",
        "",
        "wrk GETs the page for a USCC drawn afresh for each request, uniformly, from the "
        "published enterprises with the fullest public credit file, the most of its lists "
        "filled (" + ", ".join(FULL_RECORD) + "; a full record has them all), over the "
        "workload's own number of connections: concurrent clients, each sending its next "
        "request when its last is answered. Errors: sockets, statuses other than 200. "
        "CPU/page: user and system CPU time of the hub's processes over the rounds, divided by "
        "the pages served: what a page costs the hub, however busy the rest of the machine.",
        "",
        "| workload | page | clients | keys | requests/s | per round | p50 ms | p95 ms | p99 ms "
        "| errors | SQL/request | CPU/page | target (issue 14) |",
        "|---|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for key in pages:
        workload = WORKLOADS[key]
        s = summary[key].get(Contestant.HUB)
        if s is None:
            continue
        keys, full = _population(populations.get(workload.population))
        p95 = s["p95"]
        wanted = PAGE_P95_MS.get(key)
        if wanted is None:
            target = "—"
        else:
            checks = [
                (p95 is not None and p95 < wanted, f"p95 < {wanted:g} ms"),
                (not s["errors"], "no errors"),
                (full, "a full record"),
            ]
            missed = [what for ok, what in checks if not ok]
            verdict = "met" if not missed else "not met: " + ", ".join(missed)
            target = f"{verdict} ({', '.join(what for _, what in checks)})"
        rounds = " / ".join(f"{r:,.0f}" for r in s["rounds"])
        cpu = "—" if s["cpu"] is None else f"{s['cpu']:.2f} ms"
        lines.append(
            f"| {key} | `GET {workload.page}` | {workload.connections} | {keys} "
            f"| {s['rate']:,.0f} | {rounds} | {s['p50']:.1f} "
            f"| {'?' if p95 is None else f'{p95:.1f}'} | {s['p99']:.1f} | {s['errors']} "
            f"| {s['statements']:.2f} / {s['selects']:.2f} | {cpu} | {target} |"
        )
    lines += ["", "p50: mean of the rounds; p95 and p99: the worst round."]
    return lines


def _open_loop_section(runs: list[OpenLoopMeasurement]) -> list[str]:
    if not runs:
        return []
    lines = [
        "",
        "## Tail latency at a fixed arrival rate (open loop)",
        "",
        "vegeta sends the workload's requests at a fixed rate, half of PostGraphile's "
        "throughput on it above, whether or not earlier requests were answered (at most "
        "the run's --open-loop-max-workers in flight), with fresh keys for each, the same "
        "sequence for both contestants; rounds alternated. A server that keeps up sends back "
        "as many answers as it is sent; one that does not lets requests queue, and its "
        "latency shows it. Sent/s below the rate asked: vegeta ran out of workers, the rate was "
        "not held.",
        "",
        "| workload | contestant | rate asked /s | sent /s (lowest round) | p50 ms | p99 ms "
        "| max ms | errors | target (issue 11) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    grouped: dict[tuple[str, str], list[OpenLoopMeasurement]] = defaultdict(list)
    for run in runs:
        grouped[run.workload, run.contestant].append(run)
    for (workload, contestant), rounds in grouped.items():
        p99 = max(r.p99_ms for r in rounds)
        errors = sum(r.errors for r in rounds)
        sent = min(r.requests / r.seconds for r in rounds)
        if contestant == Contestant.HUB:
            ok = p99 < OPEN_LOOP_P99_MS and not errors
            target = f"{'met' if ok else 'not met'} (p99 < {OPEN_LOOP_P99_MS:g} ms, no errors)"
        else:
            target = "—"
        lines.append(
            f"| {workload} | {LABELS[Contestant(contestant)]} | {rounds[0].rate:,.0f} "
            f"| {sent:,.0f} | {sum(r.p50_ms for r in rounds) / len(rounds):.1f} | {p99:.1f} "
            f"| {max(r.max_ms for r in rounds):,.1f} | {errors} | {target} |"
        )
    lines += ["", "p50: mean of the rounds; p99 and max: the worst round."]
    return lines


def render(result: RunResult) -> str:
    o = result.options
    env = result.environment
    lines = [
        f"# Benchmark run {result.started}",
        "",
        f"`benchmarks/run` with {int(o['enterprises']):,} enterprises; each workload "
        f"{float(o['duration']):g} s per contestant per round, {o['rounds']} rounds "
        f"(contestants alternated A B C D A B C D), {o['connections']} connections, "
        f"{o['threads']} load-generator threads, warm-up {float(o['warmup']):g} s each.",
        "",
        f"Machine: {env['cpus']} CPUs, {env['memory']}, Linux {env['kernel']}; load average "
        f"(1, 5, 15 min) {env['load average at start']} at the start, "
        f"{env.get('load average at end', '?')} at the end. CPU pinning: "
        + (f"every process on CPUs {o['cpus']}" if o["cpus"] != "None" else "none")
        + ".",
        "",
        f"Versions: PostgreSQL {env['postgresql']}, PostGraphile {env['postgraphile']} on Node "
        f"{env['node']}, Python {env['python']}, {env['wrk'].split(' [')[0]}, "
        f"{env['pgbench']}" + (f", {env['vegeta']}" if env.get("vegeta") else "") + ".",
        "",
        f"Hub: `hub serve --workers {result.hub_workers}`"
        + (
            " (fastest of "
            + ", ".join(f"{w} workers {r:,.0f}/s" for w, r in result.calibration.items())
            + " on W1)"
            if result.calibration
            else ""
        )
        + (
            f". PostGraphile: one Node process. Database pools: {o['connections']} connections "
            "for PostGraphile and for each hub worker, as many as the load generator opens, so "
            "that no request waits for one."
            if any(m.contestant == Contestant.POSTGRAPHILE for m in result.measurements)
            else f". PostGraphile: not started (no workload of the run has it). Database pool: "
            f"{o['connections']} connections for each hub worker."
        ),
        "",
        "## Load time",
        "",
    ]
    lt = result.load_time
    if lt.get("from_database"):
        lines.append(
            f"Not timed: the run measured a copy of `{lt['from_database']}` "
            f"({int(lt['rows']):,} rows), a database seeded before the run (`--from-database`)."
        )
    else:
        lines += _load_time(lt)
    lines += ["", "## Throughput and latency", ""]
    if result.statement_source == "pg_stat_statements":
        source = (
            "SQL/request: statements PostgreSQL ran (pg_stat_statements), all of them (BEGIN, "
            "ROLLBACK and the like included) / SELECTs only, divided by the requests served."
        )
    else:
        source = (
            "SQL/request: the server does not preload pg_stat_statements, so both figures are "
            "transactions per request (pg_stat_database: xact_commit + xact_rollback)."
        )
    lines += [
        source,
        "",
        "| workload | contestant | requests/s | per round | p50 ms | p99 ms | errors "
        "| peak memory | SQL/request |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    summary = table(result)
    for workload, contestants in summary.items():
        for contestant, s in contestants.items():
            memory = f"{s['memory'] / 2**20:,.0f} MiB" if s["memory"] else "—"
            rounds = " / ".join(f"{r:,.0f}" for r in s["rounds"])
            lines.append(
                f"| {workload} | {LABELS[Contestant(contestant)]} | {s['rate']:,.0f} | {rounds} "
                f"| {s['p50']:.1f} | {s['p99']:.1f} | {s['errors']} | {memory} "
                f"| {s['statements']:.2f} / {s['selects']:.2f} |"
            )
    lines += [
        "",
        "p50: mean of the rounds; p99: the worst round. Peak memory: proportional set size "
        "(shared pages split among their users) of the server's processes, summed, sampled "
        'every 0.25 s; pgbench has no server process of its own. "pgbench, hub\'s SQL" runs '
        "the statement the hub's compiler writes for the document (benchmarks/compare/"
        'hubsql.py), enterprises looked up by id; "pgbench, 1 statement" fetches the same '
        "data as plain rows, without building JSON. W1p, a partner's requests, has no "
        "pgbench rows: pgbench has no token to check, and its statements would be W1's.",
        "",
    ]
    for key, why in result.skipped.items():
        workload, contestant = key.split(" ", 1)
        lines.append(f"- {workload}, {LABELS[Contestant(contestant)]}: not measured: {why}")
    if result.skipped:
        lines.append("")
    # A page is the hub's alone: no ratio, its own section.
    compared = {w: c for w, c in summary.items() if not _is_page(w)}
    if compared:
        lines += [
            "## Ratios (throughput)",
            "",
            "| workload | hub / PostGraphile | hub / pgbench, hub's SQL "
            "| hub / pgbench, 1 statement | target (issue 11) |",
            "|---|---:|---:|---:|---|",
        ]
        lines += [_ratios(w, contestants, summary) for w, contestants in compared.items()]
    lines += _pages_section(summary, result.populations)
    lines += _open_loop_section(result.open_loop)
    lines += ["", "## Workloads", ""]
    for workload in summary:
        lines.append(f"- **{workload}**: {WORKLOADS[workload].title}")
    lines += [
        "",
        "## Same data",
        "",
        "Each workload's document sent to the hub and to PostGraphile (for one enterprise: a "
        "few, the one with the fullest credit file among them, and one that is not published); "
        "both answers translated to one form and compared. A page, which only the hub serves, "
        "is checked on its own.",
        "",
    ]
    for workload, check in result.same_data.items():
        if _is_page(workload):
            lines += _page_check(workload, check)
            continue
        verdict = "same data" if check["same"] else "DIFFERENT"
        lines.append(f"- {workload}: {verdict} (variables: {check['variables']})")
        if not check["same"]:
            lines.append(f"  - errors: {check['errors']}")
            lines.append(f"  - hub: {str(check['hub'])[:600]}")
            lines.append(f"  - PostGraphile: {str(check['postgraphile'])[:600]}")
    if result.profile:
        p = result.profile
        lines += [
            "",
            "## Where the hub's time goes under W1 (py-spy)",
            "",
            f"{p['samples']:,} samples of every hub process at 200 Hz while wrk ran W1 "
            f"({p['requests_per_second_while_profiled']:,.0f} requests/s under the profiler). "
            f"Raw stacks (py-spy's raw format, gzipped): `{p['raw']}`.",
            "",
            "| the hub was (whole stack) | share |",
            "|---|---:|",
        ]
        lines += [f"| {name} | {share:.1%} |" for name, share in p.get("by_activity", [])]
        lines += ["", "| own time in | share |", "|---|---:|"]
        lines += [f"| {name} | {share:.1%} |" for name, share in p["by_component"]]
        lines += ["", "| on the stack (inclusive) | share |", "|---|---:|"]
        lines += [f"| `{name}` | {share:.1%} |" for name, share in p["inclusive"]]
        lines += ["", "| own time (leaf functions) | share |", "|---|---:|"]
        lines += [f"| `{name}` | {share:.1%} |" for name, share in p["leaves"]]
    if result.search:
        lines += ["", "## W4: search (hub only, benchmarks/search_latency.py)", "", "```"]
        lines += [result.search, "```"]
    return "\n".join(lines) + "\n"


def _page_check(workload: str, check: dict[str, Any]) -> list[str]:
    """A page has no PostGraphile answer to compare: the page of a few of its keys names the
    enterprise, and the page's read has the lists the key query counted."""
    names = ", ".join(f"{uscc} {name}" for uscc, name in check["names"].items())
    if check["same"]:
        return [
            f"- {workload}: each page answered 200 with the enterprise's name, its read with "
            f"{check['lists']} lists of the full record filled, as the key query counted ({names})"
        ]
    return [f"- {workload}: WRONG PAGE ({names})", f"  - errors: {check['errors']}"]


def rerender(path: Path, output: Path) -> str:
    """The table of a run saved with ``--json``, rendered again (the profile summarised again
    from its raw stacks, when they are still in ``output``)."""
    from benchmarks.compare import profile
    from benchmarks.compare.run import Measurement, OpenLoopMeasurement, RunResult

    saved = json.loads(path.read_text())
    saved["measurements"] = [Measurement(**m) for m in saved["measurements"]]
    saved["open_loop"] = [OpenLoopMeasurement(**m) for m in saved.get("open_loop", [])]
    saved["calibration"] = {int(w): r for w, r in saved["calibration"].items()}
    result = RunResult(**saved)
    raw = output / Path(result.profile["raw"]).name if result.profile else None
    if result.profile and raw is not None and raw.exists():
        summary = profile.summarise(raw)
        result.profile.update(
            by_activity=summary.by_activity,
            by_component=summary.by_component,
            inclusive=summary.inclusive,
            leaves=summary.leaves,
        )
    return render(result)


def _load_time(lt: dict[str, Any]) -> list[str]:
    """The load-time table: the seed's rate against plain COPY of the same rows."""
    rows = int(lt["rows"])
    lines = [
        "| loader | rows | seconds | rows/s |",
        "|---|---:|---:|---:|",
    ]
    lines.append(
        f"| `hub demo seed` (its own figure; the whole command, migration and search "
        f"reindex included, {lt['seed_wall_seconds']:.1f} s) "
        f"| {rows:,} | {lt['seed_seconds']:.1f} | {rows / lt['seed_seconds']:,.0f} |"
    )
    if lt["copy_seconds"]:
        lines.append(
            f"| plain binary COPY (psql), same rows, into the migrated schema (indexes and "
            f"foreign keys in place) | {rows:,} | {lt['copy_seconds']:.1f} "
            f"| {rows / lt['copy_seconds']:,.0f} |"
        )
    bare = lt.get("bare_copy_seconds")
    if bare:
        lines.append(
            f"| plain binary COPY (psql), same rows, into bare tables (columns only) "
            f"| {rows:,} | {bare:.1f} | {rows / bare:,.0f} |"
        )
    fair = lt.get("fair_copy_seconds")
    if fair:
        lines.append(
            f"| **fair plain COPY**: into bare tables, then every key and index of the schema "
            f"built, in one transaction (what pg_restore does) | {rows:,} | {fair:.1f} "
            f"| {rows / fair:,.0f} |"
        )
    if lt["copy_seconds"]:
        against = [
            f"{lt['copy_seconds'] / lt['seed_seconds']:.2f} against COPY into the migrated schema"
        ]
        if bare:
            against.append(f"{bare / lt['seed_seconds']:.2f} against COPY into bare tables")
        if fair:
            against.append(f"**{fair / lt['seed_seconds']:.2f} against the fair plain COPY**")
        lines += [
            "",
            "`hub demo seed` rate / plain COPY rate (target: at least 0.5): "
            + ", ".join(against)
            + ".",
        ]
    return lines


if __name__ == "__main__":
    # python -m benchmarks.compare.report RESULT.json > benchmarks/results/DATE.md
    print(rerender(Path(sys.argv[1]), Path(__file__).resolve().parent.parent / "results"), end="")
