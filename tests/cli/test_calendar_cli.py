"""`wuhuan calendar load | show` through the installed console script: a good file is loaded and shown with its
source; a bad one is refused with the reason and nothing is written (not even over an earlier good load)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from store.db import make_engine, session
from store.tables import CalendarDay, CalendarYear

WUHUAN = Path(sys.executable).parent / "wuhuan"
FIXTURE_2027 = Path(__file__).parents[1] / "domain" / "data" / "calendar-2027.yaml"
EXAMPLE = Path(__file__).parents[2] / "docs" / "calendar-2027.example.yaml"


@pytest.fixture
def wuhuan(tmp_path):
    env = dict(os.environ, WUHUAN_DATABASE_URL=f"sqlite:///{tmp_path / 'read.db'}", WUHUAN_DATA_DIR=str(tmp_path))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(WUHUAN), *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    assert run("db", "upgrade").returncode == 0
    return run


def stored(tmp_path) -> tuple[list[tuple], int]:
    engine = make_engine(f"sqlite:///{tmp_path / 'read.db'}")
    try:
        with session(engine) as db:
            years = [(y.year, y.source, y.loaded_by) for y in db.exec(select(CalendarYear)).all()]
            return years, len(db.exec(select(CalendarDay)).all())
    finally:
        engine.dispose()


def test_load_and_show_a_year(wuhuan, tmp_path):
    out = wuhuan("calendar", "show", "2027")
    assert out.returncode == 1 and "2027年：没有节假日安排" in out.stdout and "周一至周五" in out.stdout

    out = wuhuan("calendar", "load", str(FIXTURE_2027), "--by", "county-ops")
    assert out.returncode == 0, out.stderr
    assert "loaded 2027 (18 days off, 3 make-up working days)" in out.stdout and "county-ops" in out.stdout
    assert stored(tmp_path) == (
        [(2027, "测试用日程（非官方，tests/domain/data/calendar-2027.yaml）", "county-ops")],
        21,
    )

    out = wuhuan("calendar", "show", "2027")
    assert out.returncode == 0, out.stderr
    assert "来源：测试用日程" in out.stdout and "导入：county-ops" in out.stdout
    assert "春节：2027-02-06（周六） 至 2027-02-13（周六），共8天" in out.stdout
    assert "2027-02-14（周日）（春节）" in out.stdout

    again = wuhuan("calendar", "load", str(FIXTURE_2027), "--by", "county-ops")
    assert again.returncode == 0 and "replaced 2027" in again.stdout
    assert stored(tmp_path)[1] == 21


def test_show_a_year_of_the_package(wuhuan):
    out = wuhuan("calendar", "show", "2026")
    assert out.returncode == 0 and "chinesecalendar" in out.stdout and "随 chinesecalendar 软件包提供" in out.stdout
    assert "国庆节：2026-10-01（周四） 至 2026-10-07（周三），共7天" in out.stdout
    assert "2026-09-20（周日）（国庆节）" in out.stdout and "2026-10-10（周六）（国庆节）" in out.stdout


BAD = {
    "weekday_make_up": ("year: 2027\nsource: 通知\nholidays: [{name: 元旦, from: 2027-01-01, to: 2027-01-01}]\n"
                        "workdays: [2027-01-04]\n", "不是周六或周日"),
    "outside_the_year": ("year: 2027\nsource: 通知\nholidays: [{name: 国庆节, from: 2028-10-01, to: 2028-10-07}]\n",
                         "不在2027年内"),
    "make_up_on_a_holiday": ("year: 2027\nsource: 通知\nholidays: [{name: 元旦, from: 2027-01-01, to: 2027-01-03}]\n"
                             "workdays: [2027-01-02]\n", "既是放假日"),
    "not_yaml": ("year: [2027\n", "不是有效的 YAML"),
    "no_source": ("year: 2027\nholidays: [{name: 元旦, from: 2027-01-01, to: 2027-01-01}]\n", "source 不能为空"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_file_is_refused_and_nothing_is_written(wuhuan, tmp_path, name):
    assert wuhuan("calendar", "load", str(FIXTURE_2027)).returncode == 0
    before = stored(tmp_path)
    text, says = BAD[name]
    bad = tmp_path / f"{name}.yaml"
    bad.write_text(text, encoding="utf-8")
    out = wuhuan("calendar", "load", str(bad))
    assert out.returncode == 1 and "refused, nothing written" in out.stderr and says in out.stderr, out.stderr
    assert stored(tmp_path) == before  # the earlier 2027 stays as it was


def test_the_shipped_example_is_refused(wuhuan, tmp_path):
    out = wuhuan("calendar", "load", str(EXAMPLE))
    assert out.returncode == 1 and "示例文件" in out.stderr
    assert stored(tmp_path) == ([], 0)
    missing = wuhuan("calendar", "load", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 1 and "读不了文件" in missing.stderr
