"""`wuhuan privacy export CASE_NO | anonymise [--older-than P3Y] | prune-logs`: retention of citizens' data and of
the access log (services/retention.py; docs/security.md, "Retention"). Run `prune-logs` and `anonymise` daily from
cron; both are idempotent."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("privacy", help="citizens' data on request, anonymisation, and pruning the access log")
    psub = p.add_subparsers(dest="privacy_command", metavar="ACTION")
    psub.required = True
    export = psub.add_parser("export", help="write what the system holds about one case's citizen (JSON)")
    export.add_argument("case_no")
    export.add_argument("--out", type=Path, default=None, help="file to write (default: standard output)")
    export.add_argument("--by", default=None, help="who exports it (default: the operating-system user)")
    export.set_defaults(func=cmd_export)
    anon = psub.add_parser("anonymise", help="remove the citizen from ended cases older than the retention period")
    anon.add_argument("--older-than", default=None, help="ISO duration (default: WUHUAN_CASE_RETENTION, P3Y)")
    anon.set_defaults(func=cmd_anonymise)
    prune = psub.add_parser("prune-logs", help="delete access-log rows older than WUHUAN_LOG_RETENTION (>= P180D)")
    prune.set_defaults(func=cmd_prune)


def _engine():
    from domain.settings import get_settings
    from store.db import make_engine
    from store.migrate import require_current

    engine = make_engine(get_settings().database)
    require_current(engine)
    return engine


def cmd_export(args: argparse.Namespace) -> int:
    from services.retention import export_case

    try:
        data = export_case(_engine(), args.case_no, args.by or getpass.getuser(), datetime.now(UTC))
    except LookupError as e:
        print(f"wuhuan privacy export: {e}", file=sys.stderr)
        return 1
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        args.out.chmod(0o600)
    else:
        print(text)
    return 0


def cmd_anonymise(args: argparse.Namespace) -> int:
    from domain.settings import get_settings, parse_duration
    from services.retention import anonymise

    settings = get_settings()
    older_than = parse_duration(args.older_than or settings.case_retention)
    done = anonymise(_engine(), older_than, datetime.now(UTC), Path(settings.data_dir) / "materials")
    print(
        f"anonymised {len(done.cases)} case(s), {done.redacted_events} event(s) redacted, "
        f"{done.files_removed} file(s) removed"
    )
    for no in done.cases:
        print(f"  {no}")
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    from domain.settings import get_settings
    from services.retention import log_retention, prune_logs

    kept = log_retention(get_settings())
    n = prune_logs(_engine(), datetime.now(UTC), kept)
    print(f"deleted {n} access-log row(s) older than {kept.days} days")
    return 0
