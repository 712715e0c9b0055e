"""Histories recorded by earlier versions of the workflow code, and by today's, must replay against today's code;
and each `workflow.patched` id has fixtures proving both of its paths (docs/changing-workflow-code.md).

tests/replay/histories/*.json: the historical set, recorded by earlier code before payload encryption, with the
plain pydantic converter, and replayed with it. histories/current/ (and any set frozen from it): recorded by
tests/replay/record_histories.py with the production worker builder and the encrypting converter under the
tests' key, and replayed with that converter. histories/retired/ holds the histories a retired patch no longer
replays (cases of that shape no longer exist anywhere): kept as a record, not replayed.

A failure here means a change to workflows/ would break running cases: guard it with `workflow.patched(...)`
instead of re-recording these files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from tests.conftest import TEST_PAYLOAD_KEYS, encrypting_converter
from worker import WORKFLOWS
from workflows import patches

HISTORIES = Path(__file__).with_name("histories")
CURRENT = HISTORIES / "current"
ALL = sorted(p for p in HISTORIES.rglob("*.json") if p.relative_to(HISTORIES).parts[0] != "retired")
HISTORICAL_PLAIN = sorted(HISTORIES.glob("*.json"))


def name(path: Path) -> str:
    """How workflows/patches.py names a fixture: its path under histories/, without .json."""
    return path.relative_to(HISTORIES).as_posix().removesuffix(".json")


def fixture(fixture_name: str) -> Path:
    return HISTORIES / f"{fixture_name}.json"


def converter(path: Path):
    return pydantic_data_converter if path.parent == HISTORIES else encrypting_converter(TEST_PAYLOAD_KEYS)


def replay_interceptors():
    from domain.settings import Settings
    from workflows.temporal_client import worker_interceptors

    return worker_interceptors(Settings(payload_keys=TEST_PAYLOAD_KEYS))


def history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(name(path), path.read_text())


def test_there_are_recorded_histories():
    from tests.replay.record_histories import SCENARIOS, SIMULATED

    assert len(HISTORICAL_PLAIN) >= 3
    recorded = {name(p).removeprefix("current/").split(".run")[0] for p in CURRENT.glob("*.json")}
    assert set(SCENARIOS) | set(SIMULATED) <= recorded, "record them: python -m tests.replay.record_histories"


@pytest.mark.parametrize("path", ALL, ids=[name(p) for p in ALL])
async def test_recorded_history_replays(path: Path):
    # With the worker's interceptors, as production replays: the signature check (workflows/signatures.py) must
    # not touch histories recorded before signatures existed.
    replayer = Replayer(workflows=WORKFLOWS, data_converter=converter(path), interceptors=replay_interceptors())
    result = await replayer.replay_workflow(history(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{name(path)} no longer replays: {result.replay_failure}"


@pytest.mark.parametrize("path", ALL, ids=[name(p) for p in ALL])
def test_current_histories_are_encrypted_like_production_ones(path: Path):
    h = history(path)
    payloads = list(h.events[0].workflow_execution_started_event_attributes.input.payloads)
    encodings = {p.metadata.get("encoding") for p in payloads}
    if path.parent == HISTORIES:
        assert encodings == {b"json/plain"}  # recorded before payload encryption
        return
    assert encodings == {b"binary/encrypted"}
    raw = b"".join(e.SerializeToString() for e in h.events) + path.read_bytes()
    for secret in ("13800001234", "王小明", "包工头"):
        assert secret.encode() not in raw, f"{secret} in clear in {name(path)}"


# --- which path of each patch a fixture takes ---------------------------------------------------------------

Decide = Callable[[str, Callable[..., bool]], bool]


async def replay_with(path: Path, decide: Decide) -> tuple[dict[str, set[bool]], Exception | None]:
    """Replay with `workflow.patched` answered by decide(id, real_patched); returns what it answered per id
    and the replay failure, if any. Unsandboxed, so that the workflow code sees the replacement."""
    answered: dict[str, set[bool]] = {}
    real = workflow.patched

    def patched(pid: str, *args, **kwargs) -> bool:
        answer = decide(pid, lambda: real(pid, *args, **kwargs))
        answered.setdefault(pid, set()).add(answer)
        return answer

    workflow.patched = patched  # type: ignore[assignment]
    try:
        replayer = Replayer(
            workflows=WORKFLOWS, data_converter=converter(path), workflow_runner=UnsandboxedWorkflowRunner()
        )
        result = await replayer.replay_workflow(history(path), raise_on_replay_failure=False)
    finally:
        workflow.patched = real  # type: ignore[assignment]
    return answered, result.replay_failure


def unchanged(pid: str, real: Callable[[], bool]) -> bool:
    return real()


_ANSWERS: dict[Path, dict[str, set[bool]]] = {}


async def answers(path: Path) -> dict[str, set[bool]]:
    """What `workflow.patched` answers for each id while today's code replays the fixture."""
    if path not in _ANSWERS:
        answered, failure = await replay_with(path, unchanged)
        assert failure is None, failure
        _ANSWERS[path] = answered
    return _ANSWERS[path]


