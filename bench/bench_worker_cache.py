"""What replaying each case from its history on every workflow task costs (WUHUAN_WORKER_CACHED_WORKFLOWS=0,
the default from the fault suite's finding that a cached case could write a history that does not replay, until
issue 14 stopped every query of a case and put the cache of 1,000 back; docs/durability.md).

The same loads twice each in one run, on real components (the fault suite's harness, testkit/fault_suite.py, with
every fault switched off: the Temporal dev server as a process, a `wuhuan worker` process, a SQLite read model): N
cases, a third resolved and rated, a third left to go yellow and red, a third withdrawn, each driven by a client
that reads its view from the read model and updates it like the API does — started in a burst (over 10 s) and
paced (one a second, still far above a county's intake). Each once with the worker's cache off (0), once with a
cache of 1,000 cases (the SDK's usual setting). Measured: the worker process's CPU seconds (user + system, from
/proc), the wall time until every case ended, and the latency of each driver's read of its open case's view
(what `GET /api/v1/cases/{id}` reads; it was a query of the worker, with the latency the cache changed, before
issue 14).

    .venv/bin/python bench/bench_worker_cache.py [--cases 90]        (or: make bench)

Results are printed and written to bench/results/worker_cache.txt."""

from __future__ import annotations

import argparse
import asyncio
import platform
import shutil
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testkit.fault_suite import Config, run_suite  # noqa: E402


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else (values or [0.0])[0]


async def measure(cases: int, cached: int, spread: float):
    cfg = Config(
        cases=cases,
        kills=0,
        server_restart=False,
        db_outage=0,
        webhook_outage=0,
        yellow=6,
        red=12,
        spread=spread,
        cached_workflows=cached,
        seed=1,
    )
    workdir = Path(tempfile.mkdtemp(prefix="wuhuan-cache-bench-"))
    try:
        result = await run_suite(cfg, workdir, say=lambda *_: None)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return result.worker_cpu, result.duration, result.ok, result.query_ms


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=90)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "worker_cache.txt")
    a = p.parse_args(argv)
    lines = [
        f"worker cache, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
        f"{a.cases} cases (yellow 6 s, red 12 s), no faults",
        "",
        f"{'started over':<14}{'worker cache':>13}{'worker CPU (s)':>16}{'per case (ms)':>15}{'run (s)':>9}"
        f"{'view p50 (ms)':>16}{'view p99 (ms)':>16}  checks",
    ]
    ratios, ok_all = [], True
    for spread in (10.0, float(a.cases)):
        rows = []
        for cached in (1000, 0):
            cpu, wall, ok, queries = asyncio.run(measure(a.cases, cached, spread))
            rows.append((cached, cpu, queries))
            ok_all = ok_all and ok
            lines.append(
                f"{spread:>10.0f} s  {cached:>13}{cpu:>16.1f}{1000 * cpu / a.cases:>15.0f}{wall:>9.0f}"
                f"{pct(queries, 50):>16.1f}{pct(queries, 99):>16.1f}  {'pass' if ok else 'FAIL'}"
            )
            print(lines[-1])
        (_, base_cpu, base_q), (_, cpu, q) = rows
        ratios.append(
            f"started over {spread:.0f} s: cache off / cache of 1,000: worker CPU {cpu / base_cpu:.2f}x, "
            f"view p50 {pct(q, 50) / pct(base_q, 50):.2f}x, p99 {pct(q, 99) / pct(base_q, 99):.2f}x"
        )
    lines += [""] + ratios
    text = "\n".join(lines)
    print(text)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text + "\n", encoding="utf-8")
    # Every run has to pass every check: with no query reaching a case, a cached worker must replay too.
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
