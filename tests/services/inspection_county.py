"""A small county of twelve hazards whose inspection figures can be worked out by hand, written straight into the
read model's `hazards`, `retraining_enrolments` and `summonses` tables as the hazard recorder leaves them.

NOW is Friday 20 March 2026, 10:00 China time; d(n) is NOW + n days. A hazard *falls due* at its deadline, or when
struck off if that is earlier (services/inspection_reports.py).

     domain (district)      unit      found deadline submitted struck on-time recheck    reopened status
                                                                          due / done
 H01 work_safety baita (2)  yingji    -20   -10      -12       -11    yes     -1 / -0.5  0        rechecked
 H02 work_safety baita (2)  yingji    -18   -8       -9        -7     yes     +5 / -     0        struck_off
 H03 traffic fuying (1)     jiaojing  -15   -5       -         -      -       -          0        assigned (a)
 H04 traffic fuying (1)     jiaojing  -14   -4       -2        -1     no      +29 / -    0        struck_off (b)
 H05 fire baita (2)         township  -16   +6 (*)   -7        -6.5   yes     -2 / -1    1        reopened
 H06 food_drug guanlu (3)   shijian   -3    +4       -         -      -       -          0        assigned
 H07 food_drug guanlu (3)   shijian   -25   -15      -16       -15.5  yes     -5 / -     0        struck_off
 H08 rental fuying (1)      gongan    -12   -2       -3        -      -       -          0        submitted
 H09 rental baita (2)       township  -10   -1       -         -      -       -          0        rectifying (c)
 H10 counter_terror guanlu  gongan    -40   -30      -31       -29    yes     -10 / -9   0        rechecked
 H11 drowning fuying (1)    township  -1    +9       -         -      -       -          0        assigned
 H12 traffic guanlu (3)     jiaojing  -35   -1 (*)   -20       -19    no      -4 / -4    1        reopened (d)

 fire = residential_fire, rental = rental_housing. Overdue and exposed: (a) at -5, (b) at -4, (c) at -1, (d) at
 -25. They fall due at: H01 -11, H02 -8, H03 -5, H04 -4, H05 -6.5, H07 -15.5, H08 -2, H09 -1, H10 -30, H12 -19;
 H06 (+4) and H11 (+9) not yet.
 (*) the new deadline after the re-check found the hazard back.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine

from domain.taxonomy import get_taxonomy
from store.db import session
from store.tables import HazardRow, RetrainingEnrolment, Summons

NOW = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)  # 10:00 China time


def d(days: float, now: datetime = NOW) -> datetime:
    return now + timedelta(days=days)


def _row(
    now: datetime, no: str, domain: str, township: str, unit: str, found: float, deadline: float, status: str, **over
) -> HazardRow:
    tx = get_taxonomy()
    t = tx.township(township)
    assert t is not None
    fields = dict(
        hazard_id=f"hz-{no}",
        hazard_no=no,
        domain=domain,
        township=township,
        district=t.district,
        site=f"{no}号点位",
        description=f"{no} 隐患描述",
        severity="general",
        unit=unit,
        responsible=f"{no}责任人",
        measure=f"{no} 整改措施",
        found_by="insp.gongan.01",
        found_at=d(found, now),
        deadline=d(deadline, now),
        status=status,
    )
    for key, value in over.items():
        fields[key] = d(value, now) if key.endswith("_at") and isinstance(value, int | float) else value
    return HazardRow(**fields)


def hazards(now: datetime = NOW) -> list[HazardRow]:
    return [
        _row(now, "H01", "work_safety", "baita", "yingji", -20, -10, "rechecked", submitted_at=-12, struck_off_at=-11,
             struck_off_on_time=True, recheck_due_at=-1, rechecked_at=-0.5, closed_at=-0.5),
        _row(now, "H02", "work_safety", "baita", "yingji", -18, -8, "struck_off", submitted_at=-9, struck_off_at=-7,
             struck_off_on_time=True, recheck_due_at=5, recheck_at=5),
        _row(now, "H03", "traffic", "fuying", "jiaojing", -15, -5, "assigned", overdue=True, exposed_at=-5),
        _row(now, "H04", "traffic", "fuying", "jiaojing", -14, -4, "struck_off", overdue=True, exposed_at=-4,
             submitted_at=-2, struck_off_at=-1, struck_off_on_time=False, recheck_due_at=29, recheck_at=29),
        _row(now, "H05", "residential_fire", "baita", "township", -16, 6, "reopened", submitted_at=-7,
             struck_off_at=-6.5,
             struck_off_on_time=True, recheck_due_at=-2, rechecked_at=-1, reopened=1),
        _row(now, "H06", "food_drug", "guanlu", "shijian", -3, 4, "assigned"),
        _row(now, "H07", "food_drug", "guanlu", "shijian", -25, -15, "struck_off", submitted_at=-16,
             struck_off_at=-15.5,
             struck_off_on_time=True, recheck_due_at=-5),
        _row(now, "H08", "rental_housing", "fuying", "gongan", -12, -2, "submitted", submitted_at=-3),
        _row(now, "H09", "rental_housing", "baita", "township", -10, -1, "rectifying", overdue=True, exposed_at=-1,
             rejections=1, responsible=None),
        _row(now, "H10", "counter_terror", "guanlu", "gongan", -40, -30, "rechecked", submitted_at=-31,
             struck_off_at=-29,
             struck_off_on_time=True, recheck_due_at=-10, rechecked_at=-9, closed_at=-9),
        _row(now, "H11", "drowning", "fuying", "township", -1, 9, "assigned"),
        _row(now, "H12", "traffic", "guanlu", "jiaojing", -35, -1, "reopened", overdue=True, exposed_at=-25,
             submitted_at=-20, struck_off_at=-19, struck_off_on_time=False, recheck_due_at=-4, rechecked_at=-4,
             reopened=1),
    ]  # fmt: skip


CLASS_NEXT, CLASS_LAST = date(2026, 3, 27), date(2026, 3, 13)


def seed(engine: Engine, now: datetime = NOW) -> None:
    """The county as it stands at `now` (the API tests seed it around the real clock)."""
    with session(engine) as db:
        db.add_all(hazards(now))
        db.add_all(
            [
                RetrainingEnrolment(key="hz-H03:1", class_date=CLASS_NEXT, hazard_id="hz-H03", hazard_no="H03",
                                    unit="jiaojing", township="fuying", person="张三", enrolled_at=d(-5, now)),
                RetrainingEnrolment(key="hz-H09:1", class_date=CLASS_NEXT, hazard_id="hz-H09", hazard_no="H09",
                                    unit="township", township="baita", person="李四", enrolled_at=d(-1, now)),
                RetrainingEnrolment(key="hz-H12:1", class_date=CLASS_LAST, hazard_id="hz-H12", hazard_no="H12",
                                    unit="jiaojing", township="guanlu", person="王五", enrolled_at=d(-25, now),
                                    attended=True, marked_by="supervisor", marked_at=d(-7, now)),
                Summons(key="hz-H03:1", unit="jiaojing", township="fuying", leader="jiaojing.leader",
                        hazard_id="hz-H03", hazard_no="H03", earlier_hazard_nos=["H12"],
                        reason="县公安局交警大队在 90 天内再次出现逾期未整改隐患", created_at=d(-5, now)),
            ]
        )  # fmt: skip
        db.commit()
