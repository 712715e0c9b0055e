"""Near-identical texts (重复访): the same request sent again, maybe with a word or two changed."""

from __future__ import annotations

from domain.triage.text import normalise


def _bigrams(text: str) -> set[str]:
    t = normalise(text).replace(" ", "")
    return {t[i : i + 2] for i in range(len(t) - 1)}


def similar(a: str, b: str, threshold: float = 0.7) -> bool:
    x, y = _bigrams(a), _bigrams(b)
    if not x or not y:
        return False
    return len(x & y) / len(x | y) >= threshold
