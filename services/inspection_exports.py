"""Excel workbooks of the safety-inspection module: the three lists (三张清单) and the figures, for the JSON API and
the staff pages alike, built with the helpers of services/exports.py (Chinese headers, set widths, the header row
frozen and printed on every page, A4 landscape, China wall time, typed text never run as a formula). A list holds
every row the same filters show the caller on the page (services/inspection_reports.py), up to EXPORT_MAX_ROWS."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from sqlmodel import Session

from domain.models import Actor
from domain.taxonomy import Taxonomy
from services import inspection_reports as reports
from services.errors import Refusal
from services.exports import (
    EXPORT_MAX_ROWS,
    PERCENT,
    WHEN,
    Column,
    Export,
    _cell,
    _rows,
    _save,
    _sheet,
    _stamp,
    _wall,
    period_text,
)

CHUNK = 2000  # rows read and shaped at a time: a long list never sits in memory twice
NONE = "—"

HAZARD_COLUMNS = [
    Column("编号", 18),
    Column("领域", 14),
    Column("乡镇（街道）", 12),
    Column("片区", 9),
    Column("场所", 24),
    Column("隐患描述", 48),
    Column("等级", 7),
    Column("责任单位", 20),
    Column("发现时间", 17, WHEN),
    Column("状态", 11),
    Column("整改期限", 17, WHEN),
    Column("当前逾期", 9),
]
MEASURE_COLUMNS = [
    Column("编号", 18),
    Column("隐患", 48),
    Column("整改措施", 40),
    Column("整改期限", 17, WHEN),
    Column("提交时间", 17, WHEN),
    Column("销号时间", 17, WHEN),
    Column("是否按期", 9),
    Column("回头看", 20),
    Column("回头看时间", 17, WHEN),
]
RESPONSIBILITY_COLUMNS = [
    Column("编号", 18),
    Column("责任单位", 20),
    Column("责任人", 12),
    Column("单位主要领导", 16),
    Column("整改期限", 17, WHEN),
    Column("逾期", 9),
    Column("曝光", 12),
    Column("回炉班", 30),
    Column("约谈", 22),
]
COLUMNS = {"hazards": HAZARD_COLUMNS, "measures": MEASURE_COLUMNS, "responsibilities": RESPONSIBILITY_COLUMNS}
ATTENDED_ZH = {True: "已参训", False: "缺席", None: "待考勤"}


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def _day(t: datetime | None) -> str:
    wall = _wall(t)
    return wall.strftime("%Y-%m-%d") if wall else NONE


def _values(kind: str, row: Any) -> list[Any]:
    if kind == "hazards":
        return [
            row.hazard_no,
            row.domain_zh,
            row.township_zh,
            row.district_zh,
            row.site,
            row.description,
            row.severity_zh,
            row.unit_zh,
            _wall(row.found_at),
            row.status_zh,
            _wall(row.deadline),
            _yes(row.overdue_now),
        ]
    if kind == "measures":
        return [
            row.hazard_no,
            f"{row.site}：{row.description}",
            row.measure,
            _wall(row.deadline),
            _wall(row.submitted_at),
            _wall(row.struck_off_at),
            row.on_time_zh,
            row.recheck_zh,
            _wall(row.rechecked_at),
        ]
    overdue = "逾期中" if row.overdue_now else ("曾逾期" if row.overdue else "否")
    retraining = "；".join(f"{e.person}（{e.class_date}，{ATTENDED_ZH[e.attended]}）" for e in row.retraining)
    summonses = "；".join(f"已约谈 {_day(s.held_at)}" if s.held_at else "待约谈" for s in row.summonses)
    return [
        row.hazard_no,
        row.unit_zh,
        row.responsible or NONE,
        row.leader_name or row.leader or NONE,
        _wall(row.deadline),
        overdue,
        _day(row.exposed_at) if row.exposed_at else "否",
        retraining or NONE,
        summonses or NONE,
    ]


def list_export(
    db: Session, actor: Actor, kind: str, tx: Taxonomy, now: datetime, f: reports.InspectionFilters
) -> Export:
    """Every row of the list with these filters (not a page), newest found first; 422 `export_too_large` beyond
    EXPORT_MAX_ROWS."""
    reports.check_kind(kind)
    total = reports.count_list(db, actor, f)
    if total > EXPORT_MAX_ROWS:
        raise Refusal(
            422,
            "export_too_large",
            f"符合条件的隐患共 {total} 条，超过单次导出上限 {EXPORT_MAX_ROWS} 条，请缩小筛选范围后再导出",
            total=total,
            limit=EXPORT_MAX_ROWS,
        )

    def values() -> Iterable[list[Any]]:
        for offset in range(0, total, CHUNK):
            rows = reports.list_hazard_rows(db, actor, f, offset, CHUNK)
            for row in reports.list_rows(db, kind, rows, tx, now):
                yield _values(kind, row)

    title = reports.LIST_KINDS[kind]
    columns = COLUMNS[kind]
    wb = Workbook(write_only=True)
    ws = _sheet(wb, title, columns)
    _rows(ws, columns, values())
    return Export(_save(wb), f"{title}_{_stamp(now)}.xlsx")


# --- the figures ----------------------------------------------------------------------------------------------

GROUP_COLUMNS = [
    Column("发现隐患", 10),
    Column("到期", 8),
    Column("按期销号", 10),
    Column("整改率", 10, PERCENT),
    Column("回头看到期", 11),
    Column("已回头看", 10),
    Column("回头看率", 10, PERCENT),
    Column("复发", 8),
    Column("复发率", 10, PERCENT),
    Column("当前逾期", 10),
]


def _rate(x: float | None) -> Any:
    return NONE if x is None else x


def _group_values(g: reports.FigureGroup) -> list[Any]:
    return [
        g.found,
        g.due,
        g.on_time,
        _rate(g.rectification_rate),
        g.recheck_due,
        g.rechecked,
        _rate(g.recheck_rate),
        g.recurred,
        _rate(g.recurrence_rate),
        g.overdue_now,
    ]


def figures_workbook(f: reports.InspectionFigures) -> bytes:
    wb = Workbook(write_only=True)
    ws = _sheet(wb, "概览", [Column("项目", 34), Column("数值", 24)])
    lines: list[tuple[str, Any, str | None]] = [
        ("统计期间", period_text(f.period), None),
        ("生成时间", _wall(f.generated_at), WHEN),
        ("发现隐患（期间发现）", f.found, None),
        ("其中仍未整改完毕", f.open, None),
        ("其中已销号", f.struck_off, None),
        ("其中回头看合格", f.closed, None),
        ("到期隐患（期间到期）", f.due, None),
        ("按期销号", f.on_time, None),
        ("整改率（按期销号/到期）", _rate(f.rectification_rate), PERCENT),
        ("回头看到期", f.recheck_due, None),
        ("已回头看", f.rechecked, None),
        ("回头看率", _rate(f.recheck_rate), PERCENT),
        ("回头看复发", f.recurred, None),
        ("复发率", _rate(f.recurrence_rate), PERCENT),
        ("当前逾期未整改", f.overdue, None),
    ]
    for label, value, fmt in lines:
        ws.append([label, _cell(ws, value, fmt)])

    columns = [Column("片区", 12), *GROUP_COLUMNS]
    ws = _sheet(wb, "按片区", columns)
    _rows(ws, columns, ([g.district_zh, *_group_values(g)] for g in f.by_district))

    columns = [Column("领域", 16), *GROUP_COLUMNS]
    ws = _sheet(wb, "按领域", columns)
    _rows(ws, columns, ([g.domain_zh, *_group_values(g)] for g in f.by_domain))

    columns = [Column("责任单位", 24), Column("当前逾期", 10), Column("曾逾期", 10), Column("隐患数", 10)]
    ws = _sheet(wb, "按单位逾期", columns)
    _rows(ws, columns, ([u.unit_zh, u.overdue_now, u.overdue_ever, u.hazards] for u in f.overdue_by_unit))
    return _save(wb)


def figures_export(f: reports.InspectionFigures) -> Export:
    return Export(figures_workbook(f), f"平安督查统计_{_stamp(f.generated_at)}.xlsx")
