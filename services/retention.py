"""Retention of logs and of citizens' data (Cybersecurity Law art. 21; PIPL arts. 19, 45, 47).

- **Logs**: access-log rows (who read which case's history, dossier, full phone) are kept at least six months
  (`WUHUAN_LOG_RETENTION`, default and minimum P180D), then deleted by `wuhuan privacy prune-logs`, which the
  operator runs daily from cron (docs/security.md). A command rather than a Temporal Schedule: it is one SQL
  delete, needs no worker, and cron's own log shows it ran.
- **Export on request**: `wuhuan privacy export CASE_NO` writes everything the system holds about the citizen of
  one case (JSON, in clear), and logs the export in the access log.
- **Anonymisation**: `wuhuan privacy anonymise --older-than P3Y` (default `WUHUAN_CASE_RETENTION`) takes ended
  cases (closed, withdrawn, rejected) whose last event is older than that, and removes the citizen from them: the
  name, phone, address and description of the case row and its recorded state, the tracking codes, the uploaded
  files, the texts of notifications and outbox deliveries; chained events whose detail holds what people typed
  are redacted, and a sealed `anonymised` event vouches for each redacted row's hash (domain/audit_chain.py), so
  `wuhuan audit verify` still passes and still catches any other change. The statistics (category, unit, dates,
  clocks, outcome, rating) stay. The Temporal histories are not touched: the namespace's own retention removes
  closed workflows long before (docs/operations.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import select

from domain import audit_chain
from domain.models import Actor, Role
from domain.settings import Settings, parse_duration
from services import access_log
from store.db import session
from store.tables import (
    AccessLogRow,
    Case,
    CaseEventRow,
    MaterialRow,
    Notification,
    NotificationDelivery,
    TrackingCode,
)

MIN_LOG_RETENTION = timedelta(days=180)
ENDED = ("closed", "withdrawn", "rejected")
ANONYMOUS = "（已匿名）"
# Event details that hold what people typed (free text, names of participants, file names); everything else in a
# chained detail is codes, usernames, times and numbers.
PERSONAL_KEYS = frozenset({"text", "summary", "participants", "filename", "note", "reason", "comment", "description"})
SYSTEM = Actor(username="system", role=Role.system)


def log_retention(settings: Settings) -> timedelta:
    kept = parse_duration(settings.log_retention)
    if kept < MIN_LOG_RETENTION:
        raise ValueError(f"WUHUAN_LOG_RETENTION={settings.log_retention} is under the legal minimum of six months")
    return kept


def prune_logs(engine: Engine, now: datetime, kept: timedelta) -> int:
    """Delete access-log rows older than `kept` (at least six months); returns how many."""
    if kept < MIN_LOG_RETENTION:
        raise ValueError("access logs are kept at least six months")
    with session(engine) as db:
        result = db.exec(delete(AccessLogRow).where(AccessLogRow.at < now - kept))  # type: ignore[call-overload]
        db.commit()
        return int(result.rowcount or 0)


def _jsonable(row: Any) -> dict[str, Any]:
    return row.model_dump(mode="json")


def export_case(engine: Engine, case_no: str, by: str, now: datetime) -> dict[str, Any]:
    """What the system holds about the citizen of one case, in clear (PIPL art. 45); the export is logged."""
    with session(engine) as db:
        case = db.exec(select(Case).where(Case.case_no == case_no)).first()
        if case is None:
            raise LookupError(f"no case {case_no}")
        cid = case.case_id
        events = db.exec(select(CaseEventRow).where(CaseEventRow.case_id == cid).order_by(CaseEventRow.seq)).all()
        materials = db.exec(select(MaterialRow).where(MaterialRow.case_id == cid)).all()
        out = {
            "case_no": case.case_no,
            "exported_at": now.isoformat(),
            "citizen": {"name": case.citizen_name, "phone": case.citizen_phone, "address": case.address},
            "description": case.description,
            "status": case.status,
            "received_at": case.received_at.isoformat(),
            "closed_at": case.closed_at.isoformat() if case.closed_at else None,
            "events": [
                {"seq": e.seq, "at": e.at.isoformat(), "type": e.type, "actor": e.actor, "detail": e.detail}
                for e in events
            ],
            "materials": [
                {k: v for k, v in _jsonable(m).items() if k not in ("stored_name", "case_id")} for m in materials
            ],
        }
    access_log.record(engine, Actor(username=by, role=Role.system), cid, access_log.EXPORT, "cli", at=now)
    return out


@dataclass
class Anonymised:
    cases: list[str] = field(default_factory=list)  # case numbers
    redacted_events: int = 0
    files_removed: int = 0


def _redact_state(value: Any) -> Any:
    """The recorded CaseState (JSON) without the citizen: the intake's name, phone, address and description, and
    every free text (updates, mediation summaries and participants, reasons, comments) at any depth."""
    if isinstance(value, list):
        return [_redact_state(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, v in value.items():
        if key in ("citizen_name", "description") or (key in PERSONAL_KEYS and isinstance(v, str)):
            out[key] = ANONYMOUS
        elif key in ("citizen_phone",):
            out[key] = ""
        elif key == "address":
            out[key] = None
        elif key in PERSONAL_KEYS and isinstance(v, list):
            out[key] = []
        else:
            out[key] = _redact_state(v)
    return out


def anonymise(engine: Engine, older_than: timedelta, now: datetime, materials_dir: Path | None = None) -> Anonymised:
    """Anonymise ended cases whose last event is older than `older_than` (see the module); idempotent."""
    done = Anonymised()
    cutoff = now - older_than
    with session(engine) as db:
        candidates = db.exec(select(Case).where(Case.status.in_(ENDED), Case.citizen_name != ANONYMOUS)).all()  # type: ignore[attr-defined]
        for case in candidates:
            events = list(
                db.exec(select(CaseEventRow).where(CaseEventRow.case_id == case.case_id).order_by(CaseEventRow.seq))
            )
            last = max((e.at for e in events), default=case.received_at)
            if _aware(last) >= cutoff:
                continue
            vouched: dict[str, str] = {}
            for e in events:
                if e.detail != audit_chain.REDACTED and PERSONAL_KEYS & set(e.detail or {}) and e.hash:
                    vouched[str(e.seq)] = e.hash
                    e.detail = dict(audit_chain.REDACTED)
                    db.add(e)
            if events and events[-1].hash:
                alg = events[-1].hash_alg or "sm3"
                row = CaseEventRow(
                    case_id=case.case_id,
                    seq=events[-1].seq + 1,
                    at=now,
                    type=audit_chain.ANONYMISED,
                    actor=SYSTEM.username,
                    detail={"redacted": vouched, "older_than_days": older_than.days},
                )
                audit_chain.seal(row, events[-1].hash, alg)
                db.add(row)
                if hasattr(case, "last_seq"):
                    case.last_seq = row.seq
            done.redacted_events += len(vouched)
            case.citizen_name, case.citizen_phone, case.address = ANONYMOUS, "", None
            case.description = ANONYMOUS
            if getattr(case, "state", None) is not None:
                case.state = _redact_state(case.state)
            db.add(case)
            db.exec(delete(TrackingCode).where(TrackingCode.case_id == case.case_id))  # type: ignore[call-overload]
            for m in db.exec(select(MaterialRow).where(MaterialRow.case_id == case.case_id)):
                if materials_dir is not None and (materials_dir / m.stored_name).exists():
                    (materials_dir / m.stored_name).unlink()
                    done.files_removed += 1
                m.filename, m.note = ANONYMOUS, None
                db.add(m)
            for n in db.exec(select(Notification).where(Notification.case_id == case.case_id)):
                n.text = f"【已匿名】案件 {case.case_no}"
                db.add(n)
            _redact_deliveries(db, case.case_id)
            done.cases.append(case.case_no)
        db.commit()
    return done


def _redact_deliveries(db: Any, case_id: str) -> None:
    if not hasattr(NotificationDelivery, "case_id"):
        return
    for d in db.exec(select(NotificationDelivery).where(NotificationDelivery.case_id == case_id)):
        for attr in ("text", "html", "subject", "recipient_address"):
            if isinstance(getattr(d, attr, None), str):
                setattr(d, attr, ANONYMOUS)
        db.add(d)


def _aware(at: datetime) -> datetime:
    from datetime import UTC

    return at if at.tzinfo else at.replace(tzinfo=UTC)
