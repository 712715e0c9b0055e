"""`wuhuan triage classify | train | evaluate`, run as the installed command, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

WUHUAN = Path(sys.executable).parent / "wuhuan"


def run(args, stdin="", env=None):
    return subprocess.run(
        [str(WUHUAN), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_classify_writes_one_routing_per_line():
    lines = [{"id": "a", "text": "白塔镇某工地包工头拖欠工人三个月工资"}, {"id": "b", "text": "你好"}]
    out = run(["triage", "classify"], "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert rows[0] | {"confidence": 0} == {
        "id": "a",
        "category": "labor",
        "unit": "renshe",
        "township": "baita",
        "confidence": 0,
        "auto": True,
    }
    assert rows[1]["auto"] is False and set(rows[1]) == {"id", "category", "unit", "township", "confidence", "auto"}


def test_classify_refuses_a_bad_line_but_answers_the_rest():
    out = run(["triage", "classify"], 'not json\n{"id": "x", "text": "邻居噪音"}\n')
    assert out.returncode == 1 and "line 1" in out.stderr
    assert json.loads(out.stdout)["id"] == "x"


def test_train_with_a_county_history_makes_a_current_model(tmp_path):
    history = tmp_path / "county.jsonl"
    history.write_text(
        json.dumps(
            {"id": "h1", "text": "村里的水库承包合同到期了不给续", "category": "village_affairs"}, ensure_ascii=False
        )
        + "\n"
    )
    env = {"WUHUAN_MODEL_DIR": str(tmp_path / "models"), "WUHUAN_DATA_DIR": str(tmp_path)}
    out = run(["triage", "train", "--history", str(history), "--no-db"], env=env)
    assert out.returncode == 0, out.stderr
    assert "1 from history files" in out.stdout
    current = (tmp_path / "models" / "current").read_text().strip()
    assert (tmp_path / "models" / f"triage-{current}.pkl").exists()


def test_evaluate_prints_baseline_and_ours_side_by_side(tmp_path):
    data = tmp_path / "few.jsonl"
    rows = [
        ("工地老板欠了我们半年的工钱不给", "labor", None),
        ("楼上天天半夜蹦迪吵死了 我是南峰街道的", "neighbor", "nanfeng"),
        ("在医院做了手术以后腿一直肿", "medical", None),
    ]
    data.write_text(
        "".join(
            json.dumps({"id": str(i), "text": t, "category": c, "township": w}, ensure_ascii=False) + "\n"
            for i, (t, c, w) in enumerate(rows)
        )
    )
    out = run(["triage", "evaluate", "--data", str(data)])
    assert out.returncode == 0, out.stderr
    assert "baseline" in out.stdout and "wuhuan" in out.stdout and "top-1 accuracy" in out.stdout
    assert "township (属地)" in out.stdout


def test_evaluate_reports_township_by_kind_of_text_for_both_resolvers_in_one_run(tmp_path):
    """One text of each kind, over two files: the shipped resolver beside the first-mention rule per slice."""
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    rows_a = [
        ("白塔镇某工地包工头拖欠工人三个月工资", "labor", "baita"),
        ("我住在白塔镇 在田市镇一个厂里上班 老板欠了我三个月工资", "labor", "tianshi"),
    ]
    rows_b = [
        ("我们高迁村的老房子 我堂哥一个人拆了卖木头", "housing_homestead", "baita"),
        ("邻居家排水沟堵了，水都流到我家院子里", "neighbor", None),
    ]
    for path, rows in ((a, rows_a), (b, rows_b)):
        path.write_text(
            "".join(
                json.dumps({"id": f"{path.stem}{i}", "text": t, "category": c, "township": w}, ensure_ascii=False)
                + "\n"
                for i, (t, c, w) in enumerate(rows)
            )
        )
    out = run(["triage", "evaluate", "--data", str(a), "--data", str(b), "--json"])
    assert out.returncode == 0, out.stderr
    slices = {s["kind"]: s for s in json.loads(out.stdout)["township_slices"]}
    assert {k: slices[k]["n"] for k in slices} == {"one": 1, "multi": 1, "village": 1, "none": 1}
    # the shipped resolver places the work place and the village; the first-mention rule takes the home
    assert slices["multi"]["shipped_right"] == 1 and slices["multi"]["first_right"] == 0
    assert slices["village"]["shipped_right"] == 1 and slices["village"]["first_right"] == 0
    assert slices["one"]["shipped_right"] == slices["one"]["first_right"] == 1
    text = run(["triage", "evaluate", "--data", str(a), "--data", str(b)]).stdout
    assert "names two or more places" in text and "names only a village" in text