def markers(path: Path) -> dict[str, bool]:
    """The patch markers (MarkerRecorded events) in a history: id -> deprecated."""
    found = {}
    for event in history(path).events:
        if event.HasField("marker_recorded_event_attributes"):
            details = event.marker_recorded_event_attributes.details
            data = json.loads(details["patch-data"].payloads[0].data)
            found[data["id"]] = data["deprecated"]
    return found


@pytest.mark.parametrize("path", ALL, ids=[name(p) for p in ALL])
async def test_a_patch_marker_is_in_the_history_exactly_when_patched_takes_the_new_path(path: Path):
    answered, marked = await answers(path), markers(path)
    assert set(marked) <= set(patches.REGISTRY)
    for pid, given in answered.items():
        assert given in ({True}, {False}), f"{pid} answered both ways in one run"
        assert (pid in marked) == (given == {True}), (pid, given, marked)
    assert set(marked) <= set(answered)


@pytest.mark.parametrize("pid", list(patches.REGISTRY))
async def test_each_patch_has_fixtures_for_both_paths(pid: str):
    """The fixtures workflows/patches.py names take the path it says: old path = recorded without the marker,
    `patched` answers False; new path = marker in the history, `patched` answers True. The new path has a
    fixture recorded by today's code."""
    patch = patches.REGISTRY[pid]
    if patch.deprecated_in is not None:  # the code calls deprecate_patch(): only histories with the marker remain
        assert all(pid in markers(fixture(f)) for f in patch.new_path)
        return
    for fixture_name in patch.old_path:
        path = fixture(fixture_name)
        assert pid not in markers(path), f"{fixture_name} has the {pid} marker"
        assert (await answers(path)).get(pid) == {False}, f"{fixture_name} does not take {pid}'s old path"
    for fixture_name in patch.new_path:
        path = fixture(fixture_name)
        assert markers(path).get(pid) is False, f"{fixture_name} lacks the {pid} marker"
        assert (await answers(path)).get(pid) == {True}, f"{fixture_name} does not take {pid}'s new path"
    assert any(f.startswith("current/") for f in patch.new_path), "no fixture of today's code takes the new path"


def deprecated(target: str) -> Decide:
    """`workflow.deprecate_patch(target)` and the new branch only: the first step of retiring it."""

    def decide(pid: str, real: Callable[[], bool]) -> bool:
        if pid != target:
            return real()
        workflow.deprecate_patch(pid)
        return True

    return decide


def removed(target: str) -> Decide:
    """No call at all for target, the new branch only: the last step of retiring it."""
    return lambda pid, real: True if pid == target else real()


@pytest.mark.parametrize("pid", list(patches.REGISTRY))
async def test_retiring_a_patch_too_early_breaks_the_histories_that_need_it(pid: str):
    """Why each retirement step waits (workflows/patches.py): deprecating the patch keeps the new path's
    histories replaying but breaks an old path's one; removing the call then breaks the new path's histories,
    whose markers are not deprecated."""
    patch = patches.REGISTRY[pid]
    if patch.deprecated_in is not None:
        pytest.skip(f"{pid} is deprecated already (commit {patch.deprecated_in})")
    for fixture_name in patch.new_path:
        _, failure = await replay_with(fixture(fixture_name), deprecated(pid))
        assert failure is None, f"deprecating {pid} breaks {fixture_name}: {failure}"
    broken = []
    for fixture_name in patch.old_path:
        _, failure = await replay_with(fixture(fixture_name), deprecated(pid))
        if failure is not None:
            broken.append(fixture_name)
            break
    assert broken, f"no old-path fixture of {pid} shows what deprecating it too early breaks"
    _, failure = await replay_with(fixture(patch.new_path[0]), removed(pid))
    assert failure is not None and "patch marker" in str(failure), failure


async def test_the_review_patch_is_what_keeps_an_old_low_rated_case_replaying(monkeypatch):
    """The worked example of docs/changing-workflow-code.md: taking the `patched("citizen-review")` guard
    away (the review window applied to every case) breaks the history recorded before the change."""
    from workflows.dispute_case import DisputeCase

    path = HISTORIES / "low_rating_before_review.json"
    old = history(path)

    async def replay():
        replayer = Replayer(
            workflows=WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=UnsandboxedWorkflowRunner()
        )
        return (await replayer.replay_workflow(old, raise_on_replay_failure=False)).replay_failure

    assert await replay() is None
    monkeypatch.setattr(DisputeCase, "_awaiting_review", lambda self: self.s.review_open_until is not None)
    assert await replay() is not None
