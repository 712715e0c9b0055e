"""Walk one labour case from 白塔镇 through the whole system over HTTP, and try every bad input on the way.

    python scripts/walkthrough.py [--base http://127.0.0.1:8000] [--password wuhuan-demo]

Run it against `make run` started with short colour clocks, e.g.
    WUHUAN_SLA_YELLOW_AFTER=PT20S WUHUAN_SLA_RED_AFTER=PT40S make run
It prints each step with the time since intake and exits non-zero at the first thing that is not as the
contract says. The end-to-end test runs the same function against a fresh dev server."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

LABOUR = "白塔镇某工地包工头拖欠我们十几个工人三个月工资，共计八万多元，老板电话也打不通了"


def _photo() -> bytes:
    """A small real photo (the upload check decodes images and re-encodes them without EXIF)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 24), (180, 90, 40)).save(out, "PNG")
    return out.getvalue()


PNG_1PX = _photo()


@dataclass
class Report:
    started: float = field(default_factory=time.monotonic)
    lines: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    clock_seconds: dict[str, float] = field(default_factory=dict)  # intake → met/breached, per the workflow

    def step(self, text: str, mark: str | None = None) -> None:
        t = time.monotonic() - self.started
        if mark:
            self.timings[mark] = t
        line = f"[{t:7.2f}s] {text}"
        self.lines.append(line)
        print(line, flush=True)


class Failed(AssertionError):
    pass


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise Failed(what)


def refused(r: httpx.Response, status: int, what: str) -> None:
    ok = r.status_code == status
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
    detail = body.get("detail")
    shaped = isinstance(detail, dict) and "code" in detail and "message" in detail
    if status == 422 and isinstance(detail, list):
        shaped = True
    expect(
        ok and shaped, f"{what}: expected {status} with the contract's error shape, got {r.status_code} {r.text[:200]}"
    )


