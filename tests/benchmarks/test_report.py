"""The result table's verdicts against issue 11's targets, from made-up measurements."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from benchmarks.compare.report import render, rerender
from benchmarks.compare.run import Measurement, OpenLoopMeasurement, RunResult


def _closed(workload: str, contestant: str, per_second: float, statements: float) -> Measurement:
    requests = int(per_second * 10)
    return Measurement(
        workload=workload,
        contestant=contestant,
        round=1,
        requests=requests,
        seconds=10.0,
        p50_ms=5.0,
        p99_ms=20.0,
        errors=0,
        peak_memory_bytes=100 * 2**20,
        statements=int(requests * statements),
        selects=requests,
    )


def _open(workload: str, contestant: str, p99: float, errors: int = 0) -> OpenLoopMeasurement:
    return OpenLoopMeasurement(
        workload=workload,
        contestant=contestant,
        round=1,
        rate=500,
        requests=4_000,
        seconds=10.0,
        p50_ms=2.0,
        p99_ms=p99,
        max_ms=p99 * 2,
        errors=errors,
    )


def _result() -> RunResult:
    return RunResult(
        started="2026-12-06T06:00:00+00:00",
        options={
            "enterprises": "100000",
            "duration": "10.0",
            "rounds": "1",
            "connections": "32",
            "threads": "2",
            "warmup": "3.0",
            "cpus": "None",
        },
        environment={
            "cpus": "2",
            "memory": "24 GiB",
            "kernel": "6",
            "load average at start": "1 1 1",
            "postgresql": "15",
            "postgraphile": "5.1.5",
            "node": "v22",
            "python": "3.11",
            "wrk": "wrk 4.1.0",
            "pgbench": "pgbench 15",
            "vegeta": "vegeta v12.13.0",
        },
        load_time={
            "rows": 10,
            "seed_seconds": 1.0,
            "seed_wall_seconds": 2.0,
            "copy_seconds": None,
            "tables": {},
        },
        hub_workers=1,
        calibration={},
        same_data={},
        statement_source="pg_stat_statements",
        measurements=[
            _closed("W1", "hub", 2_000, 1.0),
            _closed("W1", "postgraphile", 1_000, 1.0),
            _closed("W5", "hub", 1_600, 1.02),
            _closed("W5", "postgraphile", 1_000, 1.3),
            _closed("W1p", "hub", 1_500, 4.0),
            _closed("W1p", "postgraphile", 800, 4.4),
        ],
        open_loop=[
            _open("W1", "hub", 30.0),
            _open("W1", "postgraphile", 60.0),
            _open("W5", "hub", 70.0, errors=3),
            _open("W5", "postgraphile", 40.0),
        ],
        skipped={"W5 pgbench-hub-sql": "the hub does not compile query W5: Enterprise.products"},
    )


def test_each_workload_is_held_to_its_target() -> None:
    text = render(_result())
    assert (
        "| W1 | 2.00 | n/a | n/a | met (hub >= 1.5x PostGraphile, 1 statement/request (1.00), "
        "no errors) |"
    ) in text
    assert (
        "| W5 | 1.60 | n/a | n/a | met (hub >= 1.5x PostGraphile, 1 statement/request (1.02), "
        "no errors) |"
    ) in text
    assert (
        "| W1p | 1.88 | n/a | n/a | not met: 1 statement/request (4.00), 0.8x the hub's W1 (0.75) "
        "(hub >= 1x PostGraphile, 1 statement/request (4.00), no errors, 0.8x the hub's W1 "
        "(0.75)) |"
    ) in text
    assert (
        "- W5, pgbench, hub's SQL: not measured: the hub does not compile query W5: "
        "Enterprise.products"
    ) in text


def test_the_open_loop_table_holds_the_hub_to_50_ms() -> None:
    text = render(_result())
    assert "## Tail latency at a fixed arrival rate (open loop)" in text
    assert "| W1 | hub | 500 | 400 | 2.0 | 30.0 | 60.0 | 0 | met (p99 < 50 ms, no errors) |" in text
    assert "| W1 | PostGraphile | 500 | 400 | 2.0 | 60.0 | 120.0 | 0 | — |" in text
    assert (
        "| W5 | hub | 500 | 400 | 2.0 | 70.0 | 140.0 | 3 | not met (p99 < 50 ms, no errors) |"
        in text
    )


def test_a_saved_run_renders_again_the_same(tmp_path: Path) -> None:
    result = _result()
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps(asdict(result), default=str))
    assert rerender(saved, tmp_path) == render(result)


def _page(p95: float | None, errors: int = 0, cpu: float | None = 3.6) -> Measurement:
    return Measurement(
        workload="P1",
        contestant="hub",
        round=1,
        requests=3_000,
        seconds=10.0,
        p50_ms=20.0,
        p99_ms=140.0,
        errors=errors,
        peak_memory_bytes=150 * 2**20,
        statements=3_000,
        selects=3_000,
        p95_ms=p95,
        cpu_seconds=cpu,
    )


def _with_pages(*pages: Measurement, lists: int = 5) -> RunResult:
    result = _result()
    result.measurements += pages
    result.populations = {
        "full record": {"enterprises": 24, "lists": lists, "of": 5, "named": ["..."]}
    }
    return result


def test_the_credit_page_is_held_to_a_p95_under_100_ms_on_full_records() -> None:
    text = render(_with_pages(_page(80.0), _page(95.5)))
    assert "## The portal's pages (hub only)" in text
    assert (
        "| P1 | `GET /enterprises/{uscc}` | 8 | 24 enterprises, each with all 5 lists | 300 "
        "| 300 / 300 | 20.0 | 95.5 | 140.0 | 0 | 1.00 / 1.00 | 1.20 ms "
        "| met (p95 < 100 ms, no errors, a full record) |"
    ) in text
    # The hub's alone: no ratio against PostGraphile.
    assert "| P1 | n/a" not in text
    slow = render(_with_pages(_page(80.0), _page(100.0, errors=2)))
    assert "| not met: p95 < 100 ms, no errors (p95 < 100 ms, no errors, a full record) |" in slow
    thin = render(_with_pages(_page(50.0), lists=4))
    assert "| 24 enterprises with 4 of 5 lists: no enterprise of this seed has all 5 |" in thin
    assert "| not met: a full record (p95 < 100 ms, no errors, a full record) |" in thin


def test_a_run_of_pages_alone_has_no_ratio_table() -> None:
    result = _with_pages(_page(80.0))
    result.measurements = [m for m in result.measurements if m.workload == "P1"]
    text = render(result)
    assert "## Ratios (throughput)" not in text
    assert "PostGraphile: not started (no workload of the run has it)." in text


def test_a_run_saved_before_p95_and_pages_renders_again(tmp_path: Path) -> None:
    saved = asdict(_result())
    for measurement in saved["measurements"]:
        del measurement["p95_ms"]
    del saved["populations"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(saved, default=str))
    assert rerender(path, tmp_path) == render(_result())


def test_a_run_on_a_copy_of_a_seeded_database_times_no_load() -> None:
    seeded = render(_result())
    assert "| `hub demo seed` (its own figure; the whole command" in seeded
    result = _result()
    result.load_time = {"from_database": "p1_1m", "rows": 9_492_416, "tables": {}}
    copied = render(result)
    assert "| `hub demo seed`" not in copied
    assert (
        "## Load time\n\nNot timed: the run measured a copy of `p1_1m` (9,492,416 rows), a "
        "database seeded before the run (`--from-database`).\n\n## Throughput and latency"
    ) in copied


def test_a_page_without_its_cpu_time_in_every_round_has_none() -> None:
    text = render(_with_pages(_page(80.0), _page(95.5, cpu=None)))
    assert "| 300 / 300 | 20.0 | 95.5 | 140.0 | 0 | 1.00 / 1.00 | — | met" in text
