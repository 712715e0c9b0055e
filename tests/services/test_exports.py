"""The Excel workbooks (services/exports.py), opened again with openpyxl: the board's six sheets with their rows,
Chinese headers, frozen header rows and A4 landscape print setup; a case list with every matching row, masked as
the list masks it, within the caller's jurisdiction, refused beyond the cap."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from domain.models import Actor, Role
from domain.taxonomy import get_taxonomy
from services import board, exports
from services.errors import Refusal
from services.schemas import CaseListQuery
from store.db import session
from tests.services.board_county import NOW, phone, seed

SUPERVISOR = Actor(username="supervisor", role=Role.supervisor)
FULIAN = Actor(username="fulian.leader", role=Role.leader, unit="fulian")


@pytest.fixture
def county(engine):
    seed(engine)
    return engine


def opened(data: bytes):
    return load_workbook(BytesIO(data))


def values(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def every_cell(wb) -> list[str]:
    return [str(v) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r if v is not None]


def test_board_workbook(county):
    with session(county) as db:
        view = board.board(db, SUPERVISOR, get_taxonomy(), NOW, board.parse_period("2026-01-01", None))
    export = exports.board_export(view)
    assert export.filename.startswith("督办看板_全县_") and export.filename.endswith(".xlsx")
    wb = opened(export.data)
    assert wb.sheetnames == ["概览", "按单位", "按乡镇", "黄码案件", "红码案件", "周趋势", "县领导领衔专班"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$1:$1"
        assert ws.column_dimensions["A"].width > 8

    overview = dict(values(wb["概览"])[1:])
    assert overview["统计范围"] == "全县" and overview["统计期间（按受理时间）"] == "2026-01-01 至 现在"
    assert (overview["当前在办案件"], overview["当前红码案件"], overview["期间受理"]) == (5, 1, 9)
    assert overview["3分钟分流达标率"] == 1.0 and overview["改革前平均办结天数（基线）"] == 28.5

    units = values(wb["按单位"])
    assert units[0][:6] == ["单位", "在办", "绿码", "黄码", "红码", "期间受理"]
    renshe = next(r for r in units if r[0] == "县人力社保局")
    assert renshe[1:9] == [0, 0, 0, 0, 4, 3, 5.67, 4.0]
    # 官路镇 has no row: its one case (J) arrived before the period and is closed.
    townships = ["安洲街道", "白塔镇", "福应街道", "田市镇", "未明确", "下各镇"]
    assert [r[0] for r in values(wb["按乡镇"])[1:]] == townships

    yellow, red = values(wb["黄码案件"]), values(wb["红码案件"])
    assert yellow[0] == [
        "案件编号",
        "状态",
        "纠纷类型",
        "事权单位",
        "乡镇（街道）",
        "承办人",
        "受理时间",
        "已办天数",
        "分管县领导",
        "暂停计时",
        "专班逾期",
    ]
    assert [r[0] for r in yellow[1:]] == ["WH-2026-F"] and yellow[1][8] == "县委副书记、政法委书记"
    assert red[1][:5] == ["WH-2026-E", "调处中", "邻里纠纷", "属地乡镇", "下各镇"]
    assert red[1][6].isoformat() == "2026-02-20T10:00:00"  # China wall time

    weeks = values(wb["周趋势"])
    assert weeks[0][0] == "周次" and [r[0] for r in weeks[1:]][:2] == ["2026-W01", "2026-W02"]
    assert next(r for r in weeks if r[0] == "2026-W10")[3:] == [2, 3.5, 28.5, -25.0]


def test_case_list_workbook_is_the_whole_list_masked(county):
    with session(county) as db:
        export = exports.cases_export(db, SUPERVISOR, CaseListQuery(), get_taxonomy(), NOW)
    assert export.filename == "案件清单_20260310-1200.xlsx"
    wb = opened(export.data)
    assert wb.sheetnames == ["案件清单"]
    ws = wb["案件清单"]
    rows = values(ws)
    assert rows[0][:3] == ["案件编号", "状态", "督办码"] and ws.freeze_panes == "A2"
    assert [r[0] for r in rows[1:]] == [f"WH-2026-{c}" for c in "IDGCFBAEHJ"]  # newest first, all ten
    cells = every_cell(wb)
    assert "139****0004" in cells and "王**" in cells  # D's phone and name, masked as the list masks them
    assert not any(phone(c) in cell for c in "ABCDEFGHIJ" for cell in cells)
    assert "王小明" not in cells


def test_case_list_workbook_keeps_the_filters_and_the_jurisdiction(county):
    tx = get_taxonomy()
    with session(county) as db:
        closed = exports.cases_export(db, SUPERVISOR, CaseListQuery(status=["closed"]), tx, NOW)
        fulian = exports.cases_export(db, FULIAN, CaseListQuery(), tx, NOW)
        fulian_renshe = exports.cases_export(db, FULIAN, CaseListQuery(unit=["renshe"]), tx, NOW)
    assert [r[0] for r in values(opened(closed.data).active)[1:]] == [f"WH-2026-{c}" for c in "BAHJ"]
    assert [r[0] for r in values(opened(fulian.data).active)[1:]] == ["WH-2026-D"]
    assert values(opened(fulian_renshe.data).active)[1:] == []


def test_case_list_workbook_is_refused_beyond_the_cap(county, monkeypatch):
    monkeypatch.setattr(exports, "EXPORT_MAX_ROWS", 9)
    with session(county) as db, pytest.raises(Refusal) as err:
        exports.cases_export(db, SUPERVISOR, CaseListQuery(), get_taxonomy(), NOW)
    assert (err.value.status_code, err.value.code) == (422, "export_too_large")
    assert "10" in err.value.message and err.value.detail["limit"] == 9
    with session(county) as db:  # a narrower list passes
        exports.cases_export(db, SUPERVISOR, CaseListQuery(status=["closed"]), get_taxonomy(), NOW)


def test_text_people_typed_stays_text(county):
    from sqlalchemy import update

    from store.tables import Case

    with session(county) as db:
        db.exec(update(Case).where(Case.case_no == "WH-2026-D").values(description='=HYPERLINK("http://x","点我")\x0b'))
        db.commit()
        export = exports.cases_export(db, SUPERVISOR, CaseListQuery(q="WH-2026-D"), get_taxonomy(), NOW)
    ws = opened(export.data).active
    summary = next(c for c in ws[2] if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert summary.data_type == "s" and summary.value == '=HYPERLINK("http://x","点我")'  # not a formula
