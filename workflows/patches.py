"""Every `workflow.patched` id the case workflow uses: what it changed, the commit that brought it, the replay
fixtures that prove each of its two paths, and when it may go. docs/changing-workflow-code.md has the rules.

An id is part of every history recorded while its `patched` call was in the code: a case started before the
change replays through the old branch, one started after through the new. tests/workflows/test_patches.py
checks that every id used in workflows/ is here and every id here is used; tests/replay/test_replay_histories.py
checks the fixtures named here (paths under tests/replay/histories/, without `.json`) take the path claimed.

Retiring an id, in two releases, each waiting until no history that needs the previous code can be replayed:
1. Deprecate: once no run of DisputeCase started before R1 (when the last worker running code *without* the
   patch stopped) can still be replayed, replace `if workflow.patched(ID):` with `workflow.deprecate_patch(ID)`
   and keep only the new branch. Runs are replayed while open and also when a closed one is queried, replayed
   by `wuhuan audit replay` or read by `wuhuan audit reconcile`, i.e. until the namespace's retention drops it.
   The operator's check is a visibility count that must answer 0:
       temporal workflow count --query 'WorkflowType="DisputeCase" AND StartTime < "<R1, RFC 3339>"'
   (add `AND ExecutionStatus="Running"` to see what would break at once). Visibility has one record per run,
   so a case that continued as new after R1 no longer counts: its new run started on the new code.
2. Remove: `deprecate_patch` still has to be called while a history carrying the id's (non-deprecated) marker
   may be replayed; once no run started before R2 (when the last worker still calling `patched(ID)` stopped)
   is left, by the same count with R2, delete the call and the id's entry here.
No id is deprecated yet (2026-12): cases started before each commit below may still be open.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Patch:
    id: str
    changed: str
    introduced_in: str  # the commit; the release that shipped it is what R1 above is taken from
    old_path: tuple[str, ...]  # fixtures where patched() answers False: recorded without the marker
    new_path: tuple[str, ...]  # fixtures where it answers True: their history holds the marker
    removable_when: str
    deprecated_in: str | None = None  # the commit that replaced patched() by deprecate_patch(); old_path is then ()


REGISTRY: dict[str, Patch] = {}


def _register(patch: Patch) -> str:
    REGISTRY[patch.id] = patch
    return patch.id


REPEAT_REQUESTS = _register(
    Patch(
        id="repeat-requests",
        changed="When routing answers that the request repeats an earlier case (repeat_of), a repeat_detected event "
        "links the two and the clerks are told. Before, routing had no repeat_of and nothing was recorded.",
        introduced_in="e1125d0",
        # No history of the real older code reaches this call (its routing never answered with repeat_of), so the
        # old path is shown by today's code with this patch and all later ones switched off: what a rolling upgrade
        # leaves behind when a new worker's routing answer meets an old worker's workflow task.
        old_path=("current/repeat_request_flagged.before-repeat-requests",),
        new_path=("repeat_request_flagged", "current/repeat_request_flagged"),
        removable_when="no run started before the release of e1125d0 can be replayed (count query, StartTime "
        "before that release; the commit is from 2026-11-29T00:10:25Z). Only a run's first workflow "
        "task routes, so in practice these are the cases received before it.",
    )
)
"""A repeated request is linked to the earlier case and the clerks are told (e1125d0)."""

CITIZEN_REVIEW = _register(
    Patch(
        id="citizen-review",
        changed="A case rated 1-2 stays open for the review window (复核: request, supervisor decision, re-handling) "
        "instead of ending at the rating.",
        introduced_in="11bf3b1",
        old_path=("low_rating_before_review",),
        new_path=("review_rehandled", "current/review_rehandled", "current/low_rating_review_lapsed"),
        removable_when="no run started before the release of 11bf3b1 (commit 2026-11-29T00:16:35Z) can be "
        "replayed: the count query with that time answers 0.",
    )
)
"""A case rated 1-2 waits for a review request before it ends (11bf3b1)."""

TIMER_DECIDES_DEADLINES = _register(
    Patch(
        id="timer-decides-deadlines",
        changed="A clock is breached only when its own timer fires, and a timer is started however short the wait. "
        "Before, every wake-up breached every clock due by workflow.now(), which after a crashed workflow "
        "task can differ between the first run and a replay (found by the fault suite, make fault).",
        introduced_in="cc21bb5",
        # The histories of the real older code replay through the old branch but would replay through the new one
        # too; the simulated one (a worker outage across two deadlines) is the shape in which the two differ.
        old_path=(
            "red_case_to_closed",
            "manual_triage_auto_close",
            "continued_as_new.run1",
            "continued_as_new.run2",
            "team_decline_replaced",
            "repeat_request_flagged",
            "review_rehandled",
            "low_rating_before_review",
            "current/red_case_worker_down.before-timer-decides-deadlines",
        ),
        new_path=(
            "red_case_by_timers",
            "red_case_notices_with_records",
            "current/red_case_to_closed",
            "current/red_case_worker_down",
            "current/continued_as_new.run1",
            "current/review_rehandled",
        ),
        removable_when="no run started before the release of cc21bb5 (commit 2026-11-29T01:11:23Z) can be replayed: "
        "the count query with that time answers 0.",
    )
)
"""Clocks fire on their own timers, never on a comparison with workflow.now() (cc21bb5)."""

NOTICES_WITH_RECORDS = _register(
    Patch(
        id="notices-with-records",
        changed="A step's notifications travel in the record_case_events activity and are written in the "
        "transaction of its events (external channels through the outbox). Before, each notification was "
        "its own send_notifications activity running beside the case.",
        introduced_in="12d936d",
        old_path=(
            "red_case_to_closed",
            "red_case_by_timers",
            "manual_triage_auto_close",
            "continued_as_new.run1",
            "continued_as_new.run2",
            "team_decline_replaced",
            "repeat_request_flagged",
            "review_rehandled",
            "low_rating_before_review",
        ),
        new_path=(
            "red_case_notices_with_records",
            "current/red_case_to_closed",
            "current/repeat_request_flagged",
            "current/continued_as_new.run1",
            "current/review_rehandled",
        ),
        removable_when="no run started before the release of 12d936d (commit 2026-11-30T19:56:52Z) can be replayed: "
        "the count query with that time answers 0. Every run consults it at its first record, so "
        "every older run counts. The send_notifications activity may leave the worker with it.",
    )
)
"""A step's notifications are written with its events, in one activity and one transaction (12d936d)."""

JOINT_MECHANISM = _register(
    Patch(
        id="joint-mechanism",
        changed="A case turning red forms its task force through form_task_force: the county leader in charge of "
        "its lead unit (or in touch with its township) leads, the drafted units' and township's leaders are "
        "members, each told, and it works to a deadline. Before, start_task_force named the first county leader "
        "on the roster and every county leader was told.",
        introduced_in="efdb7f7",
        old_path=("red_case_to_closed", "red_case_by_timers", "before-joint-mechanism/red_case_to_closed"),
        new_path=("current/red_case_joint_task_force",),
        removable_when="no run started before the release of this commit that can still turn red can be "
        "replayed: the count query with that release's time answers 0.",
    )
)
"""A red case is led by the county leader in charge, with the drafted units' leaders (issue 12)."""

# In the order they were introduced: a recording of "the code before X" switches off X and every later one.
ALL = tuple(REGISTRY)
