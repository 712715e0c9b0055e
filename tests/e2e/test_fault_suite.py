"""The fault-injection harness (testkit/fault_suite.py; in full: bench/fault_suite.py, `make fault`) with small
numbers, so every `make test` kills a worker in mid-case, restarts the Temporal dev server on its file and locks
the read model — on real processes — while the message webhook and the SMS gateway refuse everything for a
while, and then checks
what the full run checks: right end states, no clock or notification twice, nothing for reconcile to repair,
every chain intact, every history replaying against today's code and every text (staff and citizens) accepted
under its own id."""

from __future__ import annotations

from testkit.fault_suite import Config, run_suite


async def test_cases_survive_worker_kills_a_server_restart_and_a_locked_read_model(tmp_path):
    cfg = Config(
        cases=18,
        kills=2,
        yellow=6,
        red=12,
        spread=8,
        server_down=2,
        db_outage=3,
        webhook_outage=8,
        sms_outage=20,
        timeout=300,
        seed=7,
    )
    result = await run_suite(cfg, tmp_path, say=print)
    print(result.table())
    assert result.ok, result.table()
    assert sorted(f.what.split(" (")[0] for f in result.faults) == [
        "SMS gateway refusing 20 s",
        "dev server stop+restart",
        "read model locked 3 s",
        "webhook refusing 8 s",
        "worker kill 1",
        "worker kill 2",
    ]
    assert result.webhook_refused > 0 and result.webhook_accepted > 0 and not result.undelivered
    assert result.sms_refused > 0 and result.sms_citizen > 0 and not result.sms_not_accepted
    assert result.chains_verified == cfg.cases and result.replayed >= cfg.cases
    assert result.ended == {"closed": 12, "withdrawn": 6}
