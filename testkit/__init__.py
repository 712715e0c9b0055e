"""What the tests (tests/) and the benchmarks (bench/) share, so that neither imports the other: the local HTTP
gateway standing in for the message webhook (gateway), the real processes — the Temporal dev server, `wuhuan
worker`, `wuhuan api`, `wuhuan dev` — and their helpers (processes), polling instead of sleeping (waiting), and the
fault-injection harness (fault_suite) that `make fault` runs in full and tests/e2e/test_fault_suite.py runs
reduced. testkit imports the application's packages, never tests/ or bench/."""
