"""The leaders' morning digest on a seeded read model: who gets one, over which cases, and what it says.

case  unit     township  colour  clocks                               digest of
R1    renshe   baita     red     task force past its deadline         renshe.leader, baita.leader, cl.shehui,
                                                                       county_leader (the convener: red only)
Y1    fayuan   anzhou    yellow  red due in 3 days                    fayuan.leader, anzhou.leader, cl.zhengfa
G1    renshe   tianshi   green   yellow due today 15:00 China time    renshe.leader, tianshi.leader, cl.shehui
G2    weijian  tianshi   green   nothing due today                    nobody (weijian.leader gets no e-mail)
X     renshe   baita     red     closed                               nobody
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from activities.digest import DigestSender
from activities.records import apply_snapshot
from domain.digest import DigestRequest
from domain.models import CaseIntake, CaseState, CaseStatus, Clock, ServiceLevels, SupervisionColour
from domain.taxonomy import get_taxonomy
from store.db import session
from store.tables import Case, TaskForceRow

DAY = date(2026, 12, 7)  # a Monday
NOW = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # 07:30 China time on DAY
LEVELS = ServiceLevels(
    routed_within=timedelta(minutes=3),
    assigned_within=timedelta(minutes=5),
    team_within=timedelta(hours=1),
    yellow_after=timedelta(days=7),
    red_after=timedelta(days=14),
    close_unrated_after=timedelta(days=7),
)


def case(no, unit, township, colour, received, clocks, status=CaseStatus.mediating, category="labor"):
    s = CaseState(
        case_id=f"c-{no}",
        case_no=no,
        received_at=received,
        intake=CaseIntake(description="x", citizen_name="王小明", citizen_phone="13800001234", channel="web"),
        intake_by="citizen",
        levels=LEVELS,
        status=status,
        colour=SupervisionColour(colour),
        category=category,
        unit=unit,
        township=township,
        clocks=clocks,
    )
    row = Case(
        case_id=s.case_id,
        case_no=no,
        status="received",
        colour="green",
        description="x",
        citizen_name="x",
        citizen_phone="x",
        channel="web",
        received_at=received,
    )
    apply_snapshot(row, s)
    return row


def seed(engine):
    t0 = NOW - timedelta(days=20)
    with session(engine) as db:
        db.add(
            case("R1", "renshe", "baita", "red", t0, [Clock(name="red", due_at=t0 + timedelta(days=14), breached=True)])
        )
        db.add(
            case(
                "Y1",
                "fayuan",
                "anzhou",
                "yellow",
                NOW - timedelta(days=11),
                [Clock(name="red", due_at=NOW + timedelta(days=3))],
                category="contract_debt",
            )
        )
        three_pm = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # 15:00 China time on DAY
        db.add(
            case("G1", "renshe", "tianshi", "green", NOW - timedelta(days=6), [Clock(name="yellow", due_at=three_pm)])
        )
        db.add(
            case(
                "G2",
                "weijian",
                "tianshi",
                "green",
                NOW - timedelta(days=2),
                [Clock(name="yellow", due_at=NOW + timedelta(days=5))],
                category="medical",
            )
        )
        db.add(case("X", "renshe", "baita", "red", t0, [], status=CaseStatus.closed))
        db.add(
            TaskForceRow(
                case_id="c-R1",
                led_by="cl.shehui",
                units=["renshe"],
                started_at=t0 + timedelta(days=14),
                deadline=t0 + timedelta(days=17),
                overdue_at=t0 + timedelta(days=17),
            )
        )
        db.commit()


def test_each_leader_gets_the_cases_in_their_reach(engine):
    seed(engine)
    sender = DigestSender(engine, get_taxonomy(), lambda *a: True)
    with session(engine) as db:
        got = {u: d for u, _, d in sender.digests(db, DAY, NOW)}

    def nos(d):
        return ([c.case_no for c in d.red], [c.case_no for c in d.yellow], [c.case_no for c in d.due_today])

    assert nos(got["renshe.leader"]) == (["R1"], [], ["G1"])
    assert nos(got["baita.leader"]) == (["R1"], [], [])
    assert nos(got["tianshi.leader"]) == ([], [], ["G1"])
    assert nos(got["fayuan.leader"]) == ([], ["Y1"], [])
    assert nos(got["anzhou.leader"]) == ([], ["Y1"], [])
    assert nos(got["cl.shehui"]) == (["R1"], [], ["G1"])  # 人社局 and 白塔镇、田市镇 are in their charge
    assert nos(got["cl.zhengfa"]) == ([], ["Y1"], [])  # 法院 and 安洲街道
    assert nos(got["county_leader"]) == (["R1"], [], [])  # the convener: every red case, nothing else
    # Nothing to report, no e-mail: 卫健局's case is green with nothing due today; the closed red case counts nowhere.
    assert "weijian.leader" not in got and "cl.anquan" not in got


def test_the_digest_says_what_is_red_yellow_and_due_today_and_is_sent_once_a_day(engine):
    seed(engine)
    queued: dict[str, tuple[str, str, str, str]] = {}

    def queue_email(db, username, key, subject, text, html):
        if key in queued:
            return False
        queued[key] = (username, subject, text, html)
        return True

    sender = DigestSender(engine, get_taxonomy(), queue_email, clock=lambda: NOW)
    first = sender.send_daily_digests(DigestRequest(day=DAY))
    again = sender.send_daily_digests(DigestRequest(day=DAY))
    assert (first.sent, again.sent) == (8, 0)  # the eight leaders above
    username, subject, text, html = queued["digest:2026-12-07:cl.shehui"]
    assert subject == "【每日督办】12月7日：红码 1 件、黄码 0 件、今日到期 1 件"
    assert "R1 劳资纠纷 · 县人力社保局、白塔镇 · 已20天（专班已逾期）" in text
    assert "G1：转黄 15:00" in text
    assert "<td>R1</td>" in html and "专班已逾期" in html
    with session(engine) as db:
        assert db.exec(select(Case).where(Case.case_no == "R1")).one()
