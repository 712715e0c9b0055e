"""The county's reference data (taxonomy.yaml): dispute categories, units, townships, inspection domains, and the
county leaders with the units and townships each is in charge of.

A deployment points WUHUAN_TAXONOMY_FILE at its own copy; the demo county ships beside this module.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel

DEFAULT_FILE = Path(__file__).with_name("taxonomy.yaml")

# The unit code of categories the township of the place handles itself (属地乡镇): not a department, so it never
# has a seat of its own on a team and its "unit" is the case's township.
TOWNSHIP_LED = "township"


def is_department(unit: str | None) -> bool:
    """A real department code (not empty, not the township placeholder)."""
    return bool(unit) and unit != TOWNSHIP_LED


class Category(BaseModel):
    code: str
    zh: str
    en: str
    units: list[str]
    team: bool
    examples: str = ""

    @property
    def lead_unit(self) -> str:
        return self.units[0]

    @property
    def team_units(self) -> list[str]:
        """The departments a team for this category draws one member from (the township's seat is added
        where the case's township is known)."""
        return [u for u in self.units if is_department(u)]


class Unit(BaseModel):
    code: str
    zh: str
    en: str


class Township(BaseModel):
    code: str
    zh: str
    district: int
    villages: list[str] = []  # villages and communities a county lists, for the township resolver

    @property
    def short(self) -> str:
        """白塔镇 → 白塔, 福应街道 → 福应: the name people say."""
        for suffix in ("街道", "镇", "乡"):
            if self.zh.endswith(suffix) and len(self.zh) > len(suffix) + 1:
                return self.zh[: -len(suffix)]
        return self.zh


class InspectionDomain(BaseModel):
    code: str
    zh: str
    units: list[str]


class CountyLeader(BaseModel):
    """A county leader (县领导) and what they are in charge of: departments (分管) and townships (联系)."""

    username: str
    zh: str  # the post, e.g. 副县长（社会事业）
    units: list[str] = []
    townships: list[str] = []


class Taxonomy(BaseModel):
    dispute_categories: list[Category]
    units: list[Unit]
    townships: list[Township]
    inspection_domains: list[InspectionDomain] = []
    county_leaders: list[CountyLeader] = []
    service_levels: dict[str, str] = {}

    def category(self, code: str | None) -> Category | None:
        return next((c for c in self.dispute_categories if c.code == code), None)

    def unit(self, code: str | None) -> Unit | None:
        return next((u for u in self.units if u.code == code), None)

    def township(self, code: str | None) -> Township | None:
        return next((t for t in self.townships if t.code == code), None)

    def unit_zh(self, code: str | None) -> str:
        u = self.unit(code)
        return u.zh if u else (code or "")

    def township_zh(self, code: str | None) -> str:
        t = self.township(code)
        return t.zh if t else (code or "")

    def category_zh(self, code: str | None) -> str:
        c = self.category(code)
        return c.zh if c else (code or "")

    def inspection_domain(self, code: str | None) -> InspectionDomain | None:
        return next((d for d in self.inspection_domains if d.code == code), None)

    def inspection_domain_zh(self, code: str | None) -> str:
        d = self.inspection_domain(code)
        return d.zh if d else (code or "")

    def districts(self) -> dict[int, list[Township]]:
        """The inspection districts (督查片区) and their townships, in order."""
        out: dict[int, list[Township]] = {}
        for t in self.townships:
            out.setdefault(t.district, []).append(t)
        return dict(sorted(out.items()))

    def leader_in_charge(self, unit: str | None, township: str | None) -> CountyLeader | None:
        """The county leader in charge of a case: the one over its lead department; for a township-led case, or a
        department nobody is listed for, the one who keeps in touch with its township; None when neither is known."""
        if is_department(unit):
            found = next((leader for leader in self.county_leaders if unit in leader.units), None)
            if found is not None:
                return found
        if township:
            return next((leader for leader in self.county_leaders if township in leader.townships), None)
        return None


def load_taxonomy(path: Path | str) -> Taxonomy:
    with open(path, encoding="utf-8") as fh:
        return Taxonomy.model_validate(yaml.safe_load(fh))


@lru_cache
def get_taxonomy() -> Taxonomy:
    return load_taxonomy(os.environ.get("WUHUAN_TAXONOMY_FILE") or DEFAULT_FILE)
