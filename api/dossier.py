"""调解卷宗: a case's dossier as PDF — parties, timeline, mediation records, agreement, rating, review.

Drawn with reportlab's built-in Adobe CID font for simplified Chinese (STSong-Light), so no font file has to
be installed on the server; PDF readers supply the glyphs."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from domain.case_flow import STATUS_ZH
from domain.models import CaseState
from domain.privacy import mask_phone, mask_text
from domain.taxonomy import Taxonomy, is_department
from domain.times import CHINA
from services.views import CHANNEL_ZH, OUTCOME_ZH

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
COLOUR_ZH = {"green": "绿码", "yellow": "黄码", "red": "红码"}
EVENT_ZH = {
    "received": "受理",
    "routed": "分流",
    "rerouted": "改派分流",
    "routing_pending": "待人工分流",
    "repeat_detected": "重复访关联",
    "assigned": "交办",
    "reassigned": "改派承办人",
    "assignment_pending": "待交办",
    "team_formed": "组团",
    "team_incomplete": "组团不全",
    "team_member_declined": "组团成员谢绝",
    "team_member_replaced": "替补组团成员",
    "team_member_unavailable": "无替补人员",
    "clock_met": "时限达标",
    "clock_breached": "超时",
    "clock_stopped": "时限停止",
    "clock_reopened": "时限重启",
    "turned_yellow": "督办码转黄",
    "turned_red": "督办码转红",
    "task_force_started": "启动专班",
    "consultation_recorded": "专班会商",
    "mediation_recorded": "调解",
    "urged": "催办",
    "material_added": "补充材料",
    "citizen_updated": "更新诉求",
    "resolved": "办结",
    "rated": "评价",
    "closed": "归档",
    "withdrawn": "撤回",
    "rejected": "不予受理",
    "review_requested": "申请复核",
    "review_decided": "复核决定",
    "reopened": "退回重办",
    "review_window_closed": "复核期满",
    "code_reissued": "补发查询码",
    "handler_released": "解除承办",
}
CLOCK_ZH = {"routed": "3分钟分流", "assigned": "5分钟交办", "team": "1小时组团", "yellow": "7天黄码", "red": "14天红码"}


def _t(at: datetime | str | None) -> str:
    if at is None:
        return ""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _summary(e: dict[str, Any], tx: Taxonomy) -> str:
    d = e.get("detail") or {}
    bits = []
    for key in ("category", "unit", "township"):
        if d.get(key):
            value = d[key]
            bits.append({"category": tx.category_zh, "unit": tx.unit_zh, "township": tx.township_zh}[key](value))
    for key in ("handler", "member", "replaces"):
        if d.get(key):
            bits.append(str(d[key]))
    if d.get("members"):
        bits.append("、".join(d["members"]))
    if d.get("clock"):
        bits.append(CLOCK_ZH.get(d["clock"], d["clock"]))
    for key in ("summary", "reason", "note", "outcome", "filename", "text", "comment"):
        if d.get(key):
            bits.append(OUTCOME_ZH.get(d[key], str(d[key])) if key == "outcome" else str(d[key]))
    if d.get("score"):
        bits.append(f"{d['score']}星")
    return "；".join(bits)[:300]


def build(
    state: CaseState, events: list[dict[str, Any]], tx: Taxonomy, names: dict[str, str], generated_by: str
) -> bytes:
    styles = {
        "title": ParagraphStyle("t", fontName=FONT, fontSize=18, leading=24, alignment=1, spaceAfter=4 * mm),
        "h": ParagraphStyle("h", fontName=FONT, fontSize=12.5, leading=18, spaceBefore=4 * mm, spaceAfter=2 * mm),
        "p": ParagraphStyle("p", fontName=FONT, fontSize=10, leading=15),
        "small": ParagraphStyle("s", fontName=FONT, fontSize=8.5, leading=12, textColor=colors.grey),
    }
    # Every text on the page passes through the one masking rule: phone and ID-card numbers typed into the
    # description, an update, a note or a summary show as 138****5678 (the intake phone is masked below too).
    P = lambda text, style="p": Paragraph(escape(mask_text(str(text))), styles[style])  # noqa: E731
    s, i = state, state.intake
    person = lambda u: f"{names.get(u, u)}（{u}）" if u else ""  # noqa: E731

    def table(rows: list[list[Any]], widths: list[float]) -> Table:
        t = Table([[P(c) for c in r] for r in rows], colWidths=widths, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ]
            )
        )
        return t

    story: list[Any] = [P("仙居县矛盾纠纷调处化解中心　调解卷宗", "title")]
    story.append(
        table(
            [
                ["案件编号", s.case_no, "受理时间", _t(s.received_at)],
                ["状态", STATUS_ZH.get(s.status, s.status), "督办码", COLOUR_ZH.get(s.colour, s.colour)],
                ["纠纷类别", tx.category_zh(s.category), "受理渠道", CHANNEL_ZH.get(i.channel, i.channel)],
                [
                    "承办单位",
                    tx.unit_zh(s.unit) if is_department(s.unit) else tx.township_zh(s.township),
                    "属地乡镇",
                    tx.township_zh(s.township) if s.township else "未明确",
                ],
                [
                    "承办人",
                    person(s.handler.username) if s.handler else "",
                    "组团成员",
                    "、".join(names.get(m.username, m.username) for m in s.team),
                ],
            ],
            [25 * mm, 60 * mm, 25 * mm, 60 * mm],
        )
    )

    story += [
        P("一、当事人及诉求", "h"),
        table(
            [
                ["申请人", i.citizen_name, "联系电话", mask_phone(i.citizen_phone)],
                ["地址", i.address or "", "", ""],
            ],
            [25 * mm, 60 * mm, 25 * mm, 60 * mm],
        ),
        Spacer(1, 2 * mm),
        P(f"诉求内容：{i.description}"),
    ]
    for u in s.citizen_updates:
        story.append(P(f"诉求更新（{_t(u.get('at'))}）：{u.get('text', '')}"))

    story += [
        P("二、办理过程", "h"),
        table(
            [["时间", "环节", "办理人", "内容"]]
            + [[_t(e["at"]), EVENT_ZH.get(e["type"], e["type"]), e["actor"], _summary(e, tx)] for e in events],
            [30 * mm, 25 * mm, 30 * mm, 85 * mm],
        ),
    ]

    story.append(P("三、调解记录", "h"))
    if not s.mediations:
        story.append(P("无"))
    for n, m in enumerate(s.mediations, 1):
        story.append(
            P(f"第{n}次调解　{_t(m.held_at)}　参加人：{'、'.join(m.participants)}　记录人：{person(m.recorded_by)}")
        )
        story.append(P(m.summary))
    if s.task_force is not None:
        story.append(P("专班会商（县领导领衔）", "h"))
        story.append(P(f"牵头县领导：{person(s.task_force.led_by)}　启动时间：{_t(s.task_force.started_at)}"))
        for c in s.task_force.consultations:
            story.append(P(f"{_t(c.held_at)}　{'、'.join(c.participants)}：{c.summary}"))

    story.append(P("四、处理结果（调解协议）", "h"))
    if s.resolution is not None:
        story.append(
            P(
                f"{OUTCOME_ZH.get(s.resolution.outcome, s.resolution.outcome)}　办结时间：{_t(s.resolution.at)}"
                f"　办结人：{person(s.resolution.by)}"
            )
        )
        story.append(P(s.resolution.summary))
    else:
        story.append(P("尚未办结"))

    story.append(P("五、群众评价与复核", "h"))
    story.append(
        P(f"评价：{s.rating.score}星　{s.rating.comment or ''}　（{_t(s.rating.at)}）" if s.rating else "尚未评价")
    )
    if s.review is not None:
        r = s.review
        decision = {"requested": "待复核", "rehandled": "退回重新办理", "upheld": "维持原处理结果"}[r.status]
        story.append(P(f"申请复核（{_t(r.requested_at)}，原评价{r.rating}星）：{r.reason}"))
        story.append(P(f"复核决定：{decision}　{r.decision_reason or ''}　{person(r.decided_by)}　{_t(r.decided_at)}"))

    story += [
        Spacer(1, 6 * mm),
        P(f"本卷宗由系统根据案件工作流记录生成；生成人：{generated_by}；生成时间：{_t(datetime.now(UTC))}。", "small"),
    ]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"调解卷宗 {s.case_no}",
        author="Wuhuan 五环智控",
    )
    doc.build(story)
    return out.getvalue()
