"""Excel workbooks (openpyxl) of the supervision board and of a case list, for the JSON API and the staff pages
alike: each function returns the file's bytes and a file name; the entry point only hands them out.

Every sheet has Chinese headers, set column widths, its header row frozen and repeated on each printed page, and
prints on A4 landscape fitted to the page width. Times are China wall time (Excel has no time zones). A case list
holds exactly what the JSON list shows, masked the same way (services.views.list_item)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import func
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from domain.case_flow import STATUS_ZH
from domain.models import Actor, CaseStatus
from domain.taxonomy import Taxonomy
from domain.times import china_local
from services import views
from services.cases import list_conditions
from services.errors import Refusal
from services.schemas import BoardCase, BoardGroup, BoardPeriod, BoardView, CaseListQuery
from store.tables import Case

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A list bigger than this is refused rather than written: a workbook of 50,000 rows takes seconds to build and
# is about all a person can still filter in Excel; beyond it, narrower filters are the answer.
EXPORT_MAX_ROWS = 50_000
COLOUR_ZH = {"green": "绿码", "yellow": "黄码", "red": "红码"}
CHANNEL_ZH = {"web": "网上", "kiosk": "自助终端", "phone": "电话", "clerk": "窗口代录"}
PERCENT, DAYS, WHEN = "0.0%", "0.00", "yyyy-mm-dd hh:mm"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


@dataclass(frozen=True)
class Export:
    data: bytes
    filename: str  # may be Chinese; the entry point encodes it for its channel
    media_type: str = XLSX


@dataclass(frozen=True)
class Column:
    title: str
    width: float
    number_format: str | None = None


def _wall(t: datetime | None) -> datetime | None:
    """China wall time without a zone: what Excel can hold."""
    return china_local(t).replace(tzinfo=None) if t is not None else None


def _sheet(wb: Workbook, title: str, columns: Sequence[Column]) -> Any:
    ws = wb.create_sheet(title)
    for i, c in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = c.width
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as it takes
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    header = []
    for c in columns:
        cell = WriteOnlyCell(ws, value=c.title)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        header.append(cell)
    ws.append(header)
    return ws


def _cell(ws: Any, value: Any, number_format: str | None) -> Any:
    """A value as a cell. Text is what people typed: characters a workbook cannot hold are dropped, and text that
    starts with "=" stays text (openpyxl would write it as a formula, which Excel would run)."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith("="):
            cell = WriteOnlyCell(ws, value=value)
            cell.data_type = "s"
            return cell
        return value
    if number_format is None or value is None:
        return value
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = number_format
    return cell


