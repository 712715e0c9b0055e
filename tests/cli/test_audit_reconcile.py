"""`wuhuan audit reconcile` and `replay`: the read model repaired from the workflows, histories replayed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import delete

from cli.audit import reconcile, replay_files
from store.db import session
from store.tables import Case, CaseEventRow
from tests.workflows.helpers import event_types, start_case, until

HISTORIES = Path(__file__).resolve().parent.parent / "replay" / "histories"


async def test_drift_in_the_read_model_is_found_and_repaired_from_the_workflow(
    skipping_env, worker, task_queue, engine, cases
):
    h = await start_case(skipping_env, task_queue, cases)
    st = await until(h, lambda s: bool(s.team))
    logged = event_types(engine, st.case_id)
    assert await reconcile(skipping_env.client, engine, [st.case_id], dry_run=False) == []  # nothing drifted

    with session(engine) as db:  # someone edits the read model by hand and loses an event
        row = db.get(Case, st.case_id)
        row.status, row.handler, row.colour = "closed", None, "red"
        db.add(row)
        db.exec(delete(CaseEventRow).where(CaseEventRow.case_id == st.case_id, CaseEventRow.seq == 3))
        db.commit()

    [drift] = await reconcile(skipping_env.client, engine, [st.case_id], dry_run=True)
    assert drift.fields["status"] == ("closed", "team_formed") and drift.fields["handler"][1] == "renshe.mediator"
    assert drift.missing_events == [3]
    with session(engine) as db:
        assert db.get(Case, st.case_id).status == "closed"  # a dry run changes nothing

    [drift] = await reconcile(skipping_env.client, engine, [st.case_id], dry_run=False)
    with session(engine) as db:
        row = db.get(Case, st.case_id)
        assert (row.status, row.handler, row.colour) == ("team_formed", "renshe.mediator", "green")
    assert event_types(engine, st.case_id) == logged
    assert await reconcile(skipping_env.client, engine, [st.case_id], dry_run=False) == []


async def test_recorded_histories_replay_through_the_audit_command():
    from temporalio.contrib.pydantic import pydantic_data_converter

    report = await replay_files(sorted(HISTORIES.glob("*.json")), pydantic_data_converter)
    assert report.replayed >= 8 and report.failures == []


def test_audit_replay_command_over_the_recorded_histories():
    out = subprocess.run(
        [str(Path(sys.executable).parent / "wuhuan"), "audit", "replay", "--dir", str(HISTORIES)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 not" in out.stdout


async def test_reconcile_fills_the_state_of_a_row_recorded_before_it_was_kept_and_queries_no_case(
    skipping_env, worker, task_queue, engine, cases, monkeypatch
):
    """A row from before migration 0010 has no state (its views are reduced, `stale`): reconcile fills it from
    the last state the workflow recorded, read from the history, which it replays itself — never a query."""
    from temporalio.client import WorkflowHandle

    from domain.models import CaseState
    from services import history

    h = await start_case(skipping_env, task_queue, cases)
    st = await until(h, lambda s: bool(s.team))
    with session(engine) as db:
        row = db.get(Case, st.case_id)
        row.state = None
        db.add(row)
        db.commit()

    async def no_query(*args, **kwargs):
        raise AssertionError("reconcile queried a case")

    monkeypatch.setattr(WorkflowHandle, "query", no_query)
    [drift] = await reconcile(skipping_env.client, engine, [st.case_id], dry_run=False)
    assert set(drift.fields) == {"state"} and not drift.missing_events
    with session(engine) as db:
        kept = CaseState.model_validate(db.get(Case, st.case_id).state)
    assert (kept.status, kept.handler, [m.username for m in kept.team]) == (
        st.status,
        st.handler,
        [m.username for m in st.team],
    )
    assert await reconcile(skipping_env.client, engine, [st.case_id], dry_run=True) == []

    async def not_replaying(runs, data_converter=None):
        return {"deterministic": False, "events": 1, "runs": 1, "error": "run x: [TMPRL1100] nondeterminism"}

    monkeypatch.setattr(history, "replay", not_replaying)
    [drift] = await reconcile(skipping_env.client, engine, [st.case_id], dry_run=False)
    assert drift.unreadable is not None and "does not replay" in drift.unreadable
