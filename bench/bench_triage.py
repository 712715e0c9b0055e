"""Triage figures, measured in one run on this machine, beside the baseline:

- accuracy, automatic share and precision: `wuhuan triage evaluate` on the held-out texts
  (bench/data/triage_holdout.jsonl, never trained on) and, cross-validated, on triage_dev.jsonl;
- classify latency per text (p50/p99, the whole routing decision as the worker makes it) and model load time;
- the township (属地) on the blind place sets (domain/triage_data/places/blind_*.jsonl: texts naming two or more
  places or only a village, never trained on): the shipped resolver beside its cues alone and the first-mention
  rule, the time to place one text with and without the place-role model, and the role model's training time.

    .venv/bin/python bench/bench_triage.py        (or: make bench)

Results are printed and written to bench/results/triage.txt."""

from __future__ import annotations

import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from domain import routing  # noqa: E402
from domain.models import CaseIntake  # noqa: E402
from domain.settings import get_settings  # noqa: E402
from domain.taxonomy import get_taxonomy  # noqa: E402
from domain.triage import place_roles  # noqa: E402
from domain.triage.data import SHIPPED_DIR, read_jsonl, shipped_examples  # noqa: E402
from domain.triage.evaluation import _Baseline, evaluate, report, township_report  # noqa: E402
from domain.triage.model import TriageModel  # noqa: E402
from domain.triage.service import train_and_save  # noqa: E402
from domain.triage.township import locate  # noqa: E402

HOLDOUT = ROOT / "bench" / "data" / "triage_holdout.jsonl"
OUT = ROOT / "bench" / "results" / "triage.txt"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    tx = get_taxonomy()
    threshold = get_settings().triage_threshold
    shipped = shipped_examples(tx)
    lines = [
        f"# triage benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
        f"python {platform.python_version()}",
        f"shipped training texts: {len(shipped)}; threshold {threshold}",
    ]

    for name, path in (
        ("held-out texts (never trained on)", HOLDOUT),
        ("triage_dev.jsonl (cross-validated)", SHIPPED_DIR / "triage_dev.jsonl"),
    ):
        if not path.exists():
            lines.append(f"\n## {name}: {path} missing")
            continue
        ev = evaluate(tx, read_jsonl(path, tx), shipped, threshold)
        lines += [f"\n## {name}: {path.relative_to(ROOT)}", report(ev, tx)]

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        model = train_and_save(Path(tmp), tx, shipped, make_current=False)
        train_s = time.perf_counter() - t0
        path = next(Path(tmp).glob("triage-*.pkl"))
        loads = []
        for _ in range(5):
            t0 = time.perf_counter()
            TriageModel.load(path)
            loads.append(time.perf_counter() - t0)
        size_kb = path.stat().st_size / 1024
    texts = [e.text for e in read_jsonl(HOLDOUT, tx)] if HOLDOUT.exists() else [e.text for e in shipped]
    texts = (texts * (2000 // len(texts) + 1))[:2000]
    ours = []
    for text in texts:
        intake = CaseIntake(description=text, citizen_name="-", citizen_phone="-")
        t0 = time.perf_counter()
        routing.decide(tx, model, intake, threshold)
        ours.append((time.perf_counter() - t0) * 1000)
    baseline = _Baseline([e for e in shipped if e.source == "triage_dev.jsonl"])
    base = []
    for text in texts:
        t0 = time.perf_counter()
        baseline.predict([text])
        base.append((time.perf_counter() - t0) * 1000)
    lines += [
        "\n## speed (one text at a time, 2000 texts)",
        f"routing decision (wuhuan, incl. township and explanation): p50 {statistics.median(ours):.2f} ms, "
        f"p99 {pct(ours, 0.99):.2f} ms",
        f"baseline pipeline predict_proba:                            p50 {statistics.median(base):.2f} ms, "
        f"p99 {pct(base, 0.99):.2f} ms  (ratio p99 wuhuan/baseline {pct(ours, 0.99) / pct(base, 0.99):.2f})",
        f"model load from file: median {statistics.median(loads) * 1000:.0f} ms, max {max(loads) * 1000:.0f} ms "
        f"({size_kb:.0f} KiB); training from scratch {train_s:.1f} s",
    ]
    lines += places(tx, shipped, threshold)
    text = "\n".join(lines) + "\n"
    print(text)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)


def places(tx, shipped, threshold) -> list[str]:
    blind = sorted(place_roles.PLACES_DIR.glob(f"{place_roles.BLIND_PREFIX}*.jsonl"))
    if not blind:
        return ["\n## township: no blind place sets"]
    data = [e for path in blind for e in read_jsonl(path, tx)]
    ev = evaluate(tx, data, shipped, threshold)
    lines = [f"\n## township on the blind place sets: {', '.join(p.name for p in blind)} ({len(data)} texts)"]
    lines += township_report(ev)[1:]
    t0 = time.perf_counter()
    model = place_roles.train(tx, place_roles.training_examples(tx))
    train_s = time.perf_counter() - t0
    with_model, cues_only = [], []
    for e in (data * (2000 // len(data) + 1))[:2000]:
        t0 = time.perf_counter()
        locate(tx, e.text, category=e.category, roles=model)
        with_model.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        locate(tx, e.text, category=e.category, roles=False)
        cues_only.append((time.perf_counter() - t0) * 1000)
    lines += [
        f"placing one text (2000): with the role model p50 {statistics.median(with_model):.2f} ms, "
        f"p99 {pct(with_model, 0.99):.2f} ms; cues alone p50 {statistics.median(cues_only):.2f} ms, "
        f"p99 {pct(cues_only, 0.99):.2f} ms",
        f"role model: trained on {model.trained_on} texts in {train_s:.2f} s "
        f"({len(model.vectoriser.vocabulary_)} features)",
    ]
    return lines


if __name__ == "__main__":
    main()
