"""Labelled examples: what the project ships (domain/triage_data/*.jsonl) and a county's own history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from domain.taxonomy import Taxonomy

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "triage_data"


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    category: str
    township: str | None = None
    source: str = ""
    township_labelled: bool = False  # the file says the township (null included)
    places: str = ""  # one | multi | village | none: what places the text names (GUIDELINES.md); "" = derive
    township_either: tuple[str, ...] = ()  # a person must choose among these (a quarrel over a border)


def read_jsonl(path: Path | str, taxonomy: Taxonomy | None = None) -> list[Example]:
    """Reads {"id", "text", "category"?, "township"?} lines; rows with an unknown category are refused."""
    path = Path(path)
    examples: list[Example] = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            row = json.loads(line)
            category = row.get("category") or ""
            if taxonomy is not None and category and taxonomy.category(category) is None:
                raise ValueError(f"{path}:{n}: unknown category {category!r}")
            examples.append(
                Example(
                    id=str(row.get("id", f"{path.stem}-{n}")),
                    text=row["text"],
                    category=category,
                    township=row.get("township"),
                    source=path.name,
                    township_labelled="township" in row,
                    places=str(row.get("places") or ""),
                    township_either=tuple(row.get("township_either") or ()),
                )
            )
    return examples


def shipped_examples(taxonomy: Taxonomy) -> list[Example]:
    """Every labelled file shipped with the project, plus each category's example phrases from taxonomy.yaml."""
    examples: list[Example] = []
    for path in sorted(SHIPPED_DIR.glob("*.jsonl")):
        examples += read_jsonl(path, taxonomy)
    for cat in taxonomy.dispute_categories:
        for i, phrase in enumerate(p for p in cat.examples.replace("，", "、").split("、") if p.strip()):
            examples.append(
                Example(id=f"taxonomy-{cat.code}-{i}", text=phrase.strip(), category=cat.code, source="taxonomy.yaml")
            )
    return examples
