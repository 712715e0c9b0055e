"""A small county whose board figures can be worked out by hand, written into a real read model as the record
activity writes it (each case a CaseState turned into its `cases` row by activities.records.apply_snapshot).

All times are China time (UTC+8); NOW is Tuesday 10 March 2026, 12:00. ISO weeks: W01 is 29 Dec 2025 – 4 Jan
2026, W09 23 Feb – 1 Mar, W10 2 – 8 Mar, W11 9 – 15 Mar.

 case  category          unit      township  received (China)   what happened                           now
 A     labor (team)      renshe    baita     27 Feb 00:30 (*)   resolved Mon 2 Mar 00:30 (**): 3.0 d,   closed
                                                                rated 5; every clock met
 B     labor (team)      renshe    baita     28 Feb 00:30       resolved 1 Mar, rated 2, asked for      closed
                                                                review, re-handled 2 Mar, resolved
                                                                again 4 Mar 00:30: 4.0 d, rated 4;
                                                                assigned and team clocks breached
 C     medical (team)    weijian   tianshi   2 Mar 10:00        resolved, rated 1, review, re-handled:  mediating, green
                                                                open again, no rating; team has a
                                                                renshe member
 D     marriage (no team) fulian   fuying    Mon 9 Mar 00:00    assigned                                assigned, green
 E     neighbor (no team) township xiage     20 Feb 10:00       yellow and red clocks breached          mediating, red
 F     contract debt     fayuan    anzhou    28 Feb 10:00       yellow breached, red running            assigned, yellow
 G     labor (team)      renshe    baita     3 Mar 09:00        withdrawn: the rest of its clocks       withdrawn
                                                                stopped
 H     labor (team)      renshe    tianshi   5 Jan 09:00        resolved 15 Jan 09:00: 10.0 d, rated 3, closed
                                                                yellow breached
 I     (not routed)      —         —         10 Mar 11:58       waiting for routing                     received, green
 J     consumer (no team) shijian  guanlu    31 Dec 20:00       resolved 1 Jan 02:00 (***): 0.25 d,     closed
                                                                closed unrated

 (*) 26 Feb in UTC; (**) Sunday 1 Mar in UTC, another ISO week; (***) 31 Dec in UTC, another month and year.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from activities.records import apply_snapshot
from domain.models import (
    Actor,
    CaseIntake,
    CaseState,
    CaseStatus,
    Clock,
    Rating,
    Resolution,
    Review,
    Role,
    ServiceLevels,
    SupervisionColour,
)
from domain.times import CHINA
from store.db import session
from store.tables import Case

LEVELS = ServiceLevels(
    routed_within=timedelta(minutes=3),
    assigned_within=timedelta(minutes=5),
    team_within=timedelta(hours=1),
    yellow_after=timedelta(days=7),
    red_after=timedelta(days=14),
    close_unrated_after=timedelta(days=7),
)


def china(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHINA).astimezone(UTC)


NOW = china(3, 10, 12)


def phone(case: str) -> str:
    return f"1390000{ord(case) - ord('A'):04d}"


def person(username: str) -> Actor:
    unit, _ = username.split(".")
    from domain.taxonomy import get_taxonomy

    is_township = get_taxonomy().township(unit) is not None
    return Actor(
        username=username,
        role=Role.mediator,
        unit=None if is_township else unit,
        township=unit if is_township else None,
    )


def make(
    case: str,
    received: datetime,
    category: str | None,
    unit: str | None,
    township: str | None,
    status: str,
    colour: str,
    clocks: dict[str, tuple[str, datetime | None]],
    *,
    handler: str | None = None,
    team: tuple[str, ...] = (),
    resolved: datetime | None = None,
    rating: int | None = None,
    review: Review | None = None,
    closed: datetime | None = None,
) -> CaseState:
    """One case's state; `clocks` maps a clock to (met | breached | stopped | running, when)."""
    due = {
        "routed": LEVELS.routed_within,
        "assigned": LEVELS.assigned_within,
        "team": LEVELS.team_within,
        "yellow": LEVELS.yellow_after,
        "red": LEVELS.red_after,
    }
    made = []
    for name, (state, at) in clocks.items():
        c = Clock(name=name, due_at=received + due[name])
        if state == "met":
            c.met_at = at
        elif state == "breached":
            c.breached, c.breached_at = True, c.due_at
        elif state == "stopped":
            c.stopped_at = at
        made.append(c)
    return CaseState(
        case_id=f"case-{case}",
        case_no=f"WH-2026-{case}",
        received_at=received,
        intake=CaseIntake(description=f"案件{case}：诉求", citizen_name="王小明", citizen_phone=phone(case)),
        intake_by="citizen",
        levels=LEVELS,
        status=CaseStatus(status),
        colour=SupervisionColour(colour),
        category=category,
        unit=unit,
        township=township,
        handler=person(handler) if handler else None,
        team=[person(m) for m in team],
        clocks=made,
        resolution=Resolution(outcome="agreement", summary="达成协议", by=handler or "x", at=resolved)
        if resolved
        else None,
        rating=Rating(score=rating, at=(closed or resolved or received)) if rating else None,
        review=review,
        closed_at=closed,
    )


