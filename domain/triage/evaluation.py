"""`wuhuan triage evaluate`: the shipped classifier beside the first baseline (character n-gram TF-IDF
with logistic regression, trained on triage_dev.jsonl alone), on one data file, in one run. Where the file's
texts are part of a system's training data, that system is cross-validated: each fold is predicted by a model
trained without the fold's texts."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from domain.taxonomy import Taxonomy
from domain.triage.data import Example
from domain.triage.metrics import Scores, score, threshold_for_precision
from domain.triage.service import train
from domain.triage.text import normalise
from domain.triage.township import resolve_township

BASELINE_SOURCE = "triage_dev.jsonl"


@dataclass
class SystemResult:
    name: str
    trained_on: int
    cross_validated: bool
    scores: Scores
    threshold_97: float  # the lowest threshold with ≥ 97% precision in this run
    coverage_97: float


@dataclass
class Evaluation:
    n: int
    baseline: SystemResult
    ours: SystemResult
    township_exact: float | None
    township_n: int


def _folds(data: list[Example], k: int, seed: int = 7) -> list[int]:
    """Stratified: each category spread evenly over the folds (with ~20 texts a category, unstratified
    folds swing accuracy by 10 points from one seed to the next)."""
    order = list(range(len(data)))
    random.Random(seed).shuffle(order)
    order.sort(key=lambda i: data[i].category)  # stable: shuffled within each category
    fold = [0] * len(data)
    for rank, i in enumerate(order):
        fold[i] = rank % k
    return fold


class _Baseline:
    def __init__(self, examples: list[Example]):
        self.pipe = make_pipeline(
            TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True), LogisticRegression(max_iter=2000)
        )
        self.pipe.fit([e.text for e in examples], [e.category for e in examples])

    def predict(self, texts: list[str]) -> tuple[list[str], np.ndarray]:
        probs = self.pipe.predict_proba(texts)
        classes = self.pipe.classes_
        return [str(classes[i]) for i in probs.argmax(1)], probs.max(1)


class _Ours:
    def __init__(self, taxonomy: Taxonomy, examples: list[Example]):
        self.model = train(taxonomy, examples)

    def predict(self, texts: list[str]) -> tuple[list[str], np.ndarray]:
        probs = self.model.probabilities(texts)
        classes = self.model.classes
        return [classes[i] for i in probs.argmax(1)], probs.max(1)


def _run(
    name: str, make, training: list[Example], data: list[Example], threshold: float, k: int, taxonomy: Taxonomy
) -> SystemResult:
    key = lambda e: normalise(e.text, taxonomy)  # noqa: E731
    in_training = {key(e) for e in training}
    overlap = any(key(e) in in_training for e in data)
    predicted: list[str] = [""] * len(data)
    confidence = np.zeros(len(data))
    if overlap:
        folds = _folds(data, k)
        for f in range(k):
            held = [i for i in range(len(data)) if folds[i] == f]
            held_keys = {key(data[i]) for i in held}
            system = make([e for e in training if key(e) not in held_keys])
            labels, conf = system.predict([data[i].text for i in held])
            for j, i in enumerate(held):
                predicted[i], confidence[i] = labels[j], conf[j]
    else:
        labels, conf = make(training).predict([e.text for e in data])
        predicted, confidence = labels, conf
    truth = [e.category for e in data]
    right = np.array(truth) == np.array(predicted)
    t97 = threshold_for_precision(right, confidence, 0.97)
    return SystemResult(
        name=name,
        trained_on=len(training),
        cross_validated=overlap,
        scores=score(truth, predicted, confidence, threshold),
        threshold_97=t97,
        coverage_97=float((confidence >= t97).mean()),
    )


def evaluate(
    taxonomy: Taxonomy, data: list[Example], shipped: list[Example], threshold: float, folds: int = 5
) -> Evaluation:
    data = [e for e in data if e.category]
    dev = [e for e in shipped if e.source == BASELINE_SOURCE]
    baseline = _run("baseline: char 1-3 TF-IDF + LR on triage_dev", _Baseline, dev, data, threshold, folds, taxonomy)
    ours = _run("wuhuan: shipped model", lambda ex: _Ours(taxonomy, ex), shipped, data, threshold, folds, taxonomy)
    placed = [e for e in data if e.township_labelled]
    hits = [resolve_township(taxonomy, e.text) == e.township for e in placed]
    return Evaluation(
        n=len(data),
        baseline=baseline,
        ours=ours,
        township_exact=(sum(hits) / len(hits)) if hits else None,
        township_n=len(hits),
    )


def report(ev: Evaluation, taxonomy: Taxonomy) -> str:
    b, o = ev.baseline, ev.ours
    rows = [
        ("texts evaluated", f"{ev.n}", f"{ev.n}"),
        ("trained on (texts)", f"{b.trained_on}", f"{o.trained_on}"),
        ("cross-validated", "yes" if b.cross_validated else "no", "yes" if o.cross_validated else "no"),
        ("top-1 accuracy", f"{b.scores.accuracy:.3f}", f"{o.scores.accuracy:.3f}"),
        ("precision at 80% automatic", f"{b.scores.precision_at_80:.1%}", f"{o.scores.precision_at_80:.1%}"),
        (f"automatic at threshold {o.scores.threshold:.2f}", f"{b.scores.coverage:.1%}", f"{o.scores.coverage:.1%}"),
        ("precision of automatic", f"{b.scores.auto_precision:.1%}", f"{o.scores.auto_precision:.1%}"),
        (
            "threshold for ≥97% precision",
            f"{b.threshold_97:.2f} ({b.coverage_97:.1%} auto)",
            f"{o.threshold_97:.2f} ({o.coverage_97:.1%} auto)",
        ),
    ]
    width = max(len(r[0]) for r in rows) + 2
    lines = [f"{'':<{width}}{'baseline':>24}{'wuhuan':>24}"]
    lines += [f"{label:<{width}}{x:>24}{y:>24}" for label, x, y in rows]
    if ev.township_exact is not None:
        lines.append(f"{'township exact match':<{width}}{'':>24}{ev.township_exact:>24.3f}  (n={ev.township_n})")
    if o.scores.confusions:
        lines.append("most confused (true → predicted, count), wuhuan:")
        lines += [f"  {taxonomy.category_zh(t)} → {taxonomy.category_zh(p)}: {c}" for t, p, c in o.scores.confusions]
    return "\n".join(lines)
