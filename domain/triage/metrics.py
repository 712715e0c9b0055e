"""Measuring a classifier the way the centre relies on it: top-1 accuracy, how much it routes without a
person at a threshold, how often those automatic routings are right, and which categories it confuses."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Scores:
    n: int
    accuracy: float
    threshold: float
    coverage: float  # share routed automatically (confidence ≥ threshold)
    auto_precision: float  # share of those that were right
    precision_at_80: float  # precision when the 80% most confident are routed automatically
    confusions: list[tuple[str, str, int]] = field(default_factory=list)  # (true, predicted, count)


def score(truth: list[str], predicted: list[str], confidence: np.ndarray, threshold: float) -> Scores:
    truth_a, pred_a = np.array(truth), np.array(predicted)
    right = truth_a == pred_a
    auto = confidence >= threshold
    cut = np.quantile(confidence, 0.2) if len(confidence) else 0.0
    top80 = confidence >= cut
    confusions = Counter((t, p) for t, p in zip(truth, predicted, strict=True) if t != p)
    return Scores(
        n=len(truth),
        accuracy=float(right.mean()) if len(truth) else 0.0,
        threshold=threshold,
        coverage=float(auto.mean()) if len(truth) else 0.0,
        auto_precision=float(right[auto].mean()) if auto.any() else 0.0,
        precision_at_80=float(right[top80].mean()) if top80.any() else 0.0,
        confusions=[(t, p, c) for (t, p), c in confusions.most_common(10)],
    )


def threshold_for_precision(right: np.ndarray, confidence: np.ndarray, target: float) -> float:
    """The lowest confidence threshold at which the automatically routed share is right ≥ target."""
    order = np.argsort(-confidence)
    hits = np.cumsum(right[order])
    precision = hits / np.arange(1, len(order) + 1)
    ok = np.nonzero(precision >= target)[0]
    if len(ok) == 0:
        return 1.0
    # the deepest prefix that still meets the target; its last item's confidence is the threshold
    k = ok[-1]
    return float(confidence[order][k])
