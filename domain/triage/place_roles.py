"""A small model of place roles: how likely a place mention is the place where the dispute arises.

The cue phrases of township.py say why a mention looks like a home or a site, each with a hand-set weight.
Hand-set weights fit the texts they were written against and no better: on a writer's texts read for the first
time they placed 92 % of the multi-place texts right. This model learns, from the labelled place texts, how much
each cue is worth for each kind of matter, plus the characters just around each name (one to three characters,
up to ten on each side), and gives each mention a probability. Trained on the other writers' texts only, it
placed a fourth writer's texts better than the cues alone and — the point of it — its margin between the two
best townships says when a person should look (docs/benchmarks.md, "The township").

It is trained from the repository's labelled files at first use in a process (about a second and a half) and
never downloaded. `places/blind_*.jsonl` never train it: they measure it."""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from domain.taxonomy import Taxonomy
from domain.triage.data import SHIPPED_DIR, Example, read_jsonl

PLACES_DIR = SHIPPED_DIR / "places"
BLIND_PREFIX = "blind_"  # a file named so measures the model and never trains it
WINDOW = 10  # characters on each side of a name the model reads
REGULARISATION = 1.0  # C of the logistic regression (chosen by leaving one writer's set out; benchmarks.md)
SCORE_CLIP = 8.0


@dataclass(frozen=True)
class MentionView:
    """What the model sees of one mention (township.Mention, read after its cues were scored)."""

    name: str
    kind: str
    townships: tuple[str, ...]
    score: float
    cues: tuple[str, ...]
    left: str  # up to WINDOW characters before the name, other names blanked
    right: str  # up to WINDOW characters after it


def features(v: MentionView, category: str | None, index: int, count: int) -> dict[str, float]:
    cat = category or "-"
    score = max(-SCORE_CLIP, min(SCORE_CLIP, v.score)) / 4
    f: dict[str, float] = {
        "bias": 1.0,
        "score": score,
        f"score|{cat}": score,
        "dispute_cue": float(v.score > 0),
        "person_cue": float(v.score < 0),
        f"kind={v.kind}": 1.0,
        f"cat={cat}": 1.0,
        "first": float(index == 0),
        "last": float(index == count - 1),
        "spans_townships": float(len(v.townships) > 1),
        "outside": float(not v.townships),
    }
    for cue in v.cues:
        f[f"cue={cue}"] = 1.0
        f[f"cue={cue}|{cat}"] = 1.0
    for side, chars in (("L", v.left), ("R", v.right)):
        for n in (1, 2, 3):
            for i in range(len(chars) - n + 1):
                f[f"{side}:{chars[i : i + n]}"] = 1.0
    f[f"L1:{v.left[-1:]}"] = 1.0
    f[f"L2:{v.left[-2:]}"] = 1.0
    f[f"R1:{v.right[:1]}"] = 1.0
    f[f"R2:{v.right[:2]}"] = 1.0
    return f


class PlaceRoleModel:
    def __init__(self) -> None:
        self.vectoriser = DictVectorizer()
        self.classifier = LogisticRegression(C=REGULARISATION, max_iter=3000)
        self.trained_on = 0  # texts

    def fit(self, rows: Sequence[tuple[dict[str, float], int]], texts: int) -> PlaceRoleModel:
        x = self.vectoriser.fit_transform([f for f, _ in rows])
        self.classifier.fit(x, [y for _, y in rows])
        self.trained_on = texts
        return self

    def logits(self, rows: Sequence[dict[str, float]]) -> list[float]:
        if not rows:
            return []
        return [float(v) for v in self.classifier.decision_function(self.vectoriser.transform(list(rows)))]


def probability(logit: float) -> float:
    return 1.0 / (1.0 + math.exp(-logit))


def training_files() -> list[str]:
    return sorted(p.name for p in PLACES_DIR.glob("*.jsonl") if not p.name.startswith(BLIND_PREFIX))


def training_examples(taxonomy: Taxonomy) -> list[Example]:
    """Every labelled place text that may train the model: places/*.jsonl but the blind sets, and the texts of
    the category files labelled with a township."""
    examples: list[Example] = []
    for name in training_files():
        examples += read_jsonl(PLACES_DIR / name, taxonomy)
    for path in sorted(SHIPPED_DIR.glob("*.jsonl")):
        examples += [e for e in read_jsonl(path, taxonomy) if e.township_labelled]
    return examples


def train(taxonomy: Taxonomy, examples: Iterable[Example]) -> PlaceRoleModel:
    """Each mention of a text naming two or more townships (or a place outside the county) is an example: a
    mention of the labelled township (or of the outside place when the label is null) is where the dispute
    arises. Texts a person must decide (township_either) teach nothing about which one wins."""
    from domain.triage.township import mention_rows  # township.py imports this module

    rows: list[tuple[dict[str, float], int]] = []
    texts = 0
    for e in examples:
        if e.township_either or not e.township_labelled:
            continue
        found = mention_rows(taxonomy, e.text, e.category or None)
        keys = {k for _, keys in found for k in keys}
        if len(keys) < 2:
            continue
        texts += 1
        for f, mention_keys in found:
            rows.append((f, int(e.township in mention_keys)))
    if not rows or len({y for _, y in rows}) < 2:
        raise ValueError("no labelled multi-place texts to learn place roles from")
    return PlaceRoleModel().fit(rows, texts)


_MODELS: dict[str, PlaceRoleModel] = {}  # by the content of the taxonomy and the place files
_BY_TAXONOMY: dict[int, tuple[Taxonomy, str, PlaceRoleModel]] = {}  # the same, found without hashing again
_LOCK = threading.Lock()


def _key(taxonomy: Taxonomy) -> str:
    # the places a text can name depend on the taxonomy and the configured villages and alias files
    return hashlib.sha256((taxonomy.model_dump_json() + _files()).encode()).hexdigest()


def _files() -> str:
    return os.environ.get("WUHUAN_VILLAGES_FILE", "") + "|" + os.environ.get("WUHUAN_PLACE_ALIASES_FILE", "")


def shipped_model(taxonomy: Taxonomy) -> PlaceRoleModel:
    """The model of the shipped labelled texts, trained once per process and taxonomy (about a second and a
    half; the worker trains it before it polls). Placing a text looks it up by the taxonomy object, so the
    taxonomy is hashed only the first time an object is seen."""
    seen = _BY_TAXONOMY.get(id(taxonomy))
    if seen is not None and seen[0] is taxonomy and seen[1] == _files():
        return seen[2]
    key = _key(taxonomy)
    model = _MODELS.get(key)
    if model is None:
        with _LOCK:
            model = _MODELS.get(key)
            if model is None:
                model = _MODELS[key] = train(taxonomy, training_examples(taxonomy))
    _BY_TAXONOMY[id(taxonomy)] = (taxonomy, _files(), model)
    return model