def county() -> list[CaseState]:
    met = lambda at: ("met", at)  # noqa: E731
    A_in, B_in, C_in = china(2, 27, 0, 30), china(2, 28, 0, 30), china(3, 2, 10)
    # fmt: off
    return [
        make(
            "A", A_in, "labor", "renshe", "baita", "closed", "green",
            {"routed": met(A_in), "assigned": met(A_in), "team": met(A_in), "yellow": met(china(3, 2, 0, 30)),
             "red": met(china(3, 2, 0, 30))},
            handler="renshe.mediator", team=("renshe.mediator", "baita.mediator"),
            resolved=china(3, 2, 0, 30), rating=5, closed=china(3, 2, 9),
        ),
        make(
            "B", B_in, "labor", "renshe", "baita", "closed", "green",
            {"routed": met(B_in), "assigned": ("breached", None), "team": ("breached", None),
             "yellow": met(china(3, 4, 0, 30)), "red": met(china(3, 4, 0, 30))},
            handler="renshe.mediator", team=("renshe.mediator", "baita.mediator"),
            resolved=china(3, 4, 0, 30), rating=4, closed=china(3, 5, 9),
            review=Review(status="rehandled", reason="不满意", requested_at=china(3, 1, 14), rating=2,
                          decided_by="supervisor", decided_at=china(3, 2, 9)),
        ),
        make(
            "C", C_in, "medical", "weijian", "tianshi", "mediating", "green",
            {"routed": met(C_in), "assigned": met(C_in), "team": met(C_in), "yellow": ("running", None),
             "red": ("running", None)},
            handler="weijian.mediator", team=("weijian.mediator", "renshe.mediator", "tianshi.mediator"),
            review=Review(status="rehandled", reason="没解决", requested_at=china(3, 4, 10), rating=1,
                          decided_by="supervisor", decided_at=china(3, 5, 10)),
        ),
        make(
            "D", china(3, 9), "marriage_family", "fulian", "fuying", "assigned", "green",
            {"routed": met(china(3, 9)), "assigned": met(china(3, 9)), "yellow": ("running", None),
             "red": ("running", None)},
            handler="fulian.mediator",
        ),
        make(
            "E", china(2, 20, 10), "neighbor", "township", "xiage", "mediating", "red",
            {"routed": met(china(2, 20, 10)), "assigned": met(china(2, 20, 10)), "yellow": ("breached", None),
             "red": ("breached", None)},
            handler="xiage.mediator",
        ),
        make(
            "F", china(2, 28, 10), "contract_debt", "fayuan", "anzhou", "assigned", "yellow",
            {"routed": met(china(2, 28, 10)), "assigned": met(china(2, 28, 10)), "yellow": ("breached", None),
             "red": ("running", None)},
            handler="fayuan.mediator",
        ),
        make(
            "G", china(3, 3, 9), "labor", "renshe", "baita", "withdrawn", "green",
            {"routed": met(china(3, 3, 9)), "assigned": ("stopped", china(3, 3, 9, 4)),
             "team": ("stopped", china(3, 3, 9, 4)), "yellow": ("stopped", china(3, 3, 9, 4)),
             "red": ("stopped", china(3, 3, 9, 4))},
            closed=china(3, 3, 9, 4),
        ),
        make(
            "H", china(1, 5, 9), "labor", "renshe", "tianshi", "closed", "yellow",
            {"routed": met(china(1, 5, 9)), "assigned": met(china(1, 5, 9)), "team": met(china(1, 5, 9)),
             "yellow": ("breached", None), "red": met(china(1, 15, 9))},
            handler="renshe.mediator", team=("renshe.mediator", "tianshi.mediator"),
            resolved=china(1, 15, 9), rating=3, closed=china(1, 16),
        ),
        make(
            "I", china(3, 10, 11, 58), None, None, None, "received", "green",
            {"routed": ("running", None), "assigned": ("running", None), "yellow": ("running", None),
             "red": ("running", None)},
        ),
        make(
            "J", china(12, 31, 20, year=2025), "consumer", "shijian", "guanlu", "closed", "green",
            {"routed": met(china(12, 31, 20, year=2025)), "assigned": met(china(12, 31, 20, year=2025)),
             "yellow": met(china(1, 1, 2)), "red": met(china(1, 1, 2))},
            handler="shijian.mediator", resolved=china(1, 1, 2), closed=china(1, 8, 2),
        ),
    ]
    # fmt: on


def seed(engine) -> dict[str, CaseState]:
    """Write the county's cases as the record activity would; returns them by letter."""
    states = county()
    with session(engine) as db:
        for s in states:
            row = Case(
                case_id=s.case_id,
                case_no=s.case_no,
                status="received",
                colour="green",
                description="",
                citizen_name="",
                citizen_phone="",
                channel="web",
                received_at=s.received_at,
            )
            apply_snapshot(row, s)
            db.add(row)
        db.commit()
    return {s.case_no[-1]: s for s in states}
