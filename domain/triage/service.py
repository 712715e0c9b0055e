"""Building, caching and loading the triage model.

The model is trained from data in the repository (and a county's own history), never downloaded: at first
use it is trained and written to the model directory under a fingerprint of its training data, so later
starts load it in well under a second. `wuhuan triage train` makes a county-specific model and marks it
current; without one, the model of the shipped data is used."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from domain.taxonomy import Taxonomy
from domain.triage.data import Example, shipped_examples
from domain.triage.model import TriageModel, fingerprint

log = logging.getLogger(__name__)
CURRENT = "current"
PARAMS = "char1-3|sgd-log|alpha=1e-5"


def train(taxonomy: Taxonomy, examples: list[Example]) -> TriageModel:
    pairs = [(e.text, e.category) for e in examples if e.category]
    model = TriageModel(taxonomy).fit([t for t, _ in pairs], [c for _, c in pairs])
    model.fingerprint = fingerprint(pairs, PARAMS)
    return model


def model_path(model_dir: Path, fp: str) -> Path:
    return model_dir / f"triage-{fp}.pkl"


def train_and_save(model_dir: Path, taxonomy: Taxonomy, examples: list[Example], make_current: bool) -> TriageModel:
    model = train(taxonomy, examples)
    model.save(model_path(model_dir, model.fingerprint))
    if make_current:
        tmp = model_dir / (CURRENT + ".tmp")
        tmp.write_text(model.fingerprint)
        tmp.replace(model_dir / CURRENT)
    return model


def load(model_dir: Path, taxonomy: Taxonomy) -> TriageModel:
    """The county's current model if one was trained, else the shipped data's (trained now if not cached)."""
    current = model_dir / CURRENT
    if current.exists():
        path = model_path(model_dir, current.read_text().strip())
        if path.exists():
            model = TriageModel.load(path)
            model.taxonomy = taxonomy
            return model
        log.warning("current triage model %s is missing; using the shipped data's model", path.name)
    examples = shipped_examples(taxonomy)
    fp = fingerprint([(e.text, e.category) for e in examples if e.category], PARAMS)
    path = model_path(model_dir, fp)
    if path.exists():
        try:
            model = TriageModel.load(path)
            model.taxonomy = taxonomy
            return model
        except Exception:  # a file from another library version: rebuild it
            log.warning("rebuilding unreadable triage model %s", path.name, exc_info=True)
    log.info("training the triage model from %d shipped examples", len(examples))
    return train_and_save(model_dir, taxonomy, examples, make_current=False)


class ModelHolder:
    """One model per process, loaded on first use and shared by threads."""

    def __init__(self, model_dir: Path, taxonomy: Taxonomy):
        self.model_dir, self.taxonomy = model_dir, taxonomy
        self._model: TriageModel | None = None
        self._lock = threading.Lock()

    def get(self) -> TriageModel:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = load(self.model_dir, self.taxonomy)
        return self._model


_HOLDERS: dict[tuple[Path, int], ModelHolder] = {}


def model_holder(model_dir: Path, taxonomy: Taxonomy) -> ModelHolder:
    """One loaded model per directory and taxonomy in a process (tests run many workers in one)."""
    key = (model_dir, id(taxonomy))
    if key not in _HOLDERS:
        _HOLDERS[key] = ModelHolder(model_dir, taxonomy)
    return _HOLDERS[key]
