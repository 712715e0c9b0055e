"""Inputs and views of the safety-inspection module (平安督查), as the API and the pages exchange them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.settings import Settings
from domain.taxonomy import TOWNSHIP_LED, Taxonomy
from domain.times import from_china_wall_time
from services.schemas import Checked, Problem

Line = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Paragraph = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
Severity = Literal["major", "general", "minor"]


class _In(Checked):  # no control characters or lone surrogates (services/schemas.py)
    model_config = ConfigDict(extra="forbid")


class HazardIn(_In):
    """What an inspector reports (the contract's body, plus the visit, the photos taken and an explicit deadline)."""

    domain: Code
    township: Code
    site: Line
    description: Paragraph
    severity: Severity
    unit: Code  # the responsible unit's code, or `township` for the township itself
    responsible: Line | None = None
    measure: Paragraph
    deadline: datetime | None = None  # None: by severity (WUHUAN_HAZARD_DEADLINE_*); China time when naive
    visit_id: Code | None = None
    photos: list[Code] = Field(default_factory=list, max_length=9)  # photo ids from POST /inspection/photos

    def problems(self, settings: Settings, taxonomy: Taxonomy, now: datetime) -> list[Problem]:
        """Everything wrong with the report, each with the form field it concerns, in the form's order."""
        found: list[Problem] = []
        if taxonomy.inspection_domain(self.domain) is None:
            found.append(Problem("domain", "unknown_domain", f"未知的督查领域代码：{self.domain}"))
        if taxonomy.township(self.township) is None:
            found.append(Problem("township", "unknown_township", f"未知的乡镇（街道）代码：{self.township}"))
        if not self.site:
            found.append(Problem("site", "site_required", "请填写隐患所在的场所或点位"))
        if not self.description:
            found.append(Problem("description", "description_required", "请描述发现的隐患"))
        if self.unit != TOWNSHIP_LED and taxonomy.unit(self.unit) is None:
            found.append(Problem("unit", "unknown_unit", f"未知的责任单位代码：{self.unit}"))
        if not self.measure:
            found.append(Problem("measure", "measure_required", "请填写整改措施"))
        if self.deadline is not None and from_china_wall_time(self.deadline) <= now:
            found.append(Problem("deadline", "deadline_in_past", "整改期限不能早于现在"))
        return found


class HazardCreated(BaseModel):
    hazard_id: str
    hazard_no: str
    deadline: datetime


class VerifyIn(_In):
    accept: bool
    reason: Paragraph | None = None


class RecheckIn(_In):
    holds: bool
    note: Paragraph | None = None


class PhotoOut(BaseModel):
    photo_id: str
    filename: str
    content_type: str
    size: int


class FileView(BaseModel):
    """A photo or a piece of evidence, without where it is stored."""

    file_id: str
    filename: str
    content_type: str
    size: int
    note: str | None = None
    by: str | None = None
    at: datetime | None = None


class HazardEventView(BaseModel):
    seq: int
    at: datetime
    type: str
    actor: str
    detail: dict[str, Any]


class HazardView(BaseModel):
    hazard_id: str
    hazard_no: str
    status: str  # assigned, rectifying, submitted, struck_off, rechecked, reopened
    status_zh: str
    deadline: datetime
    overdue: bool  # passed a deadline unrectified at least once
    overdue_now: bool  # open and past its deadline at this moment
    exposed: bool  # on the exposure list (曝光台)
    exposed_at: datetime | None
    domain: str
    domain_zh: str
    township: str
    township_zh: str
    district: int | None
    site: str
    description: str
    severity: str
    severity_zh: str
    unit: str
    unit_zh: str
    responsible: str | None
    measure: str
    found_by: str
    found_at: datetime
    visit_id: str | None
    submitted_at: datetime | None
    struck_off_at: datetime | None
    recheck_at: datetime | None
    rechecked_at: datetime | None
    closed_at: datetime | None
    rejections: int
    reopened: int
    photos: list[FileView]
    evidence: list[FileView]
    events: list[HazardEventView]
    allowed_steps: list[str]  # what the caller may do now: submit_evidence, verify, recheck


class HazardListQuery(BaseModel):
    """The filters of the hazard list (each may name several values) and its page."""

    status: list[str] = Field(default_factory=list)
    district: list[int] = Field(default_factory=list)
    domain: list[str] = Field(default_factory=list)
    township: list[str] = Field(default_factory=list)
    unit: list[str] = Field(default_factory=list)
    overdue: bool | None = None
    exposed: bool | None = None
    start: date | None = None  # found on or after (China date)
    end: date | None = None  # found on or before (China date)
    page: int = 1
    page_size: int = 20


class HazardListItem(BaseModel):
    hazard_id: str
    hazard_no: str
    status: str
    status_zh: str
    domain: str
    domain_zh: str
    township: str
    township_zh: str
    district: int | None
    site: str
    severity: str
    severity_zh: str
    unit: str
    unit_zh: str
    responsible: str | None
    deadline: datetime
    overdue: bool
    overdue_now: bool
    exposed: bool
    found_at: datetime


class HazardListOut(BaseModel):
    items: list[HazardListItem]
    total: int
    page: int
    page_size: int
