"""`wuhuan triage classify | train | evaluate`: the routing model, offline, without a running server."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("triage", help="the routing classifier: classify, train, evaluate")
    tsub = p.add_subparsers(dest="triage_command", metavar="ACTION")
    tsub.required = True

    c = tsub.add_parser("classify", help='JSON lines {"id", "text"} on stdin → one routing per line on stdout')
    c.set_defaults(func=cmd_classify)

    t = tsub.add_parser("train", help="rebuild the model from the shipped data plus the county's own history")
    t.add_argument(
        "--history",
        action="append",
        type=Path,
        default=[],
        help="JSON lines of labelled texts {id, text, category, township?} (repeatable)",
    )
    t.add_argument("--no-db", action="store_true", help="do not add the staff routings kept in the database")
    t.set_defaults(func=cmd_train)

    e = tsub.add_parser(
        "evaluate",
        help="category: accuracy, automatic share and precision, confusions, baseline beside; township: by the "
        "places a text names, the shipped resolver beside its cues alone and the plain first-mention rule",
    )
    e.add_argument(
        "--data", type=Path, action="append", required=True, help="labelled JSON lines to evaluate on (repeatable)"
    )
    e.add_argument("--errors", action="store_true", help="also list the texts the shipped resolver placed wrong")
    e.add_argument("--threshold", type=float, default=None, help="default: WUHUAN_TRIAGE_THRESHOLD")
    e.add_argument("--folds", type=int, default=5)
    e.add_argument("--json", action="store_true", help="print the figures as JSON")
    e.set_defaults(func=cmd_evaluate)


def _context():
    from domain.settings import get_settings
    from domain.taxonomy import get_taxonomy

    return get_settings(), get_taxonomy()


def cmd_classify(args: argparse.Namespace) -> int:
    from domain import routing
    from domain.models import CaseIntake
    from domain.triage.service import load

    settings, taxonomy = _context()
    model = load(settings.models, taxonomy)
    bad = 0
    for n, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text = str(row["text"])
        except (ValueError, KeyError, TypeError) as e:
            print(f"line {n}: not a JSON object with a text: {e}", file=sys.stderr)
            bad += 1
            continue
        intake = CaseIntake(description=text, citizen_name="-", citizen_phone="-", address=row.get("address"))
        d = routing.decide(taxonomy, model, intake, settings.triage_threshold)
        category = taxonomy.category(d.category)
        out = {
            "id": row.get("id"),
            "category": d.category,
            "unit": category.lead_unit if category else None,
            "township": d.township,
            "confidence": d.confidence,
            "auto": d.auto,
        }
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return 1 if bad else 0


def cmd_train(args: argparse.Namespace) -> int:
    from domain.triage.data import read_jsonl, shipped_examples
    from domain.triage.service import train_and_save

    settings, taxonomy = _context()
    examples = shipped_examples(taxonomy)
    shipped = len(examples)
    for path in args.history:
        examples += read_jsonl(path, taxonomy)
    from_db = 0 if args.no_db else _staff_routings(settings, taxonomy, examples)
    model = train_and_save(settings.models, taxonomy, examples, make_current=True)
    print(
        f"trained on {len(examples)} texts ({shipped} shipped, {len(examples) - shipped - from_db} from "
        f"history files, {from_db} staff routings); model {model.fingerprint} is now current in {settings.models}"
    )
    print("running workers load it when they next start")
    return 0


def _staff_routings(settings, taxonomy, examples: list) -> int:
    """Cases a person routed or re-routed: the county's own labelled examples (appended in place)."""
    from sqlalchemy import inspect
    from sqlmodel import select

    from domain.triage.data import Example
    from store.db import engine_for, session
    from store.tables import Case, CaseEventRow

    engine = engine_for(settings.database)
    if not inspect(engine).has_table("case_events"):
        return 0
    with session(engine) as db:
        rows = db.exec(
            select(CaseEventRow.case_id, CaseEventRow.detail, Case.description)
            .join(Case, Case.case_id == CaseEventRow.case_id)
            .where(CaseEventRow.type.in_(["routed", "rerouted"]), CaseEventRow.actor != "system")
            .order_by(CaseEventRow.case_id, CaseEventRow.seq)
        ).all()
    last: dict[str, tuple[str, str | None, str]] = {}
    for case_id, detail, text in rows:  # the latest person's routing of each case counts
        if taxonomy.category(detail.get("category")):
            last[case_id] = (detail["category"], detail.get("township"), text)
    for case_id, (category, township, text) in last.items():
        examples.append(Example(id=f"case-{case_id}", text=text, category=category, township=township, source="staff"))
    return len(last)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from domain.triage.data import read_jsonl, shipped_examples
    from domain.triage.evaluation import evaluate, report

    settings, taxonomy = _context()
    data = [e for path in args.data for e in read_jsonl(path, taxonomy)]
    threshold = settings.triage_threshold if args.threshold is None else args.threshold
    ev = evaluate(taxonomy, data, shipped_examples(taxonomy), threshold, folds=args.folds)
    if args.json:
        from dataclasses import asdict

        print(json.dumps(asdict(ev), ensure_ascii=False, indent=2))
    else:
        print("evaluated on " + ", ".join(str(p) for p in args.data))
        print(report(ev, taxonomy))
        if args.errors:
            print("placed wrong by the shipped resolver:")
            for err in ev.township_errors:
                auto = "AUTO " if err["auto"] else ""
                print(f"  {auto}{err['id']}: label {err['either'] or err['label']} got {err['got']} — {err['reason']}")
    return 0
