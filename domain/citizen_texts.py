"""The texts a citizen gets on their phone: they have no account, so a text is how they hear that the case was
received, who handles it, that it is resolved (and they may rate it), and how a review was decided.

The receipt carries the tracking link, whose code the system keeps only as a hash: the intake service, the one
place that knows the code, queues it (services/intake.py). Later texts cannot repeat the link; they name the
case number and point back to the receipt's link or the code on the paper receipt, which is honest about what
the system can do without keeping the citizen's credential.

The record activity derives the later texts from the events it writes (activities/records.py), once per event;
a citizen who said no at intake, or gave a landline, gets none."""

from __future__ import annotations

from typing import Any

from domain.channels import mobile
from domain.models import CaseEvent, CaseIntake, CaseState
from domain.privacy import mask_name
from domain.taxonomy import Taxonomy, is_department

CITIZEN = "citizen"
RECEIPT_KIND, HANDLER_KIND, RESOLVED_KIND, REVIEW_KIND = (
    "citizen_receipt",
    "citizen_handler",
    "citizen_resolved",
    "citizen_review",
)
KIND_ZH = {
    RECEIPT_KIND: "受理回执短信",
    HANDLER_KIND: "承办人告知短信",
    RESOLVED_KIND: "办结评价短信",
    REVIEW_KIND: "复核结果短信",
}
# Which business events text the citizen, and as which kind.
EVENT_KINDS = {
    "assigned": HANDLER_KIND,
    "reassigned": HANDLER_KIND,
    "resolved": RESOLVED_KIND,
    "review_decided": REVIEW_KIND,
}
SEE_RECEIPT = "请使用受理短信中的链接或回执上的查询码查看"
OUTCOME_ZH = {"agreement": "达成调解协议", "handled": "已依法处理", "referred": "已引导至其他途径解决"}


def recipient(case_id: str) -> str:
    """The outbox's recipient of a citizen's texts: the phone is read from the case at send time, never copied."""
    return f"{CITIZEN}:{case_id}"


def case_of(recipient_: str) -> str | None:
    kind, _, case_id = recipient_.partition(":")
    return case_id if kind == CITIZEN and case_id else None


def wants_texts(intake: CaseIntake) -> bool:
    """Texts are sent unless the citizen said no at intake, and only to a mobile number."""
    return bool(getattr(intake, "notify_by_sms", True)) and mobile(intake.citizen_phone) is not None


def receipt_text(case_no: str) -> str:
    """The receipt's body; the tracking link follows as the text's tail (never cut, domain/channels.fit_sms)."""
    return f"您的诉求已受理，案件编号{case_no}。查看进度、补充材料、办结后评价请点击："


def event_text(e: CaseEvent, s: CaseState, handler_name: str | None, tx: Taxonomy) -> tuple[str, str] | None:
    """(kind, text) of the citizen's text for event `e` of the case in state `s`, or None for events that text
    nobody. `handler_name`: the display name of the handler the event names (masked here)."""
    kind = EVENT_KINDS.get(e.type)
    if kind is None:
        return None
    d: dict[str, Any] = e.detail
    no = s.case_no
    match e.type:
        case "assigned" | "reassigned":
            where = tx.unit_zh(s.unit) if is_department(s.unit) else tx.township_zh(s.township) if s.township else ""
            who = mask_name(handler_name) if handler_name else "专人"
            verb = "已改由" if e.type == "reassigned" else "已交由"
            return kind, f"您的案件{no}{verb}{where}承办人{who}办理，承办人将与您联系。{SEE_RECEIPT}进度。"
        case "resolved":
            outcome = OUTCOME_ZH.get(str(d.get("outcome")), "已办结")
            days = max(round(s.levels.close_unrated_after.total_seconds() / 86400), 1)
            return kind, (
                f"您的案件{no}已办结（{outcome}）。请在{days}日内对办理结果评价，{SEE_RECEIPT}并评价；"
                "逾期未评价将自动归档。"
            )
        case "review_decided":
            reason = str(d.get("reason") or "").strip()
            if d.get("rehandle"):
                return kind, f"经复核，您的案件{no}将重新办理：{reason}。{SEE_RECEIPT}进度。"
            return kind, f"经复核，您的案件{no}维持原办理结果：{reason}。"
    return None
