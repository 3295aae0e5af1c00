"""Tail latency at a fixed arrival rate: vegeta, an open-loop load generator.

wrk keeps 32 connections busy: a request is sent only when an answer came back, so on 2 cores
its p99 measures the queue in front of the server as much as the server (coordinated
omission). vegeta sends requests at a fixed rate whether or not earlier ones were answered,
each from a worker of its own, so a slow answer delays no later request and shows in the
percentiles as it would to users arriving independently. The rate is half of PostGraphile's
peak on the workload, measured by the closed-loop rounds of the same run, and both
contestants get the same rate and the same sequence of keys.

vegeta is installed from its Go module with ``go install`` (the module cache is Go's own, so a
machine that installed it once needs no network) into the user's cache directory, one folder
per version.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.compare.workloads import Contestant, Workload

MODULE = "github.com/tsenart/vegeta/v12"
VERSION = "v12.13.0"
GO = Path("/usr/local/go/bin/go")
"""Where the machine's Go lives when it is not on PATH."""

csv.field_size_limit(sys.maxsize)  # a result row carries the whole answer, base64-encoded


@dataclass(frozen=True, slots=True)
class OpenLoopResult:
    rate: float
    """Requests per second asked of vegeta."""
    requests: int
    seconds: float
    """The attack's length: requests / seconds is the rate vegeta sustained."""
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    """Transport errors and timeouts, statuses other than 200, answers with GraphQL errors."""

    @property
    def sent_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def vegeta_binary() -> Path:
    """vegeta at ``VERSION``, installed with ``go install`` the first time."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "hub-benchmarks" / f"vegeta-{VERSION}"
    binary = folder / "vegeta"
    if binary.exists():
        return binary
    go = shutil.which("go") or (str(GO) if GO.exists() else None)
    if go is None:
        raise RuntimeError(f"Go is needed to install vegeta ({MODULE}): not on PATH, not at {GO}")
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [go, "install", f"{MODULE}@{VERSION}"],
        env={**os.environ, "GOBIN": str(folder)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not binary.exists():
        raise RuntimeError(f"go install {MODULE}@{VERSION} failed:\n{done.stderr[-3000:]}")
    return binary


def write_targets(
    workload: Workload,
    contestant: Contestant,
    url: str,
    keys: list[str],
    path: Path,
    count: int,
    seed: int,
    authorization: str | None = None,
) -> Path:
    """``count`` requests for vegeta (its JSON target format), each with keys drawn afresh,
    uniformly, from ``keys``; the same ``seed`` gives every contestant the same sequence."""
    if workload.zipf:
        raise ValueError(f"{workload.key}: open-loop targets draw uniform keys only")
    header = {"Content-Type": ["application/json"]}
    if authorization is not None:
        header["Authorization"] = [authorization]
    draw = random.Random(seed)
    document = workload.documents[contestant]
    with path.open("w") as out:
        for _ in range(count if workload.keys else 1):
            body: dict[str, object] = {"query": document}
            if workload.keys:
                body["variables"] = {name: draw.choice(keys) for name in workload.keys}
            payload = json.dumps(body, ensure_ascii=False).encode()
            target = {
                "method": "POST",
                "url": url,
                "header": header,
                "body": base64.b64encode(payload).decode(),
            }
            out.write(json.dumps(target) + "\n")
    return path


def run_vegeta(
    targets: Path, rate: float, duration: float, directory: Path, max_workers: int
) -> OpenLoopResult:
    """An attack of ``duration`` seconds at ``rate`` requests per second; the targets are
    used in turn (and again from the start, if there are fewer than the requests)."""
    binary = vegeta_binary()
    results = directory / "vegeta-results.bin"
    attack = [
        str(binary),
        "attack",
        "-format=json",
        f"-targets={targets}",
        f"-rate={max(1, round(rate))}/1s",
        f"-duration={duration:g}s",
        "-timeout=10s",
        f"-max-workers={max_workers}",
        f"-output={results}",
    ]
    done = subprocess.run(attack, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"vegeta attack failed ({done.returncode}): {done.stderr[-2000:]}")
    latencies: list[int] = []
    errors = 0
    for code, latency, error, body in _results(binary, results):
        latencies.append(latency)
        if code != 200 or error or b'"errors"' in body:
            errors += 1
    results.unlink()
    if not latencies:
        raise RuntimeError("vegeta sent no request")
    latencies.sort()

    def percentile(share: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * share))] / 1e6

    return OpenLoopResult(
        rate=max(1, round(rate)),
        requests=len(latencies),
        seconds=duration,
        p50_ms=percentile(0.50),
        p99_ms=percentile(0.99),
        max_ms=latencies[-1] / 1e6,
        errors=errors,
    )


def _results(binary: Path, results: Path) -> Iterator[tuple[int, int, str, bytes]]:
    """(status, latency in ns, error, body) of every request, from vegeta's CSV encoding:
    timestamp, code, latency, bytes out, bytes in, error, base64 body, ..."""
    with subprocess.Popen(
        [str(binary), "encode", "--to", "csv", str(results)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as encode:
        assert encode.stdout is not None
        for row in csv.reader(encode.stdout):
            yield int(row[1]), int(row[2]), row[5], base64.b64decode(row[6])
        problems = encode.stderr.read() if encode.stderr else ""
    if encode.returncode != 0:
        raise RuntimeError(f"vegeta encode failed ({encode.returncode}): {problems[-2000:]}")
