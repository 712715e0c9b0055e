"""Which township of the county a text is about: full names (白塔镇), short names (白塔), and villages the
county's configuration lists. Places outside the county resolve to none."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.taxonomy import Taxonomy

# Short names that are also everyday words: each counts as a place except in the contexts where it is the
# word ("走几步路", "墙上张贴", "下各级部门", "深度和广度", "吵了一大战").
FALSE_FRIENDS: dict[str, re.Pattern[str]] = {
    "步路": re.compile(r"(?<=[几一两三半走多百十])步路"),
    "上张": re.compile(r"上张(?=贴)|(?<=[墙贴])上张"),
    "下各": re.compile(r"下各(?=[种类级位地方部样自])"),
    "广度": re.compile(r"(?<=[的和与盖有])广度|广度(?=[和与]|不够|很|大)"),
    "大战": re.compile(r"(?<=[一场次打吵商价])大战|大战(?=一场|了一|起来)"),
}


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    code: str
    weight: int  # longer, less ambiguous names first


_CACHE: dict[int, tuple[Taxonomy, tuple[_Pattern, ...]]] = {}


def _patterns(taxonomy: Taxonomy) -> tuple[_Pattern, ...]:
    cached = _CACHE.get(id(taxonomy))
    if cached is None or cached[0] is not taxonomy:
        cached = _CACHE[id(taxonomy)] = (taxonomy, _compile(taxonomy))
    return cached[1]


def _compile(taxonomy: Taxonomy) -> tuple[_Pattern, ...]:
    patterns: list[_Pattern] = []
    for t in taxonomy.townships:
        patterns.append(_Pattern(re.compile(re.escape(t.zh)), t.code, 100 + len(t.zh)))
        for village in t.villages:
            patterns.append(_Pattern(re.compile(re.escape(village)), t.code, 90 + len(village)))
        short = t.short
        if short != t.zh:
            patterns.append(_Pattern(re.compile(re.escape(short)), t.code, 50 + len(short)))
    return tuple(sorted(patterns, key=lambda p: -p.weight))


def _false_friend(text: str, start: int, name: str) -> bool:
    rx = FALSE_FRIENDS.get(name)
    if rx is None:
        return False
    return any(m.start() <= start < m.end() for m in rx.finditer(text))


def resolve_township(taxonomy: Taxonomy, *texts: str | None) -> str | None:
    """The first text that names a township decides (the address before the description); within a text the
    earliest mention of the strongest kind of name wins."""
    patterns = _patterns(taxonomy)
    for text in texts:
        if not text:
            continue
        best: tuple[int, int, str] | None = None  # (-weight, position, code)
        for p in patterns:
            m = next((m for m in p.regex.finditer(text) if not _false_friend(text, m.start(), m.group())), None)
            if m:
                key = (-p.weight // 10, m.start(), p.code)  # names of one kind compete by position
                if best is None or key < best:
                    best = key
        if best is not None:
            return best[2]
    return None