def _rows(ws: Any, columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> None:
    formats = [c.number_format for c in columns]
    for row in rows:
        ws.append([_cell(ws, value, fmt) for value, fmt in zip(row, formats, strict=True)])


def _save(wb: Workbook) -> bytes:
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _stamp(t: datetime) -> str:
    return china_local(t).strftime("%Y%m%d-%H%M")


# --- the supervision board --------------------------------------------------------------------------------


def period_zh(view: BoardView) -> str:
    return period_text(view.period)


def period_text(period: BoardPeriod) -> str:
    """The period in words, China time: a bound at midnight shows as a date (an end at midnight is the day
    before, the last one included)."""

    def show(t: datetime, end: bool) -> str:
        local = china_local(t)
        if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
            return (local - timedelta(days=1) if end else local).strftime("%Y-%m-%d")
        return local.strftime("%Y-%m-%d %H:%M")

    start, end = period.start, period.end
    if start is None and end is None:
        return "全部"
    return f"{show(start, False) if start else '最早'} 至 {show(end, True) if end else '现在'}"


GROUP_COLUMNS = [
    Column("在办", 8),
    Column("绿码", 8),
    Column("黄码", 8),
    Column("红码", 8),
    Column("期间受理", 10),
    Column("期间办结", 10),
    Column("平均办结天数", 12, DAYS),
    Column("办结天数中位数", 12, DAYS),
    Column("分流达标率（≤3分钟）", 14, PERCENT),
    Column("交办达标率（≤5分钟）", 14, PERCENT),
    Column("组团达标率（≤1小时）", 14, PERCENT),
    Column("平均评分", 10, "0.00"),
    Column("满意率（4–5分）", 13, PERCENT),
    Column("评价件数", 10),
    Column("申请复核件数", 12),
    Column("复核率", 10, PERCENT),
]


def _group_values(g: BoardGroup) -> list[Any]:
    return [
        g.open,
        g.green,
        g.yellow,
        g.red,
        g.received,
        g.resolved,
        g.average_days,
        g.median_days,
        *(g.clocks[name].compliance for name in ("routed", "assigned", "team")),
        g.satisfaction.average,
        g.satisfaction.satisfied_share,
        g.satisfaction.count,
        g.reviewed,
        g.review_rate,
    ]


CASE_COLUMNS = [
    Column("案件编号", 20),
    Column("状态", 10),
    Column("纠纷类型", 16),
    Column("事权单位", 20),
    Column("乡镇（街道）", 12),
    Column("承办人", 16),
    Column("受理时间", 17, WHEN),
    Column("已办天数", 10, DAYS),
    Column("分管县领导", 24),
    Column("暂停计时", 8),
    Column("专班逾期", 8),
]


def _case_values(c: BoardCase) -> list[Any]:
    return [
        c.case_no,
        c.status_zh,
        c.category_zh,
        c.unit_zh if c.unit != "township" else "属地乡镇",
        c.township_zh,
        c.handler_name or c.handler,
        _wall(c.received_at),
        c.days_open,
        c.leader_in_charge_zh,
        _yes(c.paused),
        _yes(c.task_force_overdue),
    ]


def board_workbook(view: BoardView) -> bytes:
    wb = Workbook(write_only=True)

    overview = [Column("项目", 30), Column("数值", 24)]
    ws = _sheet(wb, "概览", overview)
    sl = view.service_levels
    lines: list[tuple[str, Any, str | None]] = [
        ("统计范围", view.scope_zh, None),
        ("统计期间（按受理时间）", period_zh(view), None),
        ("生成时间", _wall(view.generated_at), WHEN),
        ("当前在办案件", view.totals.open, None),
        *((f"当前{COLOUR_ZH[c]}案件", view.by_colour.get(c, 0), None) for c in ("green", "yellow", "red")),
        ("在办专班", len(view.task_forces), None),
        ("期间受理", view.totals.cases, None),
        ("期间办结", view.totals.resolved, None),
        ("期间评价归档", view.totals.closed, None),
        ("平均办结天数", view.average_resolution_days, DAYS),
        ("办结天数中位数", view.median_resolution_days, DAYS),
        ("改革前平均办结天数（基线）", view.trend.baseline_days, DAYS),
        ("3分钟分流达标率", sl["routed"].compliance, PERCENT),
        ("5分钟交办达标率", sl["assigned"].compliance, PERCENT),
        ("1小时组团达标率", sl["team"].compliance, PERCENT),
        ("7天内办结（未转黄）率", sl["yellow"].compliance, PERCENT),
        ("14天内办结（未转红）率", sl["red"].compliance, PERCENT),
        ("评价件数", view.satisfaction.count, None),
        ("平均评分", view.satisfaction.average, "0.00"),
        ("满意率（4–5分）", view.satisfaction.satisfied_share, PERCENT),
        ("申请复核件数", view.reviewed, None),
        ("复核率", view.review_rate, PERCENT),
        ("外部渠道未送达消息", view.undelivered.messages, None),
        ("当前暂停计时案件", view.standstill.paused_now, None),
        ("期间暂停过的案件（已恢复计时）", view.standstill.paused_cases, None),
        ("累计暂停天数", view.standstill.paused_days, DAYS),
        ("批准延期（次）", view.standstill.extensions_approved, None),
        ("不予延期（次）", view.standstill.extensions_refused, None),
        ("退回案件", view.standstill.sent_back_cases, None),
        ("退回（次）", view.standstill.sent_back, None),
        ("逾期专班", sum(1 for f in view.task_forces if f.overdue), None),
        ("说明", "办结天数按受理至办结的自然日计算，含暂停与延期时间", None),
    ]
    for label, value, fmt in lines:
        ws.append([label, _cell(ws, value if value is not None else "—", fmt)])

    columns = [Column("单位", 24), *GROUP_COLUMNS]
    ws = _sheet(wb, "按单位", columns)
    _rows(ws, columns, ([u.unit_zh, *_group_values(u)] for u in view.by_unit))

    columns = [Column("乡镇（街道）", 14), *GROUP_COLUMNS]
    ws = _sheet(wb, "按乡镇", columns)
    _rows(ws, columns, ([t.township_zh, *_group_values(t)] for t in view.by_township))

    for title, cases in (("黄码案件", view.yellow), ("红码案件", view.red)):
        ws = _sheet(wb, title, CASE_COLUMNS)
        _rows(ws, CASE_COLUMNS, (_case_values(c) for c in cases))

    columns = [
        Column("周次", 12),
        Column("起（周一）", 12, "yyyy-mm-dd"),
        Column("止（周日）", 12, "yyyy-mm-dd"),
        Column("办结件数", 10),
        Column("平均办结天数", 12, DAYS),
        Column("基线天数", 10, DAYS),
        Column("较基线（天）", 12, DAYS),
    ]
    ws = _sheet(wb, "周趋势", columns)
    baseline = view.trend.baseline_days
    _rows(
        ws,
        columns,
        ([w.week, w.start, w.end, w.resolved, w.average_days, baseline, w.difference_days] for w in view.trend.weeks),
    )

    columns = [
        Column("案件编号", 20),
        Column("逾期", 6),
        Column("牵头县领导", 14),
        Column("专班成员", 40),
        Column("参与单位", 36),
        Column("成立时间", 17, WHEN),
        Column("破难期限", 17, WHEN),
        Column("会商次数", 10),
    ]
    ws = _sheet(wb, "县领导领衔专班", columns)
    _rows(
        ws,
        columns,
        (
            [
                f.case_no,
                _yes(f.overdue),
                f.led_by_name or f.led_by,
                "、".join(f.member_names),
                "、".join(f.units_zh),
                _wall(f.started_at),
                _wall(f.deadline),
                f.consultations,
            ]
            for f in view.task_forces
        ),
    )
    return _save(wb)


def board_export(view: BoardView) -> Export:
    return Export(board_workbook(view), f"督办看板_{view.scope_zh}_{_stamp(view.generated_at)}.xlsx")


# --- a case list --------------------------------------------------------------------------------------------

LIST_COLUMNS = [
    Column("案件编号", 20),
    Column("状态", 10),
    Column("督办码", 8),
    Column("纠纷类型", 16),
    Column("事权单位", 20),
    Column("乡镇（街道）", 12),
    Column("承办人", 16),
    Column("组团成员", 24),
    Column("超时", 6),
    Column("待人工分流", 10),
    Column("渠道", 8),
    Column("当事人", 10),
    Column("联系电话", 14),
    Column("诉求摘要", 48),
    Column("受理时间", 17, WHEN),
    Column("办结时间", 17, WHEN),
    Column("归档时间", 17, WHEN),
    Column("评分", 6),
]


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def cases_export(db: Session, actor: Actor, query: CaseListQuery, tx: Taxonomy, now: datetime) -> Export:
    """Every case the list with these filters would show the actor (not a page), newest first; 422
    `export_too_large` beyond EXPORT_MAX_ROWS."""
    conds = list_conditions(actor, query)
    total = db.exec(select(func.count()).select_from(Case).where(*conds)).one()
    if total > EXPORT_MAX_ROWS:
        raise Refusal(
            422,
            "export_too_large",
            f"符合条件的案件共 {total} 件，超过单次导出上限 {EXPORT_MAX_ROWS} 件，请缩小筛选范围后再导出",
            total=total,
            limit=EXPORT_MAX_ROWS,
        )
    rows = db.exec(
        select(Case)
        .options(defer(Case.state))  # the workflow's whole state, kilobytes a row, is not in the workbook
        .where(*conds)
        .order_by(Case.received_at.desc(), Case.case_no.desc())
        .execution_options(yield_per=2000)
    )

    def values() -> Iterable[list[Any]]:
        for row in rows:
            i = views.list_item(row)  # the list's own masking, so the file shows no more than the page
            yield [
                i.case_no,
                STATUS_ZH.get(CaseStatus(i.status), i.status),
                COLOUR_ZH.get(i.supervision_color, i.supervision_color),
                tx.category_zh(i.category) if i.category else None,
                ("属地乡镇" if i.unit == "township" else tx.unit_zh(i.unit)) if i.unit else None,
                tx.township_zh(i.township) if i.township else None,
                i.handler,
                "、".join(i.team),
                _yes(i.overdue),
                _yes(i.needs_manual_triage),
                CHANNEL_ZH.get(i.channel, i.channel),
                i.citizen_name,
                i.citizen_phone,
                i.summary,
                _wall(i.received_at),
                _wall(i.resolved_at),
                _wall(i.closed_at),
                i.rating,
            ]

    wb = Workbook(write_only=True)
    ws = _sheet(wb, "案件清单", LIST_COLUMNS)
    _rows(ws, LIST_COLUMNS, values())
    return Export(_save(wb), f"案件清单_{_stamp(now)}.xlsx")
