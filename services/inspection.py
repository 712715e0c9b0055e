"""Hazards found on inspections (问题隐患) for staff: an inspector reports one (with the photos taken on site),
the responsible unit hands in its evidence, an inspector verifies it and later re-checks it. Each hazard is a
HazardRectification workflow (the same engine, auth and jurisdiction as cases); its steps are Workflow Updates
whose validators decide, from domain/hazards.py, whether a step is allowed now.

Views are read from the read model, which the workflow's recorder has written before an update returns (a step's
answer is never ahead of what a list shows); a hazard just reported and not yet recorded is read live.
403 for a hazard outside the caller's jurisdiction (domain.hazards.sees_hazard), 404 for an unknown one."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from domain import hazards
from domain.hazards import (
    SEVERITY_ZH,
    STATUS_ZH,
    Evidence,
    EvidenceAction,
    HazardAction,
    HazardReport,
    HazardStart,
    HazardState,
    RecheckAction,
    VerifyAction,
)
from domain.models import Actor, Role
from domain.taxonomy import TOWNSHIP_LED, Taxonomy
from domain.times import as_utc, from_china_wall_time
from services import codes, engine, uploads
from services.cases import MaterialFile
from services.context import Services
from services.db import run
from services.errors import Refusal, forbidden, invalid, not_found
from services.inspection_schemas import (
    FileView,
    HazardCreated,
    HazardEventView,
    HazardIn,
    HazardListItem,
    HazardListOut,
    HazardListQuery,
    HazardView,
    PhotoOut,
    RecheckIn,
    VerifyIn,
)
from services.schemas import Problem
from store import inspection as sql
from store.tables import HazardEventRow, HazardRow, InspectionPhoto, InspectionVisit
from workflows.hazard_rectification import HazardRectification, workflow_id

log = logging.getLogger("wuhuan.services.inspection")

HAZARD_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
REPORTERS = frozenset({Role.inspector, Role.supervisor})


def unknown_hazard() -> Refusal:
    return not_found("unknown_hazard", "隐患不存在")


def unit_label(taxonomy: Taxonomy, unit: str, township: str) -> str:
    """The responsible unit as the lists name it: a department, or the township itself (属地)."""
    return taxonomy.township_zh(township) if unit == TOWNSHIP_LED else taxonomy.unit_zh(unit)


# --- reporting ---------------------------------------------------------------------------------------------


def check_reporter(actor: Actor) -> None:
    if actor.role not in REPORTERS:
        raise Refusal(403, "forbidden_role", "只有督查专员可以上报隐患")


async def upload_photo(svc: Services, actor: Actor, upload: uploads.Upload) -> PhotoOut:
    """A photo taken on site (JPEG, PNG or WebP, its metadata — GPS, camera — stripped), kept for the report."""
    check_reporter(actor)
    f = await uploads.accept(upload, svc.settings.data_dir, svc.settings.max_upload_bytes, images_only=True)
    photo = InspectionPhoto(
        photo_id=uuid.uuid4().hex,
        uploaded_by=actor.username,
        filename=f.filename,
        content_type=f.content_type,
        size=f.size,
        stored_name=f.stored_name,
    )

    def save(db: Session) -> None:
        db.add(photo)
        db.commit()

    await run(svc.engine, save)
    return PhotoOut(photo_id=photo.photo_id, filename=f.filename, content_type=f.content_type, size=f.size)


def report_problems(svc: Services, body: HazardIn) -> list[Problem]:
    """Everything wrong with a report, for a form to show at once."""
    return body.problems(svc.settings, svc.taxonomy, datetime.now(UTC))


def _photos(db: Session, actor: Actor, ids: list[str]) -> list[Evidence]:
    if not ids:
        return []
    rows = {p.photo_id: p for p in db.exec(select(InspectionPhoto).where(InspectionPhoto.photo_id.in_(ids))).all()}
    out = []
    for photo_id in dict.fromkeys(ids):
        p = rows.get(photo_id)
        if p is None or p.uploaded_by != actor.username or p.hazard_id is not None:
            raise invalid("unknown_photo", f"照片 {photo_id} 不存在或已用于其他隐患", field="photos")
        out.append(
            Evidence(
                material_id=p.photo_id,
                filename=p.filename,
                content_type=p.content_type,
                size=p.size,
                stored_name=p.stored_name,
                by=p.uploaded_by,
                at=as_utc(p.uploaded_at),
            )
        )
    return out


async def report_hazard(svc: Services, actor: Actor, body: HazardIn) -> HazardCreated:
    """上报隐患: the hazard is handed on to the responsible unit with a deadline (by severity unless given)."""
    check_reporter(actor)
    problems = report_problems(svc, body)
    if problems:
        first = problems[0]
        raise invalid(first.code, first.message, field=first.field)

    def look_up(db: Session) -> list[Evidence]:
        if body.visit_id is not None and db.get(InspectionVisit, body.visit_id) is None:
            raise invalid("unknown_visit", f"未知的走访记录：{body.visit_id}", field="visit_id")
        return _photos(db, actor, body.photos)

    photos = await run(svc.engine, look_up)
    client = await svc.temporal.get()  # 503 before a number is taken when Temporal is away
    found_at = datetime.now(UTC)
    hazard_no = await asyncio.to_thread(codes.allocate_hazard_no, svc.engine, found_at)
    township = svc.taxonomy.township(body.township)
    report = HazardReport(
        hazard_id=uuid.uuid4().hex,
        hazard_no=hazard_no,
        domain=body.domain,
        township=body.township,
        district=township.district if township else None,
        visit_id=body.visit_id,
        site=body.site,
        description=body.description,
        severity=body.severity,
        unit=body.unit,
        responsible=body.responsible or None,
        measure=body.measure,
        found_by=actor.username,
        found_at=found_at,
        deadline=from_china_wall_time(body.deadline) if body.deadline else None,
        photos=photos,
    )
    start = HazardStart(report=report, levels=svc.settings.hazard_levels())
    await engine.start_hazard(client, svc.settings, start)
    log.info("hazard %s (%s) reported by %s", hazard_no, report.hazard_id, actor.username)
    return HazardCreated(
        hazard_id=report.hazard_id, hazard_no=hazard_no, deadline=hazards.initial_state(report, start.levels).deadline
    )


# --- finding and showing -----------------------------------------------------------------------------------


async def _find(svc: Services, hazard_id: str, actor: Actor) -> HazardState:
    """The hazard's state as last recorded (live when it is not recorded yet), if the caller may see it."""
    if not HAZARD_ID.fullmatch(hazard_id):
        raise unknown_hazard()
    row = await run(svc.engine, lambda db: db.get(HazardRow, hazard_id))
    state: HazardState | None = None
    if row is not None and row.state:
        state = HazardState.model_validate(row.state)
    else:
        client = await svc.temporal.get()
        try:
            handle = client.get_workflow_handle(workflow_id(hazard_id))
            state = await asyncio.wait_for(handle.query(HazardRectification.state), svc.settings.query_timeout_seconds)
        except Exception as err:  # not found, or no worker answered: either way nothing to show
            log.debug("hazard %s not readable live: %s", hazard_id, err)
            state = None
    if state is None:
        raise unknown_hazard()
    if not hazards.sees_hazard(actor, hazards.facts_of(state)):
        raise forbidden("not_in_jurisdiction", "该隐患不在您的管辖范围内")
    return state


