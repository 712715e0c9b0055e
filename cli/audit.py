"""`wuhuan audit replay | reconcile` (and verify | digest, cli/audit_verify.py): proof for auditors.

replay    — each case's workflow history, from the server or from files, replayed against the workflow code
            installed here; names every history that no longer replays (exit 1).
reconcile — the read model compared with each workflow's own records (the truth) and repaired from them: the
            case row rewritten from the last state the workflow asked to record, missing events written back,
            both decoded from its history. Each history is replayed here first (Replayer, in this process):
            no case is queried, since a query answered by a worker can run an open case ahead of its history
            (docs/durability.md, "The cache and replay")."""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="replay histories, reconcile the read model, verify the event chains")
    asub = p.add_subparsers(dest="audit_command", metavar="ACTION")
    asub.required = True

    r = asub.add_parser("replay", help="replay case histories against the installed workflow code")
    r.add_argument("--case", action="append", default=[], help="a case id (repeatable)")
    r.add_argument("--since", type=datetime.fromisoformat, help="cases started since this date (YYYY-MM-DD)")
    r.add_argument("--all", action="store_true", help="every case on the server")
    r.add_argument("--dir", type=Path, help="replay recorded history files (*.json) instead of the server's")
    r.set_defaults(func=cmd_replay, hard_exit=True)

    c = asub.add_parser("reconcile", help="repair the read model from the workflows (the truth)")
    c.add_argument("--case", action="append", default=[], help="a case id (repeatable); default: every case")
    c.add_argument("--dry-run", action="store_true", help="report the drift, change nothing")
    c.set_defaults(func=cmd_reconcile, hard_exit=True)

    from cli.audit_verify import register_digest, register_verify

    register_verify(asub)
    register_digest(asub)


# --- replay ------------------------------------------------------------------------------------------


@dataclass
class ReplayReport:
    replayed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (what, error)


async def replay_files(paths: list[Path], data_converter) -> ReplayReport:
    from temporalio.client import WorkflowHistory
    from temporalio.worker import Replayer

    from worker import WORKFLOWS

    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter)
    report = ReplayReport()
    for path in paths:
        result = await replayer.replay_workflow(
            WorkflowHistory.from_json(path.stem, path.read_text()), raise_on_replay_failure=False
        )
        report.replayed += 1
        if result.replay_failure is not None:
            report.failures.append((str(path), str(result.replay_failure)))
    return report


async def replay_server(client, case_ids: list[str], since: datetime | None) -> ReplayReport:
    from temporalio.worker import Replayer

    from worker import WORKFLOWS
    from workflows.dispute_case import workflow_id

    if case_ids:
        query = " OR ".join(f'WorkflowId = "{workflow_id(c)}"' for c in case_ids)
    else:
        query = 'WorkflowType = "DisputeCase"'
        if since is not None:
            query += f' AND StartTime >= "{since.isoformat()}"'
    replayer = Replayer(workflows=WORKFLOWS, data_converter=client.data_converter)
    report = ReplayReport()
    async for execution in client.list_workflows(query):  # every run, continue-as-new runs included
        history = await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        report.replayed += 1
        if result.replay_failure is not None:
            report.failures.append((f"{execution.id} run {execution.run_id}", str(result.replay_failure)))
    return report


def cmd_replay(args: argparse.Namespace) -> int:
    from domain.settings import get_settings
    from workflows import temporal_client

    settings = get_settings()
    if not (args.dir or args.case or args.since or args.all):
        print("say what to replay: --case ID, --since DATE, --all, or --dir PATH", file=sys.stderr)
        return 2

    async def run() -> ReplayReport:
        if args.dir:
            return await replay_files(sorted(args.dir.glob("*.json")), temporal_client.data_converter(settings))
        client = await temporal_client.connect(settings)
        return await replay_server(client, args.case, args.since)

    report = asyncio.run(run())
    for what, error in report.failures:
        print(f"NOT DETERMINISTIC  {what}\n    {error}")
    print(
        f"replayed {report.replayed} histories: {report.replayed - len(report.failures)} deterministic, "
        f"{len(report.failures)} not"
    )
    return 1 if report.failures or report.replayed == 0 else 0


# --- reconcile ---------------------------------------------------------------------------------------

COMPARED = (
    "status",
    "colour",
    "category",
    "unit",
    "township",
    "handler",
    "team",
    "member_units",
    "clocks",
    "clock_routed",
    "clock_assigned",
    "clock_team",
    "clock_yellow",
    "clock_red",
    "overdue",
    "resolved_at",
    "resolution_days",
    "closed_at",
    "outcome",
    "rating",
    "review_requested_at",
    "needs_manual_triage",
    "state",
    "last_seq",
)


