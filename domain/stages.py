"""The six stages a citizen follows: 受理 → 分流 → 交办 → 调解 → 监督 → 评价 (the five rings of the centre plus the
citizen's rating), and how a case's status and events map onto them."""

from __future__ import annotations

from domain.case_flow import FOLLOWED
from domain.models import CaseStatus as S

STAGES: list[tuple[str, str]] = [
    ("received", "受理"),
    ("routed", "分流"),
    ("assigned", "交办"),
    ("mediating", "调解"),
    ("supervision", "监督"),
    ("rated", "评价"),
]

# How many of the six stages a status has completed (supervision runs alongside and completes at resolution).
COMPLETED_BY_STATUS: dict[S, int] = {
    S.received: 1,
    S.routed: 2,
    S.assigned: 3,
    S.team_formed: 3,
    S.mediating: 3,
    S.resolved: 5,
    S.closed: 6,
    S.under_review: 6,
    S.withdrawn: 1,
    S.rejected: 1,
}

# Timeline entries (by stage tag) that belong to another stage's ring.
RING_OF_ENTRY = {"team_formed": "assigned", "resolved": "mediating"}


def completed(status: str) -> int:
    try:
        return COMPLETED_BY_STATUS[S(status)]
    except ValueError:
        return 1


def ended_early(status: str) -> bool:
    """Withdrawn or rejected: the remaining stages will not happen."""
    return status in (S.withdrawn.value, S.rejected.value)


def ring_of(entry_stage: str) -> str:
    return RING_OF_ENTRY.get(entry_stage, entry_stage)


def citizen_may_add(status: str) -> bool:
    """A citizen may still add materials or update the request (until the case has ended)."""
    try:
        s = S(status)
    except ValueError:
        return False
    return s in FOLLOWED