def _file(e: Evidence) -> FileView:
    return FileView(
        file_id=e.material_id,
        filename=e.filename,
        content_type=e.content_type,
        size=e.size,
        note=e.note,
        by=e.by,
        at=e.at,
    )


def view_of(
    h: HazardState, events: list[HazardEventRow], actor: Actor, taxonomy: Taxonomy, now: datetime
) -> HazardView:
    r = h.report
    return HazardView(
        hazard_id=r.hazard_id,
        hazard_no=r.hazard_no,
        status=h.status.value,
        status_zh=STATUS_ZH[h.status],
        deadline=h.deadline,
        overdue=h.overdue,
        overdue_now=hazards.overdue_now(h.status, h.deadline, now),
        exposed=h.exposed_at is not None,
        exposed_at=h.exposed_at,
        domain=r.domain,
        domain_zh=taxonomy.inspection_domain_zh(r.domain),
        township=r.township,
        township_zh=taxonomy.township_zh(r.township),
        district=r.district,
        site=r.site,
        description=r.description,
        severity=r.severity,
        severity_zh=SEVERITY_ZH[r.severity],
        unit=r.unit,
        unit_zh=unit_label(taxonomy, r.unit, r.township),
        responsible=r.responsible,
        measure=r.measure,
        found_by=r.found_by,
        found_at=r.found_at,
        visit_id=r.visit_id,
        submitted_at=h.submitted_at,
        struck_off_at=h.struck_off_at,
        recheck_at=h.recheck_at,
        rechecked_at=h.rechecked_at,
        closed_at=h.closed_at,
        rejections=h.rejections,
        reopened=h.reopened,
        photos=[_file(p) for p in r.photos],
        evidence=[_file(e) for e in h.evidence],
        events=[
            HazardEventView(seq=e.seq, at=as_utc(e.at), type=e.type, actor=e.actor, detail=e.detail or {})
            for e in events
        ],
        allowed_steps=hazards.allowed_steps(h, actor),
    )


