"""Text normalisation before classification: the same for training and for a citizen's request."""

from __future__ import annotations

import re
import unicodedata

from domain.taxonomy import Taxonomy

_DIGITS = re.compile(r"\d+(?:[.,]\d+)?")
_MASKED = re.compile(r"\d*\*{2,}\d*")
_SPACE = re.compile(r"\s+")


def normalise(text: str, taxonomy: Taxonomy | None = None) -> str:
    """Half-width, lower case, numbers as 0, masked numbers dropped, township names as one token: the place
    says where, not what, so it must not sway the category."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = _MASKED.sub(" ", text)
    text = _DIGITS.sub("0", text)
    if taxonomy is not None:
        for t in taxonomy.townships:
            text = text.replace(t.zh, "〔乡〕")
    return _SPACE.sub(" ", text).strip()