def wait_for(fn, what: str, timeout: float, every: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(every)
    raise Failed(f"timed out after {timeout:.0f}s waiting for: {what}")


def walkthrough(base: str, password: str, colour_timeout: float = 120.0, log=print) -> Report:
    rep = Report()
    api = httpx.Client(base_url=base, timeout=30)

    def token(user: str) -> dict[str, str]:
        r = api.post("/api/v1/auth/token", data={"username": user, "password": password})
        expect(r.status_code == 200, f"login {user}: {r.status_code} {r.text[:200]}")
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    hdr = {
        u: token(u)
        for u in (
            "clerk",
            "supervisor",
            "auditor",
            "county_leader",
            "cl.shehui",
            "renshe.mediator",
            "renshe.leader",
            "baita.leader",
            "fulian.mediator",
        )
    }

    # --- bad intake is refused and creates nothing ---
    citizen = {"name": "王小明", "phone": "13800001234"}
    refused(
        api.post("/api/v1/cases", json={"description": "", "citizen": citizen, "channel": "web"}), 422, "empty text"
    )
    refused(
        api.post("/api/v1/cases", json={"description": "欠薪" * 6000, "citizen": citizen, "channel": "web"}),
        422,
        "oversize text",
    )
    refused(
        api.post(
            "/api/v1/cases", json={"description": LABOUR, "citizen": {"name": "王", "phone": "12ab"}, "channel": "web"}
        ),
        422,
        "malformed phone",
    )
    refused(
        api.post(
            "/api/v1/cases", json={"description": LABOUR, "citizen": citizen, "township": "nowhere", "channel": "web"}
        ),
        422,
        "unknown township",
    )
    refused(
        api.post(
            "/api/v1/cases", json={"description": LABOUR, "citizen": citizen, "category": "astrology", "channel": "web"}
        ),
        422,
        "unknown category",
    )
    rep.step("bad intake refused: empty, oversize, phone, township, category")

    # --- intake ---
    rep.started = time.monotonic()
    r = api.post(
        "/api/v1/cases", json={"description": LABOUR, "citizen": citizen, "address": "白塔镇上街村", "channel": "web"}
    )
    expect(r.status_code == 201, f"intake: {r.status_code} {r.text[:300]}")
    created = r.json()
    case_id, code = created["case_id"], created["tracking_code"]
    rep.step(f"intake → {created['case_no']} (tracking code issued)", "intake")

    def case(user="supervisor"):
        r = api.get(f"/api/v1/cases/{case_id}", headers=hdr[user])
        expect(r.status_code == 200, f"case view: {r.status_code} {r.text[:200]}")
        return r.json()

    c = wait_for(lambda: x if (x := case())["status"] != "received" else None, "routing", 30, 0.05)
    rep.step(f"routed → {c['category']} / {c['unit']} / {c['township']}", "routed")
    expect((c["category"], c["unit"], c["township"]) == ("labor", "renshe", "baita"), f"routing: {c}")
    c = wait_for(lambda: x if (x := case())["handler"] else None, "handler", 30, 0.05)
    rep.step(f"assigned → {c['handler']}", "assigned")
    c = wait_for(lambda: x if (x := case())["team"] else None, "team", 30, 0.05)
    rep.step(f"team → {', '.join(c['team'])}", "team")

    # --- bad steps are refused and change nothing ---
    before = case()
    history_before = api.get(f"/api/v1/cases/{case_id}/history", headers=hdr["auditor"]).json()["events"]
    refused(api.post(f"/api/v1/track/{code}/rating", json={"score": 5}), 409, "rating before resolution")
    refused(
        api.post(
            f"/api/v1/cases/{case_id}/resolve",
            json={"outcome": "agreement", "summary": "x"},
            headers=hdr["fulian.mediator"],
        ),
        403,
        "resolve by another unit's mediator",
    )
    refused(api.post(f"/api/v1/cases/{case_id}/urge", json={}, headers=hdr["auditor"]), 403, "auditor acting")
    refused(api.post(f"/api/v1/cases/{case_id}/urge", json={}), 401, "no token")
    refused(
        api.post(f"/api/v1/cases/{case_id}/assign", json={"handler": "nobody.at.all"}, headers=hdr["supervisor"]),
        422,
        "unknown handler",
    )
    refused(
        api.post(
            f"/api/v1/cases/{case_id}/triage",
            json={"category": "labor", "unit": "renshe", "township": "atlantis"},
            headers=hdr["clerk"],
        ),
        422,
        "unknown township on triage",
    )
    refused(
        api.post(f"/api/v1/track/{code}/materials", files={"file": ("a.exe", b"MZ\x90\x00" * 64, "image/png")}),
        415,
        "wrong file type",
    )
    refused(
        api.post(
            f"/api/v1/track/{code}/materials", files={"file": ("big.png", PNG_1PX + b"\0" * (11 << 20), "image/png")}
        ),
        413,
        "oversize upload",
    )
    after = case()
    history_after = api.get(f"/api/v1/cases/{case_id}/history", headers=hdr["auditor"]).json()["events"]
    for key in ("status", "handler", "team", "clocks", "supervision_color"):
        expect(before[key] == after[key], f"a refused step changed {key}")
    expect(len(history_before) == len(history_after), "a refused step left a trace in the history")
    rep.step("bad steps refused (409, 403 ×2, 401, 422 ×2, 415, 413); state and history unchanged")

    r = api.post(
        f"/api/v1/track/{code}/materials",
        files={"file": ("欠条.png", PNG_1PX, "image/png")},
        data={"note": "工资欠条照片"},
    )
    expect(r.status_code in (200, 201), f"material: {r.status_code} {r.text[:200]}")
    rep.step("citizen added a photo")

    # --- yellow, red, leaders told ---
    def inbox(user):
        return api.get("/api/v1/notifications", headers=hdr[user]).json()

    wait_for(lambda: case()["supervision_color"] == "yellow", "yellow", colour_timeout)
    rep.step("supervision code turned yellow", "yellow")
    for leader in ("renshe.leader", "baita.leader"):
        wait_for(
            lambda leader=leader: any(n["kind"] == "turned_yellow" and n["case_id"] == case_id for n in inbox(leader)),
            f"{leader} told of yellow",
            30,
        )
    rep.step("renshe.leader and baita.leader notified (turned_yellow)")
    wait_for(lambda: case()["supervision_color"] == "red", "red", colour_timeout)
    rep.step("supervision code turned red", "red")
    # The joint mechanism: red goes to the county leader in charge of 人社局 (cl.shehui), who leads the task force.
    wait_for(
        lambda: any(n["kind"] == "turned_red" and n["case_id"] == case_id for n in inbox("cl.shehui")),
        "the county leader in charge told of red",
        30,
    )
    board = api.get("/api/v1/supervision/board", headers=hdr["supervisor"]).json()
    expect(any(x.get("case_id") == case_id for x in board.get("red", [])), "red list on the board")
    rep.step("cl.shehui (in charge of 人社局) notified (turned_red); case on the board's red list with its task force")
    now = datetime.now(UTC).isoformat()
    r = api.post(
        f"/api/v1/cases/{case_id}/consultations",
        headers=hdr["county_leader"],
        json={
            "summary": "专班会商：人社局、白塔镇联合约谈项目方",
            "held_at": now,
            "participants": ["人社局", "白塔镇"],
        },
    )
    expect(r.status_code == 200, f"consultation: {r.status_code} {r.text[:200]}")

    # --- mediation, resolution, rating ---
    r = api.post(
        f"/api/v1/cases/{case_id}/mediations",
        headers=hdr["renshe.mediator"],
        json={
            "summary": "组织劳资双方调解，项目方同意分两期支付",
            "held_at": now,
            "participants": ["王小明", "项目方"],
        },
    )
    expect(r.status_code == 200, f"mediation: {r.status_code} {r.text[:200]}")
    r = api.post(
        f"/api/v1/cases/{case_id}/resolve",
        headers=hdr["renshe.mediator"],
        json={"outcome": "agreement", "summary": "达成调解协议，十日内结清"},
    )
    expect(r.status_code == 200 and r.json()["status"] == "resolved", f"resolve: {r.status_code} {r.text[:200]}")
    rep.step("mediation recorded, case resolved", "resolved")
    t = api.get(f"/api/v1/track/{code}").json()
    expect(t["can_rate"] and "13800001234" not in str(t), "tracking page: can rate, no phone in clear")
    r = api.post(f"/api/v1/track/{code}/rating", json={"score": 5, "comment": "很满意"})
    expect(r.status_code == 200, f"rating: {r.status_code} {r.text[:200]}")
    wait_for(lambda: case()["status"] == "closed", "closed", 30)
    rep.step("citizen rated 5, case closed", "closed")

    # --- audit ---
    events = api.get(f"/api/v1/cases/{case_id}/history", headers=hdr["auditor"]).json()["events"]
    types = [e["type"] for e in events]
    for t_ in (
        "received",
        "routed",
        "assigned",
        "team_formed",
        "turned_yellow",
        "turned_red",
        "mediation_recorded",
        "resolved",
        "rated",
        "closed",
    ):
        expect(t_ in types, f"history lacks {t_}: {types}")
    r = api.post(f"/api/v1/cases/{case_id}/replay", headers=hdr["auditor"]).json()
    expect(r["deterministic"], f"replay: {r}")
    rep.step(f"history has {len(events)} business events; replay deterministic over {r['events']} history events")
    # The workflow's own record of its clocks: the figures the board's compliance is computed from.
    final = case()
    received = datetime.fromisoformat(final["received_at"])
    for clock in final["clocks"]:
        at = clock["met_at"] or clock["breached_at"]
        if at:
            rep.clock_seconds[clock["name"]] = (datetime.fromisoformat(at) - received).total_seconds()
    return rep


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="http://127.0.0.1:8000")
    p.add_argument("--password", default="wuhuan-demo")
    p.add_argument("--colour-timeout", type=float, default=120.0)
    a = p.parse_args()
    try:
        rep = walkthrough(a.base, a.password, a.colour_timeout)
    except Failed as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    t, c = rep.timings, rep.clock_seconds
    print(
        f"seen over HTTP: intake→routed {t['routed'] - t['intake']:.2f}s, intake→assigned "
        f"{t['assigned'] - t['intake']:.2f}s, intake→team {t['team'] - t['intake']:.2f}s"
    )
    print(
        "recorded by the workflow (intake → met or breached): "
        + ", ".join(f"{name} {seconds:.3f}s" for name, seconds in c.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
