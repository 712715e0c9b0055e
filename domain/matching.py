"""Who should take a case: an explained score over the candidates of one unit (or township). Pure: no I/O.

The activities (activities/assignment.py) load the candidates with their open caseload and last assignment
and call `rank`; the workflow records the ranking with the choice, so a handler or a team member can always
see why it was them (and why not someone else).

Hard limits come first: nobody on leave, nobody at or over capacity, nobody who declined this case. Among the
rest the score is, out of 100:

    skill     40  the case's category is among the person's skills (no skills recorded: half)
    load      30  1 - open cases / capacity
    locality  15  the person's home township is the case's township
    rotation  15  time since the person was last given a case, full after ROTATION_HORIZON (never: full)

Ties go to whoever was assigned least recently, then by username, so the order is always the same. A role in
`fallback_roles` (a unit's leader, for the handler) ranks after every other eligible candidate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from domain.models import CandidateScore, ScoreFactor
from domain.times import as_utc, china_local

WEIGHTS: dict[str, float] = {"skill": 40.0, "load": 30.0, "locality": 15.0, "rotation": 15.0}
ROTATION_HORIZON = timedelta(hours=72)
ROLE_ZH = {"mediator": "调解员", "leader": "负责人"}


@dataclass(frozen=True)
class Candidate:
    """A person who could take the case, as the activity found them in the directory and the read model."""

    username: str
    role: str
    unit: str | None = None
    township: str | None = None
    skills: tuple[str, ...] | None = None  # category codes; None: not recorded
    capacity: int = 30  # most open cases at once
    open_cases: int = 0  # open cases as handler or team member
    handling: int = 0  # of which as handler
    on_duty: bool = True
    leave_until: date | None = None  # off duty until this day (inclusive); None: until further notice
    home_township: str | None = None
    last_assigned_at: datetime | None = None


@dataclass(frozen=True)
class Need:
    """What the case asks of a candidate."""

    category: str | None
    township: str | None  # the case's township (locality)
    now: datetime
    declined: frozenset[str] = frozenset()  # stepped out of this case: never again
    fallback_roles: frozenset[str] = frozenset()
    names: Mapping[str, str] = field(default_factory=dict)  # code → Chinese name (categories, townships)

    def zh(self, code: str | None) -> str:
        return self.names.get(code, code) if code else ""


def duty(c: Candidate, today: date) -> tuple[bool, str]:
    """(on duty, note). Off duty with an end date counts as back from the day after it."""
    if c.on_duty:
        return True, "在岗"
    if c.leave_until is not None and today > c.leave_until:
        return True, f"休假已于 {c.leave_until.isoformat()} 结束"
    if c.leave_until is not None:
        return False, f"休假至 {c.leave_until.isoformat()}"
    return False, "休假/不在岗"


def _since(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return f"{max(delta.total_seconds() / 60, 0):.0f} 分钟"
    if hours < 48:
        return f"{hours:.1f} 小时"
    return f"{hours / 24:.1f} 天"


def _factor(name: str, zh: str, value: float, note: str) -> ScoreFactor:
    value = min(max(value, 0.0), 1.0)
    weight = WEIGHTS[name]
    return ScoreFactor(
        name=name, zh=zh, weight=weight, value=round(value, 4), points=round(weight * value, 2), note=note
    )


def _limit(name: str, zh: str, passed: bool, note: str) -> ScoreFactor:
    return ScoreFactor(name=name, zh=zh, passed=passed, value=1.0 if passed else 0.0, note=note)


def score(c: Candidate, need: Need) -> CandidateScore:
    """One candidate's breakdown. Ineligible candidates get their score too, so the record shows both."""
    now = as_utc(need.now)
    on, duty_note = duty(c, china_local(now).date())
    full = c.capacity <= 0 or c.open_cases >= c.capacity
    limits = [
        _limit("duty", "在岗", on, duty_note),
        _limit("capacity", "容量", not full, f"在办 {c.open_cases}/{c.capacity} 件" + ("，已满" if full else "")),
    ]
    if c.username in need.declined:
        limits.append(_limit("declined", "谢绝", False, "已谢绝参与本案"))

    cat = need.zh(need.category) or "本类案件"
    if need.category is None or c.skills is None or not c.skills:
        skill = _factor("skill", "专长", 0.5, "未登记专长" if need.category else "案件类别未定")
    elif need.category in c.skills:
        skill = _factor("skill", "专长", 1.0, f"擅长{cat}")
    else:
        skill = _factor("skill", "专长", 0.0, f"专长不含{cat}")

    load_value = 1.0 - c.open_cases / c.capacity if c.capacity > 0 else 0.0
    load_note = f"在办 {c.open_cases}/{c.capacity} 件" + (f"（承办 {c.handling}）" if c.handling else "")
    load = _factor("load", "负荷", load_value, load_note)

    if need.township is None:
        locality = _factor("locality", "属地", 0.0, "案件属地未定")
    elif c.home_township == need.township:
        locality = _factor("locality", "属地", 1.0, f"常驻{need.zh(need.township)}")
    elif c.home_township:
        locality = _factor("locality", "属地", 0.0, f"常驻{need.zh(c.home_township)}，非案件属地")
    else:
        locality = _factor("locality", "属地", 0.0, "未登记常驻乡镇")

    if c.last_assigned_at is None:
        rotation = _factor("rotation", "轮换", 1.0, "此前未被交办")
    else:
        gap = now - as_utc(c.last_assigned_at)
        rotation = _factor(
            "rotation", "轮换", gap / ROTATION_HORIZON if gap > timedelta(0) else 0.0, f"距上次交办 {_since(gap)}"
        )

    scored = [skill, load, locality, rotation]
    total = round(sum(f.points for f in scored), 2)
    failed = [f for f in limits if not f.passed]
    excluded = "；".join(f.note for f in failed) or None
    who = f"{c.username}（{ROLE_ZH.get(c.role, c.role)}）"
    detail = "；".join(f"{f.zh} {f.points:g}/{f.weight:g}（{f.note}）" for f in scored)
    if excluded:
        reason = f"{who}不可选：{excluded}。参考分 {total:g}：{detail}"
    else:
        fallback = "；单位负责人，仅在无其他人选时承办" if c.role in need.fallback_roles else ""
        reason = f"{who}综合 {total:g} 分：{detail}；{duty_note}{fallback}"
    return CandidateScore(
        username=c.username,
        role=c.role,
        unit=c.unit,
        township=c.township,
        eligible=excluded is None,
        total=total,
        factors=[*scored, *limits],
        excluded_because=excluded,
        reason=reason,
    )


