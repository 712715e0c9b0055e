"""`wuhuan triage evaluate`: the shipped classifier beside the first baseline (character n-gram TF-IDF
with logistic regression, trained on triage_dev.jsonl alone), on one data file, in one run. Where the file's
texts are part of a system's training data, that system is cross-validated: each fold is predicted by a model
trained without the fold's texts. The township (属地) is reported by the kind of places a text names, for the
shipped resolver, its cue phrases alone and the plain first-mention rule; a file that trains the place-role model
is placed by one trained without that file (a writer's texts by a model that never saw that writer)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from domain.taxonomy import Taxonomy
from domain.triage.data import Example
from domain.triage.metrics import Scores, score, threshold_for_precision
from domain.triage.place_roles import PlaceRoleModel, shipped_model, training_examples
from domain.triage.place_roles import train as train_roles
from domain.triage.places import gazetteer_for
from domain.triage.service import train
from domain.triage.text import normalise
from domain.triage.township import Placement, find_mentions, first_mention, locate

BASELINE_SOURCE = "triage_dev.jsonl"


@dataclass
class SystemResult:
    name: str
    trained_on: int
    cross_validated: bool
    scores: Scores
    threshold_97: float  # the lowest threshold with ≥ 97% precision in this run
    coverage_97: float


SLICES = ("one", "multi", "village", "none")
SLICE_ZH = {
    "one": "names one township",
    "multi": "names two or more places",
    "village": "names only a village",
    "none": "names no place",
}


@dataclass
class TownshipSlice:
    """One kind of text: how often each resolver placed it right, and how the shipped one's automatic choices
    fared. A text labelled with several townships (township_either) is right when the resolver leaves it to a
    person with all of them suggested."""

    kind: str
    n: int = 0
    shipped_right: int = 0
    shipped_auto: int = 0  # confident: the case may route without a person
    shipped_auto_right: int = 0
    first_right: int = 0
    first_auto: int = 0  # the plain rule routes whenever it finds a township
    first_auto_right: int = 0
    cues_right: int = 0  # the shipped resolver without its role model (the cue phrases alone)
    cues_auto: int = 0
    cues_auto_right: int = 0

    @staticmethod
    def rate(a: int, b: int) -> float | None:
        return a / b if b else None


@dataclass
class Evaluation:
    n: int
    baseline: SystemResult
    ours: SystemResult
    township_exact: float | None
    township_n: int
    township_slices: list[TownshipSlice] = field(default_factory=list)
    township_errors: list[dict] = field(default_factory=list)  # the shipped resolver's misses, for reading


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
) -> tuple[SystemResult, list[str]]:
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
    result = SystemResult(
        name=name,
        trained_on=len(training),
        cross_validated=overlap,
        scores=score(truth, predicted, confidence, threshold),
        threshold_97=t97,
        coverage_97=float((confidence >= t97).mean()),
    )
    return result, [str(p) for p in predicted]


def evaluate(
    taxonomy: Taxonomy, data: list[Example], shipped: list[Example], threshold: float, folds: int = 5
) -> Evaluation:
    data = [e for e in data if e.category]
    dev = [e for e in shipped if e.source == BASELINE_SOURCE]
    baseline, _ = _run("baseline: char 1-3 TF-IDF + LR on triage_dev", _Baseline, dev, data, threshold, folds, taxonomy)
    ours, predicted = _run(
        "wuhuan: shipped model", lambda ex: _Ours(taxonomy, ex), shipped, data, threshold, folds, taxonomy
    )
    slices, errors = townships(taxonomy, data, predicted)
    placed = sum(s.n for s in slices)
    right = sum(s.shipped_right for s in slices)
    return Evaluation(
        n=len(data),
        baseline=baseline,
        ours=ours,
        township_exact=(right / placed) if placed else None,
        township_n=placed,
        township_slices=slices,
        township_errors=errors,
    )


def places_named(taxonomy: Taxonomy, e: Example) -> str:
    """The label's kind of text, or what the shipped gazetteer finds: no place, one township (by its name or
    an alias, with or without its villages), only a village, or two or more places (in or out of the county)."""
    if e.places:
        return e.places
    mentions = find_mentions(gazetteer_for(taxonomy), e.text)
    if not mentions:
        return "none"
    if len({m.townships or ("-" + m.name,) for m in mentions}) > 1:
        return "multi"
    return "village" if all(m.kind in ("village", "stem") for m in mentions) else "one"


def role_models(taxonomy: Taxonomy, data: list[Example]) -> dict[str, PlaceRoleModel]:
    """The role model to place each file's texts with: the shipped one, or — for a file that trains it — one
    trained without that file (and without any text equal to one of it), so no text is placed by a model that saw
    it, and a writer's texts by a model that never saw that writer. Several files in one run: each on its own."""
    training = training_examples(taxonomy)
    keys = [normalise(t.text, taxonomy) for t in training]
    models: dict[str, PlaceRoleModel] = {}
    for source in sorted({e.source for e in data}):
        evaluated = {normalise(e.text, taxonomy) for e in data if e.source == source}
        kept = [t for t, k in zip(training, keys, strict=True) if t.source != source and k not in evaluated]
        models[source] = train_roles(taxonomy, kept) if len(kept) < len(training) else shipped_model(taxonomy)
    return models