@dataclass
class Drift:
    case_id: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # name: (read model, workflow)
    missing_row: bool = False
    missing_events: list[int] = field(default_factory=list)
    unreadable: str | None = None  # its history could not be read or no longer replays

    @property
    def any(self) -> bool:
        return self.missing_row or bool(self.fields) or bool(self.missing_events) or self.unreadable is not None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        a = a if a.tzinfo else a.replace(tzinfo=UTC)
        b = b if b.tzinfo else b.replace(tzinfo=UTC)
    return a == b


async def reconcile(client, engine, case_ids: list[str], dry_run: bool) -> list[Drift]:
    """Compare and (unless dry_run) repair each case; returns what drifted."""
    from sqlmodel import select
    from temporalio.service import RPCError

    from activities.records import CaseRecorder, apply_snapshot
    from domain.models import CaseEvent, CaseRecord
    from services import history
    from services.errors import Refusal
    from store.db import session
    from store.tables import Case, CaseEventRow

    recorder = CaseRecorder(engine)
    drifts: list[Drift] = []
    for case_id in case_ids:
        try:
            runs = await history.fetch_runs(client, case_id)
            replayed = await history.replay(runs, client.data_converter)
            records = await history.records(client, runs)
        except (Refusal, RPCError) as e:
            drifts.append(Drift(case_id=case_id, unreadable=f"history not fetched: {str(e)[:300]}"))
            continue
        if not replayed["deterministic"]:
            # Nothing to repair from: an auditor must see the case named, and the others still get checked.
            drifts.append(Drift(case_id=case_id, unreadable=f"history does not replay: {replayed['error'][:300]}"))
            continue
        state = history.state_at(records)
        if state is None:
            continue  # nothing recorded yet (its first write is under way)
        events = [CaseEvent(**e) for e in history.events_of(records)]
        drift = Drift(case_id=case_id)
        with session(engine) as db:
            row = db.get(Case, case_id)
            have = set(db.exec(select(CaseEventRow.seq).where(CaseEventRow.case_id == case_id)).all())
            drift.missing_events = [e.seq for e in events if e.seq not in have]
            if row is None:
                drift.missing_row = True
            else:
                truth = Case.model_validate(row.model_dump())
                apply_snapshot(truth, state)
                for name in COMPARED:
                    if not _same(getattr(row, name), getattr(truth, name)):
                        drift.fields[name] = (getattr(row, name), getattr(truth, name))
        if drift.any and not dry_run:
            with session(engine) as db:  # the snapshot wins: let it replace the row whatever its last_seq
                row = db.get(Case, case_id)
                if row is not None:
                    row.last_seq = 0
                    db.add(row)
                    db.commit()
            await asyncio.to_thread(
                recorder.record_case_events, CaseRecord(case_id=case_id, events=events, state=state)
            )
        if drift.any:
            drifts.append(drift)
    return drifts


async def all_case_ids(client, engine) -> list[str]:
    from sqlmodel import select

    from store.db import session
    from store.tables import Case

    ids: set[str] = set()
    async for execution in client.list_workflows('WorkflowType = "DisputeCase"'):
        ids.add(execution.id.removeprefix("case-"))
    with session(engine) as db:
        ids |= set(db.exec(select(Case.case_id)).all())
    return sorted(ids)


def cmd_reconcile(args: argparse.Namespace) -> int:
    from domain.settings import get_settings
    from store.db import engine_for
    from store.migrate import SchemaNotCurrent, require_current
    from workflows import temporal_client

    settings = get_settings()
    engine = engine_for(settings.database)
    try:
        require_current(engine)
    except SchemaNotCurrent as err:
        raise SystemExit(f"wuhuan audit reconcile: {err}") from None

    async def run() -> list[Drift]:
        client = await temporal_client.connect(settings)
        ids = args.case or await all_case_ids(client, engine)
        print(f"checking {len(ids)} cases")
        return await reconcile(client, engine, ids, args.dry_run)

    drifts = asyncio.run(run())
    verb = "would repair" if args.dry_run else "repaired"
    for d in drifts:
        if d.unreadable:
            print(f"CANNOT READ {d.case_id}: {d.unreadable}")
            continue
        parts = (["row missing"] if d.missing_row else []) + [
            f"{k}: {v[0]!r} → {v[1]!r}" for k, v in d.fields.items() if k not in ("clocks", "state")
        ]
        parts += [f"{k} differ" for k in ("clocks", "state") if k in d.fields]
        if d.missing_events:
            parts.append(f"events missing: seq {', '.join(map(str, d.missing_events))}")
        print(f"{verb} {d.case_id}: " + "; ".join(parts))
    unreadable = sum(1 for d in drifts if d.unreadable)
    repaired = len(drifts) - unreadable
    print(
        f"{repaired} case(s) drifted"
        + ("" if args.dry_run or not repaired else ", all repaired")
        + (f"; {unreadable} case(s) could not be read from Temporal" if unreadable else "")
    )
    return 1 if unreadable else 0
