"""The leaders' morning digest (每日督办摘要): one e-mail a day to each leader listing their red and yellow cases
and what falls due today, so that nobody learns of a red case from the board a week late.

Who gets one, and over which cases, is decided here: a unit's or township's main leader over the cases in their
jurisdiction; a county leader in charge (taxonomy.yaml `county_leaders`) over the cases of the units and townships
they are in charge of; the centre's overall convener over every red case. A leader with nothing to report gets
no e-mail (an empty digest every morning teaches people to ignore it). Pure: the activity reads the cases, this
module words the e-mail."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import BaseModel

from domain.models import Actor, Role
from domain.taxonomy import Taxonomy
from domain.times import china_local

CLOCK_ZH = {
    "routed": "分流",
    "assigned": "交办",
    "team": "组团",
    "yellow": "转黄",
    "red": "转红",
    "task_force": "专班期限",
}
COLOUR_ZH = {"red": "红码", "yellow": "黄码", "green": "绿码"}


class DigestStart(BaseModel):
    day: date | None = None  # None: the China date the run starts on (the Schedule's runs)


class DigestRequest(BaseModel):
    day: date  # the China date the digest is for


class DigestResult(BaseModel):
    day: date
    leaders: int  # leaders considered
    sent: int  # digests queued (leaders with something to report)


@dataclass(frozen=True)
class DigestCase:
    case_id: str
    case_no: str
    colour: str
    category_zh: str
    unit_zh: str
    township_zh: str
    handler: str | None
    received_at: datetime
    due_today: tuple[tuple[str, datetime], ...] = ()  # (clock, due time) of running clocks due this China day
    task_force_overdue: bool = False


@dataclass
class Digest:
    username: str
    day: date
    red: list[DigestCase] = field(default_factory=list)
    yellow: list[DigestCase] = field(default_factory=list)
    due_today: list[DigestCase] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.red or self.yellow or self.due_today)


@dataclass(frozen=True)
class Reach:
    """The cases a leader's digest covers: everything in the jurisdiction (`jurisdiction`), the units and
    townships a county leader is in charge of, or only red cases (the convener)."""

    jurisdiction: bool = False
    units: frozenset[str] = frozenset()
    townships: frozenset[str] = frozenset()
    red_only: bool = False


def digest_cron(at: str) -> str:
    """The Schedule's cron (UTC) for a China wall-clock time "HH:MM" (China has no daylight saving)."""
    hours, minutes = (int(x) for x in at.split(":"))
    return f"{minutes} {(hours - 8) % 24} * * *"


def reach_of(actor: Actor, taxonomy: Taxonomy) -> Reach | None:
    """Whether `actor` gets a digest, and over what; None: no digest."""
    if actor.role == Role.leader:
        return Reach(jurisdiction=True)
    if actor.role == Role.county_leader:
        in_charge = next((c for c in taxonomy.county_leaders if c.username == actor.username), None)
        if in_charge is None:  # the centre's overall convener (总召集人)
            return Reach(red_only=True)
        return Reach(units=frozenset(in_charge.units), townships=frozenset(in_charge.townships))
    return None


def covers(reach: Reach, unit: str | None, township: str | None, colour: str) -> bool:
    """For county-level reaches; `jurisdiction` reaches are filtered by the read model's jurisdiction query."""
    if reach.red_only:
        return colour == "red"
    if reach.jurisdiction:
        return True
    return (unit in reach.units) or (unit == "township" and township in reach.townships)


def collect(username: str, day: date, cases: list[DigestCase]) -> Digest:
    d = Digest(username=username, day=day)
    for c in sorted(cases, key=lambda c: c.received_at):
        if c.colour == "red":
            d.red.append(c)
        elif c.colour == "yellow":
            d.yellow.append(c)
        if c.due_today:
            d.due_today.append(c)
    return d


def _days_open(c: DigestCase, now: datetime) -> int:
    return max(int((now - c.received_at).total_seconds() // 86400), 0)


def _line(c: DigestCase, now: datetime) -> str:
    where = "、".join(x for x in (c.unit_zh, c.township_zh) if x)
    late = "（专班已逾期）" if c.task_force_overdue else ""
    return f"{c.case_no} {c.category_zh} · {where} · 已{_days_open(c, now)}天{late}"


def _due(c: DigestCase) -> str:
    return "、".join(f"{CLOCK_ZH.get(name, name)} {china_local(at):%H:%M}" for name, at in c.due_today)


def subject(d: Digest) -> str:
    counts = f"红码 {len(d.red)} 件、黄码 {len(d.yellow)} 件、今日到期 {len(d.due_today)} 件"
    return f"【每日督办】{d.day.month}月{d.day.day}日：{counts}"


def text(d: Digest, display_name: str, now: datetime) -> str:
    parts = [f"{display_name}，您好：", "", subject(d).removeprefix("【每日督办】") + "。", ""]
    for title, items in (("红码案件", d.red), ("黄码案件", d.yellow)):
        if items:
            parts.append(f"{title}（{len(items)}）：")
            parts += [f"  - {_line(c, now)}" for c in items]
            parts.append("")
    if d.due_today:
        parts.append(f"今日到期（{len(d.due_today)}）：")
        parts += [f"  - {c.case_no}：{_due(c)}" for c in d.due_today]
        parts.append("")
    parts.append("请登录矛调中心工作平台查看和办理。本邮件由系统每日自动发送。")
    return "\n".join(parts)


def html_body(d: Digest, display_name: str, now: datetime) -> str:
    e = html.escape

    def table(title: str, items: list[DigestCase], colour: str) -> str:
        if not items:
            return ""
        rows = "".join(
            f"<tr><td>{e(c.case_no)}</td><td>{e(c.category_zh)}</td><td>{e(c.unit_zh)}</td>"
            f"<td>{e(c.township_zh)}</td><td>{_days_open(c, now)}</td>"
            f"<td>{'专班已逾期' if c.task_force_overdue else ''}</td></tr>"
            for c in items
        )
        return (
            f'<h3 style="color:{colour}">{e(title)}（{len(items)}）</h3>'
            '<table border="1" cellpadding="4" cellspacing="0">'
            "<tr><th>案件编号</th><th>类别</th><th>承办单位</th><th>乡镇（街道）</th><th>已办天数</th><th></th></tr>"
            f"{rows}</table>"
        )

    due = ""
    if d.due_today:
        items = "".join(f"<li>{e(c.case_no)}：{e(_due(c))}</li>" for c in d.due_today)
        due = f"<h3>今日到期（{len(d.due_today)}）</h3><ul>{items}</ul>"
    return (
        f'<html><body style="font-family:sans-serif"><p>{e(display_name)}，您好：</p>'
        f"<p>{e(subject(d).removeprefix('【每日督办】'))}。</p>"
        f"{table('红码案件', d.red, '#c0392b')}{table('黄码案件', d.yellow, '#b7950b')}{due}"
        "<p>请登录矛调中心工作平台查看和办理。本邮件由系统每日自动发送。</p></body></html>"
    )
