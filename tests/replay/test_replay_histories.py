"""Histories recorded by earlier versions of the workflow code must replay against today's code.

A failure here means a change to workflows/ would break running cases: guard it with
`workflow.patched(...)` (README, "Changing workflow code") instead of re-recording these files."""
from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from worker import WORKFLOWS

HISTORIES = sorted(Path(__file__).with_name("histories").glob("*.json"))


def test_there_are_recorded_histories():
    assert len(HISTORIES) >= 3


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name} no longer replays: {result.replay_failure}"


async def test_the_review_patch_is_what_keeps_an_old_low_rated_case_replaying(monkeypatch):
    """The worked example of README "Changing workflow code": taking the `patched("citizen-review")` guard
    away (the review window applied to every case) breaks the history recorded before the change."""
    from temporalio.worker import UnsandboxedWorkflowRunner

    from workflows.dispute_case import DisputeCase

    path = Path(__file__).with_name("histories") / "low_rating_before_review.json"
    history = WorkflowHistory.from_json(path.stem, path.read_text())

    async def replay():
        replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter,
                            workflow_runner=UnsandboxedWorkflowRunner())
        return (await replayer.replay_workflow(history, raise_on_replay_failure=False)).replay_failure

    assert await replay() is None
    monkeypatch.setattr(DisputeCase, "_awaiting_review", lambda self: self.s.review_open_until is not None)
    assert await replay() is not None
