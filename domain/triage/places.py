"""The county's place names (地名) for the township resolver: the townships of taxonomy.yaml (full and short
names), the villages and communities (行政村/社区) of the vendored division file, and the county-editable
aliases (old names, market towns, landmarks, 县城, places outside the county).

Files, read once per process: the villages file (default domain/triage_data/villages_331024.json, made by
scripts/extract_villages.py; WUHUAN_VILLAGES_FILE) and the alias file (default
domain/triage_data/place_aliases.yaml; WUHUAN_PLACE_ALIASES_FILE). Neither is fetched at run time."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from domain.taxonomy import Taxonomy

DATA_DIR = Path(__file__).resolve().parent.parent / "triage_data"
DEFAULT_VILLAGES = DATA_DIR / "villages_331024.json"
DEFAULT_ALIASES = DATA_DIR / "place_aliases.yaml"
OUTSIDE = "-"  # an alias for a place outside the county

# Suffixes a village's everyday name drops (高迁村 → 高迁). Longest first.
_VILLAGE_SUFFIXES = ("林场生活区", "山地生活区", "生活区", "社区", "村")
# A two-character stem is an everyday word too often (胜利, 解放, 和谐 …): it counts only before one of these.
STEM_AFTER = re.compile(r"那边|这边|那里|这里|一带|那块|那头|方向|户口|户籍")

KIND_ZH = {
    "township": "乡镇名",
    "short": "乡镇简称",
    "village": "村（社区）名",
    "stem": "村名简称",
    "alias": "别称",
    "outside": "县外地名",
}


@dataclass(frozen=True)
class Place:
    name: str
    townships: tuple[str, ...]  # () for a place outside the county
    kind: str  # township | short | village | stem | alias | outside
    note: str = ""


@dataclass
class Gazetteer:
    places: list[Place]  # longest names first: a longer name wins where two overlap
    sources: list[dict] = field(default_factory=list)
    aliases_file: str = ""

    def village_count(self) -> int:
        return sum(1 for p in self.places if p.kind == "village")


def _stem(village: str) -> str:
    for suffix in _VILLAGE_SUFFIXES:
        if village.endswith(suffix) and len(village) > len(suffix):
            return village[: -len(suffix)]
    return village


def read_villages(path: Path, taxonomy: Taxonomy) -> tuple[dict[str, list[str]], list[dict]]:
    """{township code: [village, ...]} of the file, matched to taxonomy townships by name."""
    blob = json.loads(path.read_text(encoding="utf-8"))
    by_zh = {t.zh: t.code for t in taxonomy.townships}
    villages: dict[str, list[str]] = {}
    for town in blob.get("townships", []):
        code = by_zh.get(town["zh"])
        if code is not None:
            villages.setdefault(code, []).extend(town.get("villages", []))
    return villages, list(blob.get("sources", []))


def read_aliases(path: Path, taxonomy: Taxonomy) -> list[Place]:
    """Aliases of the file; a township code the taxonomy does not know is refused (a typo would misroute)."""
    rows = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("aliases") or []
    known = {t.code for t in taxonomy.townships}
    places: list[Place] = []
    for n, row in enumerate(rows, 1):
        name = str(row.get("name", "")).strip()
        towns = tuple(str(c) for c in row.get("townships") or [])
        if len(name) < 2 or not towns:
            raise ValueError(f"{path}: alias {n} needs a name of two characters or more and its townships")
        if towns == (OUTSIDE,):
            places.append(Place(name, (), "outside", str(row.get("note", ""))))
            continue
        unknown = [c for c in towns if c not in known]
        if unknown:
            raise ValueError(f"{path}: alias {name!r} names unknown townships {unknown}")
        places.append(Place(name, towns, "alias", str(row.get("note", ""))))
    return places


def build(taxonomy: Taxonomy, villages_file: Path | None, aliases_file: Path | None) -> Gazetteer:
    places: dict[str, Place] = {}

    def add(p: Place) -> None:
        # A name already taken by a stronger kind keeps it; the same name of two townships stays ambiguous.
        old = places.get(p.name)
        if old is None:
            places[p.name] = p
        elif old.kind == p.kind and old.townships != p.townships:
            places[p.name] = Place(p.name, tuple(sorted(set(old.townships) | set(p.townships))), p.kind, old.note)

    for t in taxonomy.townships:
        add(Place(t.zh, (t.code,), "township"))
    for t in taxonomy.townships:
        if t.short != t.zh:
            add(Place(t.short, (t.code,), "short"))
    sources: list[dict] = []
    villages: dict[str, list[str]] = {t.code: list(t.villages) for t in taxonomy.townships}
    if villages_file is not None and villages_file.exists():
        extra, sources = read_villages(villages_file, taxonomy)
        for code, names in extra.items():
            villages[code] = villages.get(code, []) + names
    for code, names in villages.items():
        for v in names:
            add(Place(v, (code,), "village"))
    for p in read_aliases(aliases_file, taxonomy) if aliases_file is not None and aliases_file.exists() else []:
        add(p)
    stems: dict[str, set[str]] = {}
    for code, names in villages.items():
        for v in names:
            s = _stem(v)
            if len(s) >= 2 and s != v:
                stems.setdefault(s, set()).add(code)
    for s, codes in stems.items():
        add(Place(s, tuple(sorted(codes)), "stem"))
    ordered = sorted(places.values(), key=lambda p: (-len(p.name), p.name))
    return Gazetteer(ordered, sources, str(aliases_file or ""))


_CACHE: dict[tuple[int, str, str], tuple[Taxonomy, Gazetteer]] = {}


def gazetteer_for(taxonomy: Taxonomy) -> Gazetteer:
    """The process's gazetteer for this taxonomy and the configured files (read on first use)."""
    villages = Path(os.environ.get("WUHUAN_VILLAGES_FILE") or DEFAULT_VILLAGES)
    aliases = Path(os.environ.get("WUHUAN_PLACE_ALIASES_FILE") or DEFAULT_ALIASES)
    key = (id(taxonomy), str(villages), str(aliases))
    cached = _CACHE.get(key)
    if cached is None or cached[0] is not taxonomy:
        cached = _CACHE[key] = (taxonomy, build(taxonomy, villages, aliases))
    return cached[1]
