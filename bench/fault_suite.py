"""Durability, proved: cases in flight on real components while faults are injected (the full run).

The harness is testkit/fault_suite.py; this is its command line. On the Temporal dev server (its own process on
a SQLite file), `wuhuan worker` processes and a SQLite read model seeded with the demo county, the cases run
with compressed clocks (a third resolved and rated, a third left to turn yellow then red, a third withdrawn)
while the worker is SIGKILLed and restarted K times, the dev server is stopped and restarted on its file, the
read model is locked by another process for longer than the busy timeout, and the message webhook and the SMS
gateway (local HTTP servers) refuse everything for a while. Then it checks that every case reached its expected
end state, no clock fired and nobody was notified twice, `audit reconcile` finds nothing to repair, every event
chain verifies, every history replays against today's code, every message reached the webhook and every text
(to staff and to citizens) reached the SMS gateway under its own id. It reports the time to
recover after each fault and the worker's CPU time; the exit status is 0 only if every check passed.

    .venv/bin/python bench/fault_suite.py [--cases 200] [--kills 5]        (or: make fault)

Results are printed and written to bench/results/fault.txt. tests/e2e/test_fault_suite.py runs the same harness
with small numbers."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testkit.fault_suite import Config, run_suite  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    d = Config()
    p.add_argument("--cases", type=int, default=d.cases)
    p.add_argument("--kills", type=int, default=d.kills)
    p.add_argument("--yellow", type=float, default=d.yellow, help="seconds to yellow")
    p.add_argument("--red", type=float, default=d.red, help="seconds to red")
    p.add_argument("--spread", type=float, default=d.spread, help="start the cases over this many seconds")
    p.add_argument("--db-outage", type=float, default=d.db_outage, help="seconds the read model is locked (0: skip)")
    p.add_argument(
        "--webhook-outage",
        type=float,
        default=d.webhook_outage,
        help="seconds the webhook refuses from the start (0: no webhook)",
    )
    p.add_argument(
        "--sms-outage",
        type=float,
        default=d.sms_outage,
        help="seconds the SMS gateway refuses from the start (0: no texts)",
    )
    p.add_argument("--no-server-restart", action="store_true")
    p.add_argument("--seed", type=int)
    p.add_argument("--cached-workflows", type=int, help="the worker's cache size (default: the worker's own)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, databases)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "fault.txt")
    a = p.parse_args(argv)
    cfg = Config(
        cases=a.cases,
        kills=a.kills,
        yellow=a.yellow,
        red=a.red,
        spread=a.spread,
        db_outage=a.db_outage,
        server_restart=not a.no_server_restart,
        seed=a.seed,
        cached_workflows=a.cached_workflows,
        webhook_outage=a.webhook_outage,
        sms_outage=a.sms_outage,
    )
    workdir = Path(tempfile.mkdtemp(prefix="wuhuan-fault-"))
    result = asyncio.run(run_suite(cfg, workdir))
    text = result.table()
    print(text)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text + "\n", encoding="utf-8")
    print(f"written to {a.out}" + (f"; logs in {workdir}" if a.keep else ""))
    if not a.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