def _right(e: Example, p: Placement) -> bool:
    if e.township_either:
        return not p.confident and set(e.township_either) <= set(p.suggested)
    return p.township == e.township


def townships(taxonomy: Taxonomy, data: list[Example], categories: list[str]) -> tuple[list[TownshipSlice], list[dict]]:
    """The shipped resolver, its cues alone and the plain first-mention rule on every text labelled with a
    township; the shipped one is told the category the shipped model predicted (as in routing), not the label."""
    slices = {k: TownshipSlice(k) for k in SLICES}
    errors: list[dict] = []
    labelled = [(e, c) for e, c in zip(data, categories, strict=True) if e.township_labelled]
    models = role_models(taxonomy, [e for e, _ in labelled]) if labelled else {}
    for e, category in labelled:
        s = slices[places_named(taxonomy, e)]
        p = locate(taxonomy, e.text, category=category, roles=models[e.source])
        ok = _right(e, p)
        cues = locate(taxonomy, e.text, category=category, roles=False)
        cues_ok = _right(e, cues)
        first = first_mention(taxonomy, e.text)
        first_ok = not e.township_either and first == e.township
        s.n += 1
        s.shipped_right += ok
        s.shipped_auto += p.confident
        s.shipped_auto_right += p.confident and ok
        s.cues_right += cues_ok
        s.cues_auto += cues.confident
        s.cues_auto_right += cues.confident and cues_ok
        s.first_right += first_ok
        s.first_auto += first is not None
        s.first_auto_right += first is not None and first_ok
        if not ok:
            errors.append(
                {
                    "id": e.id,
                    "label": e.township,
                    "either": list(e.township_either),
                    "got": p.township,
                    "auto": p.confident,
                    "reason": p.reason,
                }
            )
    return [slices[k] for k in SLICES], errors


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
        lines += township_report(ev)
    if o.scores.confusions:
        lines.append("most confused (true → predicted, count), wuhuan:")
        lines += [f"  {taxonomy.category_zh(t)} → {taxonomy.category_zh(p)}: {c}" for t, p, c in o.scores.confusions]
    return "\n".join(lines)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def township_report(ev: Evaluation) -> list[str]:
    r = TownshipSlice.rate
    lines = [
        "",
        "township (属地), by the places a text names: shipped resolver | its cues alone | plain first-mention rule",
    ]
    head = (
        f"  {'texts':<26}{'n':>5}{'right':>9}{'auto':>9}{'auto right':>12}   |{'right':>9}{'auto right':>12}"
        f"   |{'right':>9}{'auto right':>12}"
    )
    lines.append(head)
    rows = list(ev.township_slices)
    total = TownshipSlice("all")
    for s in rows:
        for f in (
            "n",
            "shipped_right",
            "shipped_auto",
            "shipped_auto_right",
            "cues_right",
            "cues_auto",
            "cues_auto_right",
            "first_right",
            "first_auto",
            "first_auto_right",
        ):
            setattr(total, f, getattr(total, f) + getattr(s, f))
    for s in [*rows, total]:
        if not s.n:
            continue
        label = SLICE_ZH.get(s.kind, "all")
        lines.append(
            f"  {label:<26}{s.n:>5}{_pct(r(s.shipped_right, s.n)):>9}{_pct(r(s.shipped_auto, s.n)):>9}"
            f"{_pct(r(s.shipped_auto_right, s.shipped_auto)):>12}   |{_pct(r(s.cues_right, s.n)):>9}"
            f"{_pct(r(s.cues_auto_right, s.cues_auto)):>12}   |{_pct(r(s.first_right, s.n)):>9}"
            f"{_pct(r(s.first_auto_right, s.first_auto)):>12}"
        )
    lines.append("  right: the township chosen is the label's; auto: placed without a person (the shipped resolver")
    lines.append("  when confident, the plain rule whenever it finds a township); auto right: of those, right.")
    lines.append("  A file that trains the role model is placed by one trained without that file.")
    return lines