def rank(candidates: Iterable[Candidate], need: Need) -> list[CandidateScore]:
    """Everyone scored and ordered: eligible first, fallback roles after the others, then the score, then
    least recently assigned, then username. `rank` numbers follow that order."""
    people = {c.username: c for c in candidates}
    scored = [score(c, need) for c in people.values()]

    def key(s: CandidateScore):
        c = people[s.username]
        last = c.last_assigned_at
        return (
            not s.eligible,
            c.role in need.fallback_roles,
            -s.total,
            last is not None,
            as_utc(last) if last else datetime.min.replace(tzinfo=UTC),
            s.username,
        )

    ordered = sorted(scored, key=key)
    for i, s in enumerate(ordered, start=1):
        s.rank = i
    return ordered


def best(ranked: list[CandidateScore]) -> CandidateScore | None:
    return ranked[0] if ranked and ranked[0].eligible else None


def summary(ranked: list[CandidateScore], where: str) -> str:
    """The choice in one Chinese sentence, for the event's `reason`."""
    chosen = best(ranked)
    eligible = sum(1 for s in ranked if s.eligible)
    if chosen is None:
        if not ranked:
            return f"{where}无可选人员"
        why = "；".join(f"{s.username}：{s.excluded_because}" for s in ranked[:5])
        return f"{where}无可选人员（{why}）"
    notes = {f.name: f.note for f in chosen.factors}
    return (
        f"{where}：{chosen.username}，综合 {chosen.total:g} 分（{notes['skill']}，{notes['load']}，"
        f"{notes['locality']}，{notes['rotation']}），{len(ranked)} 人中可选 {eligible} 人"
    )