def _events(db: Session, hazard_id: str) -> list[HazardEventRow]:
    return list(db.exec(select(HazardEventRow).where(HazardEventRow.hazard_id == hazard_id).order_by("seq")).all())


async def get_hazard(svc: Services, hazard_id: str, actor: Actor) -> HazardView:
    h = await _find(svc, hazard_id, actor)
    events = await run(svc.engine, lambda db: _events(db, hazard_id))
    return view_of(h, events, actor, svc.taxonomy, datetime.now(UTC))


async def hazard_file(svc: Services, hazard_id: str, file_id: str, actor: Actor) -> MaterialFile:
    """A photo or a piece of evidence of a hazard the caller may see."""
    h = await _find(svc, hazard_id, actor)
    found = next((f for f in [*h.report.photos, *h.evidence] if f.material_id == file_id), None)
    if found is None:
        raise not_found("unknown_file", "文件不存在")
    try:
        path = uploads.path_of(svc.settings.data_dir, found.stored_name)
    except ValueError:
        raise not_found("unknown_file", "文件不存在") from None
    if not path.exists():
        raise not_found("unknown_file", "文件已不存在")
    return MaterialFile(path=path, content_type=found.content_type, filename=found.filename)


# --- the steps -----------------------------------------------------------------------------------------------


async def _step(svc: Services, hazard_id: str, actor: Actor, update: Callable, action: HazardAction) -> HazardView:
    await _find(svc, hazard_id, actor)
    client = await svc.temporal.get()
    try:
        await engine.update_workflow(client, workflow_id(hazard_id), update, action)
    except Refusal as r:
        if r.code == "case_closed":  # the workflow has ended: re-checked and closed
            raise Refusal(409, "hazard_closed", "该隐患已回头看合格并关闭") from None
        raise
    return await get_hazard(svc, hazard_id, actor)


async def may_submit_evidence(svc: Services, hazard_id: str, actor: Actor) -> None:
    """Refuse before a file is read: the caller must be allowed to hand in evidence now."""
    h = await _find(svc, hazard_id, actor)
    probe = EvidenceAction(
        actor=actor,
        evidence=Evidence(
            material_id="-", filename="-", content_type="-", size=0, stored_name="-", by=actor.username, at=h.deadline
        ),
    )
    try:
        hazards.check(h, "submit_evidence", probe)
    except hazards.CaseRuleError as e:
        raise Refusal(engine.STATUS_FOR_KIND[e.kind], e.code, e.message) from None


async def submit_evidence(svc: Services, hazard_id: str, actor: Actor, upload: uploads.Upload) -> HazardView:
    """提交整改材料: one file (a photo of the site put right, or a PDF) with a note, from the responsible unit."""
    await may_submit_evidence(svc, hazard_id, actor)
    f = await uploads.accept(upload, svc.settings.data_dir, svc.settings.max_upload_bytes)
    evidence = Evidence(
        material_id=uuid.uuid4().hex,
        filename=f.filename,
        content_type=f.content_type,
        size=f.size,
        stored_name=f.stored_name,
        note=f.note,
        by=actor.username,
        at=datetime.now(UTC),
    )
    try:
        return await _step(
            svc, hazard_id, actor, HazardRectification.submit_evidence, EvidenceAction(actor=actor, evidence=evidence)
        )
    except BaseException:
        await asyncio.to_thread(uploads.remove, svc.settings.data_dir, f.stored_name)
        raise


