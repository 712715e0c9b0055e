"""Chinese text of the messages people receive. Rendered by the notification activity, not the workflow,
so wording can change without touching case histories."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.privacy import mask_text
from domain.taxonomy import Taxonomy, is_department
from domain.times import china_local

CLOCK_ZH = {"routed": "3分钟分流", "assigned": "5分钟交办", "team": "1小时组团", "yellow": "黄码", "red": "红码"}
KIND_ZH = {
    "assigned": "交办",
    "team_invited": "组团邀请",
    "reminder": "超时提醒",
    "turned_yellow": "黄码督办",
    "turned_red": "红码督办",
    "urged": "催办",
    "withdrawn": "撤回",
    "material_added": "补充材料",
    "citizen_updated": "诉求更新",
    "assignment_pending": "待交办",
    "routing_pending": "待分流",
    "task_force": "专班会商",
    "repeat_detected": "重复访",
    "team_member_accepted": "组团确认",
    "team_member_declined": "组团变动",
    "team_member_needed": "组团缺员",
    "due_soon": "到期提醒",
    "extension_requested": "延期申请",
    "extension_decided": "延期审批",
    "sent_back": "退回",
    "task_force_overdue": "专班逾期",
    "review_requested": "申请复核",
    "review_rehandle": "复核重办",
}


def render(kind: str, case_no: str, p: dict[str, Any], tx: Taxonomy) -> str:
    """The message's text, with phone and ID-card numbers that anyone typed (a citizen's update, a reason, a
    note) masked: the inbox and every channel (text, e-mail, webhook) carry what this returns."""
    return mask_text(_render(kind, case_no, p, tx))


def _render(kind: str, case_no: str, p: dict[str, Any], tx: Taxonomy) -> str:
    cat = tx.category_zh(p.get("category"))
    unit = tx.unit_zh(p.get("unit")) if is_department(p.get("unit")) else ""
    town = tx.township_zh(p.get("township")) if p.get("township") else ""
    where = "、".join(x for x in (unit, town) if x) or "承办单位"
    match kind:
        case "assigned":
            return f"【交办】案件 {case_no}（{cat}）已交由您承办，请及时联系当事人并开展调处。"
        case "team_invited":
            return f"【组团】您已被纳入案件 {case_no}（{cat}）的多元调处团队，请与承办人协同调处。"
        case "reminder" if p.get("soon"):  # before the colour changes (WUHUAN_SLA_REMIND_BEFORE)
            clock = CLOCK_ZH.get(str(p.get("clock")), p.get("clock"))
            return f"【到期提醒】案件 {case_no}（{cat}）将于 {_day(p.get('due_at'))} 转为{clock}，请抓紧办理。"
        case "reminder":
            clock = CLOCK_ZH.get(str(p.get("clock")), p.get("clock"))
            return f"【超时提醒】案件 {case_no} 未在{clock}时限内完成，请中心督办。"
        case "turned_yellow":
            return (
                f"【黄码督办】案件 {case_no} 受理已超过{p.get('days', 7):g}天未办结，督办码转黄，"
                f"请{where}主要领导督促办理。"
            )
        case "turned_red":
            return (
                f"【红码督办】案件 {case_no} 受理已超过{p.get('days', 14):g}天未办结，督办码转红，"
                f"请县领导领衔，启动专班会商、部门组团破难。"
            )
        case "urged":
            note = f"：{p['note']}" if p.get("note") else ""
            return f"【催办】案件 {case_no} 被第{p.get('count', 1)}次催办{note}，请加快办理。"
        case "withdrawn":
            return f"【撤回】案件 {case_no} 已撤回（{p.get('reason', '')}），无需继续办理。"
        case "material_added":
            return f"【补充材料】案件 {case_no} 的当事人补充了材料“{p.get('filename', '')}”。"
        case "citizen_updated":
            return f"【诉求更新】案件 {case_no} 的当事人更新了诉求：{p.get('text', '')}"
        case "assignment_pending":
            return f"【待交办】案件 {case_no}（{cat}）未找到可承办的调解员，请{where}负责人立即指定承办人。"
        case "routing_pending":
            return f"【待分流】案件 {case_no} 需人工分流：{p.get('reason', '')}"
        case "review_requested":
            return (
                f"【申请复核】案件 {case_no} 的群众评价为{p.get('rating')}星并申请复核：{p.get('reason', '')}。"
                "请督办员作出复核决定。"
            )
        case "review_rehandle":
            return f"【复核重办】案件 {case_no} 经复核退回重新办理：{p.get('reason', '')}。请重新调处。"
        case "repeat_detected":
            return (
                f"【重复访】案件 {case_no} 与 {len(p.get('earlier', []))} 件前案为同一群众或相同诉求，"
                "已关联，请受理员核对。"
            )
        case "task_force":
            if "led_by" not in p:  # before the joint mechanism only the leading county leader was told
                return f"【专班会商】您牵头红码案件 {case_no} 的专班，请组织会商、部门组团破难。"
            by = f"，{_day(p['deadline'])}前破难" if p.get("deadline") else ""
            return (
                f"【专班会商】红码案件 {case_no}（{cat}）已成立县领导领衔专班，请牵头县领导组织、"
                f"专班成员参加会商，部门组团破难{by}。"
            )
        case "due_soon":
            clock = CLOCK_ZH.get(str(p.get("clock")), p.get("clock"))
            return f"【到期提醒】案件 {case_no} 的{clock}时限将于 {_day(p.get('due_at'))} 到期，请抓紧办理。"
        case "extension_requested":
            return (
                f"【延期申请】案件 {case_no}（{cat}）的承办人申请延期{_days(p.get('days'))}天："
                f"{p.get('reason', '')}。请审批。"
            )
        case "extension_decided":
            verdict = "已批准" if p.get("approve") else "未获批准"
            return f"【延期审批】您对案件 {case_no} 的延期申请{verdict}：{p.get('reason', '')}。"
        case "sent_back":
            desk = "请督办员决定分流" if int(p.get("times") or 1) >= 2 else "请重新分流"
            by = unit or town or "承办单位"  # a department, or for township-led cases the township
            return f"【退回】案件 {case_no} 被{by}退回（第{p.get('times', 1)}次）：{p.get('reason', '')}。{desk}。"
        case "task_force_overdue":
            return f"【专班逾期】红码案件 {case_no} 的县领导领衔专班已过破难期限仍未办结，请总召集人督办。"
        case "team_member_accepted":
            return f"【组团确认】{p.get('member', '')} 已接受案件 {case_no}（{cat}）的组团邀请。"
        case "team_member_declined":
            return (
                f"【组团变动】案件 {case_no}（{cat}）的团队成员 {p.get('member', '')} 谢绝参与："
                f"{p.get('reason', '')}。系统正在匹配替补人员。"
            )
        case "team_member_needed":
            if p.get("declined_by"):
                return (
                    f"【组团缺员】案件 {case_no}（{cat}）的团队成员 {p['declined_by']} 谢绝参与"
                    f"（{p.get('reason', '')}），{where}暂无可替补的在岗调解员，请负责人立即指定人员。"
                )
            missing = (
                "、".join((tx.township_zh(m) if tx.township(m) else tx.unit_zh(m)) for m in p.get("missing", []) if m)
                or where
            )
            return f"【组团缺员】案件 {case_no}（{cat}）组团时{missing}暂无可参与的在岗调解员，请负责人立即指定人员。"
    if kind.startswith("hazard_"):
        return hazard_text(kind, case_no, p)
    if kind == "inspection_planned":
        return inspection_text(kind, p, tx)
    return f"案件 {case_no}：{KIND_ZH.get(kind, kind)}"


def _days(n: Any) -> str:
    try:
        return f"{float(n):g}"
    except (TypeError, ValueError):
        return str(n)


def _day(iso: Any) -> str:
    """The China-time date of an ISO time, as a deadline is read out."""
    try:
        return china_local(datetime.fromisoformat(str(iso))).strftime("%m月%d日%H:%M")
    except ValueError:
        return str(iso)


def hazard_text(kind: str, hazard_no: str, p: dict[str, Any]) -> str:
    site = p.get("site", "")
    match kind:
        case "hazard_assigned":
            return f"【隐患交办】{site}的隐患 {hazard_no} 已交由贵单位限时整改，期限 {_day(p.get('deadline'))}。"
        case "hazard_reminder":
            return f"【整改提醒】隐患 {hazard_no}（{site}）将于 {_day(p.get('deadline'))} 到期，请按时整改并上传材料。"
        case "hazard_overdue":
            return f"【逾期曝光】隐患 {hazard_no}（{site}）逾期未整改，已列入曝光台，责任人将参加回炉培训。"
        case "hazard_submitted":
            return f"【待验收】隐患 {hazard_no}（{site}）已提交整改材料，请验收。"
        case "hazard_rejected":
            return f"【验收未通过】隐患 {hazard_no}（{site}）：{p.get('reason', '')}。请继续整改。"
        case "hazard_struck_off":
            return f"【已销号】隐患 {hazard_no}（{site}）验收通过，已销号，将于到期后回头看。"
        case "hazard_recheck_due":
            return f"【回头看】隐患 {hazard_no}（{site}）已到回头看时间，请复查。"
        case "hazard_retraining":
            return (
                f"【回炉培训】因隐患 {hazard_no}（{site}）逾期未整改，{p.get('person', '')} 已列入 "
                f"{p.get('class_date', '')} 回炉班，请准时参加。"
            )
        case "hazard_summons":
            return f"【约谈】{p.get('unit_zh', '')}在期限内再次出现逾期隐患（{hazard_no}），请主要领导接受约谈。"
        case "hazard_reopened":
            return f"【复发】隐患 {hazard_no}（{site}）回头看发现复发，请于 {_day(p.get('deadline'))} 前重新整改。"
    return f"隐患 {hazard_no}：{kind}"


def inspection_text(kind: str, p: dict[str, Any], tx: Taxonomy) -> str:
    """What an inspection team is told of its planned visits; the visited unit is told nothing (不打招呼)."""
    if kind == "inspection_planned":
        town, domain = tx.township_zh(p.get("township")), tx.inspection_domain_zh(p.get("domain"))
        return (
            f"【本周督查任务】{_date(p.get('planned_for'))}，第{p.get('district')}片区：赴{town}开展{domain}督查"
            f"（{team_zh(p.get('team'), tx)}）。不打招呼、直奔现场，请勿提前告知被检查单位。"
        )
    return f"督查：{kind}"


def team_zh(team: Any, tx: Taxonomy) -> str:
    """gongan-2 → 公安局第2督查组 (a team's code is its lead unit and number, store/seed.py)."""
    unit, _, number = str(team or "").rpartition("-")
    return f"{tx.unit_zh(unit).removeprefix('县')}第{number}督查组" if tx.unit(unit) else str(team or "")


def _date(iso: Any) -> str:
    """12月07日（周一）"""
    try:
        d = date.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    return f"{d:%m月%d日}（周{'一二三四五六日'[d.weekday()]}）"
