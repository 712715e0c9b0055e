"""The board with a period and both Excel exports over HTTP: the real app on httpx's ASGI transport and a real
SQLite read model holding the hand-computed county of tests/services/board_county.py (no workflow is needed: the
board and the exports read the read model only)."""

from __future__ import annotations

from io import BytesIO
from urllib.parse import unquote

import httpx
import pytest_asyncio
from openpyxl import load_workbook

from tests.api.conftest import Api, assert_error, make_settings
from tests.services.board_county import phone, seed

BOARD, BOARD_XLSX, CASES_XLSX = (
    "/api/v1/supervision/board",
    "/api/v1/supervision/board.xlsx",
    "/api/v1/cases/export.xlsx",
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest_asyncio.fixture
async def http(engine, tmp_path):
    from api.main import create_app

    seed(engine)
    app = create_app(make_settings(tmp_path), engine=engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield Api(client, None, [])


def rows(response: httpx.Response, sheet: str | None = None) -> list[list]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    wb = load_workbook(BytesIO(response.content))
    ws = wb[sheet] if sheet else wb.active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def cells(response: httpx.Response) -> list[str]:
    wb = load_workbook(BytesIO(response.content))
    return [str(v) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r if v is not None]


async def test_board_with_a_period(http):
    sup = await http.auth("supervisor")
    everything = (await http.get(BOARD, headers=sup)).json()
    assert everything["totals"] == {"cases": 10, "resolved": 4, "closed": 4, "open": 5}
    r = await http.get(BOARD, params={"from": "2026-02-27", "to": "2026-03-01"}, headers=sup)
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["period"] == {"start": "2026-02-26T16:00:00Z", "end": "2026-03-01T16:00:00Z"}
    assert b["totals"]["cases"] == 3 and b["median_resolution_days"] == 3.5
    assert b["by_colour"] == {"green": 3, "yellow": 1, "red": 1}
    assert [c["case_no"] for c in b["red"]] == ["WH-2026-E"] and b["red"][0]["leader_in_charge"] == "cl.chengjian"
    assert b["trend"]["baseline_days"] == 28.5 and [w["week"] for w in b["trend"]["weeks"]] == ["2026-W09"]
    renshe = next(u for u in b["by_unit"] if u["unit"] == "renshe")
    assert renshe["clocks"]["assigned"] == {"met": 1, "breached": 1, "running": 0, "stopped": 0, "compliance": 0.5}

    leader = (await http.get(BOARD, headers=await http.auth("fulian.leader"))).json()
    assert leader["scope"] == "fulian" and leader["totals"]["cases"] == 1 and leader["red"] == []


async def test_a_bad_period_is_422_in_the_contracts_shape(http):
    sup = await http.auth("supervisor")
    for path in (BOARD, BOARD_XLSX):
        for params in ({"from": "2026-02-30"}, {"to": "next week"}, {"from": "2026-03-02", "to": "2026-03-01"}):
            detail = assert_error(await http.get(path, params=params, headers=sup), 422, "invalid_period")
            assert detail["message"].startswith("统计期间")


async def test_board_workbook(http):
    r = await http.get(BOARD_XLSX, params={"from": "2026-01-01"}, headers=await http.auth("supervisor"))
    assert "attachment" in r.headers["content-disposition"]
    assert unquote(r.headers["content-disposition"].split("filename*=UTF-8''")[1]).startswith("督办看板_全县_")
    assert [row[0] for row in rows(r, "红码案件")[1:]] == ["WH-2026-E"]
    assert [row[0] for row in rows(r, "黄码案件")[1:]] == ["WH-2026-F"]
    assert load_workbook(BytesIO(r.content)).sheetnames == [
        "概览",
        "按单位",
        "按乡镇",
        "黄码案件",
        "红码案件",
        "周趋势",
        "县领导领衔专班",
    ]

    assert_error(await http.get(BOARD_XLSX, headers=await http.auth("renshe.mediator")), 403, "forbidden_role")
    assert_error(await http.get(BOARD_XLSX), 401, "not_authenticated")


async def test_case_list_workbook(http):
    r = await http.get(CASES_XLSX, headers=await http.auth("supervisor"))
    listed = rows(r)
    assert len(listed) == 11 and listed[0][0] == "案件编号"
    everything = cells(r)
    assert "139****0000" in everything  # A's phone, masked as the list masks it
    assert not any(phone(c) in cell for c in "ABCDEFGHIJ" for cell in everything)

    page = (await http.get("/api/v1/cases", params={"status": "closed"}, headers=await http.auth("supervisor"))).json()
    closed = rows(await http.get(CASES_XLSX, params={"status": "closed"}, headers=await http.auth("supervisor")))
    assert [row[0] for row in closed[1:]] == [i["case_no"] for i in page["items"]]
    assert {row[12] for row in closed[1:]} == {i["citizen_phone"] for i in page["items"]}

    assert_error(await http.get(CASES_XLSX), 401, "not_authenticated")


async def test_a_leader_of_another_unit_gets_none_of_its_cases_in_either_export(http):
    fulian = await http.auth("fulian.leader")
    assert [row[0] for row in rows(await http.get(CASES_XLSX, headers=fulian))[1:]] == ["WH-2026-D"]
    assert rows(await http.get(CASES_XLSX, params={"unit": "renshe"}, headers=fulian))[1:] == []
    board = await http.get(BOARD_XLSX, headers=fulian)
    text = " ".join(cells(board))
    assert "县妇联" in text and "县人力社保局" not in text
    assert not any(f"WH-2026-{c}" in text for c in "ABCEFGHIJ")
    for sheet in ("黄码案件", "红码案件"):
        assert rows(board, sheet)[1:] == []
    # A township's leader: their township's case only, on the red list.
    xiage = await http.get(BOARD_XLSX, headers=await http.auth("xiage.leader"))
    assert [row[0] for row in rows(xiage, "红码案件")[1:]] == ["WH-2026-E"]
    assert [row[0] for row in rows(xiage, "按乡镇")[1:]] == ["下各镇"]