async def verify(svc: Services, hazard_id: str, actor: Actor, body: VerifyIn) -> HazardView:
    """验收: accept (struck off, 销号) or refuse with a reason (back to rectifying)."""
    action = VerifyAction(actor=actor, accept=body.accept, reason=body.reason)
    return await _step(svc, hazard_id, actor, HazardRectification.verify, action)


async def recheck(svc: Services, hazard_id: str, actor: Actor, body: RecheckIn) -> HazardView:
    """回头看: the hazard holds (closed) or is back (reopened with a new deadline)."""
    action = RecheckAction(actor=actor, holds=body.holds, note=body.note)
    return await _step(svc, hazard_id, actor, HazardRectification.recheck, action)


# --- the list ----------------------------------------------------------------------------------------------------


def _day_start(day: Any) -> datetime:
    return from_china_wall_time(datetime(day.year, day.month, day.day))


def hazard_query(actor: Actor, q: HazardListQuery) -> Any:
    """The WHERE clauses of a hazard list: the caller's jurisdiction and the filters (shared by lists and
    exports)."""
    conds: list[Any] = [sql.hazard_filter(actor)]
    if q.status:
        conds.append(HazardRow.status.in_(q.status))
    if q.district:
        conds.append(HazardRow.district.in_(q.district))
    if q.domain:
        conds.append(HazardRow.domain.in_(q.domain))
    if q.township:
        conds.append(HazardRow.township.in_(q.township))
    if q.unit:
        conds.append(HazardRow.unit.in_(q.unit))
    if q.overdue is not None:
        conds.append(HazardRow.overdue == q.overdue)
    if q.exposed is not None:
        conds.append(HazardRow.exposed_at.is_not(None) if q.exposed else HazardRow.exposed_at.is_(None))
    if q.start is not None:
        conds.append(HazardRow.found_at >= _day_start(q.start).replace(tzinfo=None))
    if q.end is not None:
        conds.append(HazardRow.found_at < (_day_start(q.end) + timedelta(days=1)).replace(tzinfo=None))
    return conds


def list_item(row: HazardRow, taxonomy: Taxonomy, now: datetime) -> HazardListItem:
    deadline = as_utc(row.deadline)
    return HazardListItem(
        hazard_id=row.hazard_id,
        hazard_no=row.hazard_no,
        status=row.status,
        status_zh=STATUS_ZH[hazards.HazardStatus(row.status)],
        domain=row.domain,
        domain_zh=taxonomy.inspection_domain_zh(row.domain),
        township=row.township,
        township_zh=taxonomy.township_zh(row.township),
        district=row.district,
        site=row.site,
        severity=row.severity,
        severity_zh=SEVERITY_ZH.get(row.severity, row.severity),  # type: ignore[call-overload]
        unit=row.unit,
        unit_zh=unit_label(taxonomy, row.unit, row.township),
        responsible=row.responsible,
        deadline=deadline,
        overdue=row.overdue,
        overdue_now=hazards.overdue_now(row.status, deadline, now),
        exposed=row.exposed_at is not None,
        found_at=as_utc(row.found_at),
    )


def list_hazards(db: Session, actor: Actor, query: HazardListQuery, taxonomy: Taxonomy, now: datetime) -> HazardListOut:
    """The hazards the caller may see, the most urgent first (open ones by deadline), then the rest newest first."""
    if actor.role not in hazards.COUNTY_WIDE | {Role.inspector, Role.leader, Role.mediator}:
        raise Refusal(403, "forbidden_role", "您的角色无权查看督查隐患")
    conds = hazard_query(actor, query)
    total = db.exec(select(func.count()).select_from(HazardRow).where(*conds)).one()
    is_open = HazardRow.status.in_([s.value for s in hazards.OPEN])
    rows = db.exec(
        select(HazardRow)
        .where(*conds)
        .order_by(is_open.desc(), HazardRow.deadline, HazardRow.found_at.desc())
        .offset((query.page - 1) * query.page_size)
        .limit(query.page_size)
    ).all()
    return HazardListOut(
        items=[list_item(r, taxonomy, now) for r in rows], total=total, page=query.page, page_size=query.page_size
    )
