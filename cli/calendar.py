"""`wuhuan calendar load FILE | show YEAR`: the State Council's holiday schedule of a year, which the county loads
itself each December once the notice is published (docs/operations.md, "Calendar"; an example file is
docs/calendar-2027.example.yaml). A loaded year overrides the `chinesecalendar` package's for that year.

`load` checks the whole file first and writes nothing unless it passes (exit 1 with the reason otherwise);
loading a year again replaces it. `show` prints a year's days off and make-up working days with their source,
and exits 1 for a year without a schedule (working days then count Monday–Friday), so a December check can
be `wuhuan calendar show 2027 || echo "load the 2027 schedule"`."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path

WEEKDAY_ZH = "一二三四五六日"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calendar", help="the working-day calendar: load or show a year's holiday schedule")
    csub = p.add_subparsers(dest="calendar_command", metavar="ACTION")
    csub.required = True
    load = csub.add_parser(
        "load",
        help="load a year's holiday schedule from a YAML file (replaces an earlier load of that year)",
        description="Checks FILE (year, source, holidays [{name, from, to}], workdays) and stores it in the "
        "database at WUHUAN_DATABASE_URL; a file that does not pass is refused whole.",
    )
    load.add_argument("file", type=Path, help="the schedule, e.g. docs/calendar-2027.example.yaml as a model")
    load.add_argument("--by", default=None, help="who loads it (default: the operating-system user)")
    load.set_defaults(func=cmd_load)
    show = csub.add_parser("show", help="print a year's schedule and where it comes from")
    show.add_argument("year", type=int)
    show.set_defaults(func=cmd_show)


def _engine():
    from domain.settings import get_settings
    from store.db import make_engine
    from store.migrate import require_current

    engine = make_engine(get_settings().database)
    require_current(engine)
    return engine


def _day(d) -> str:
    return f"{d.isoformat()}（周{WEEKDAY_ZH[d.weekday()]}）"


def cmd_load(args: argparse.Namespace) -> int:
    from domain.calendar import CalendarError
    from services.calendar import load_file

    by = args.by or getpass.getuser()
    try:
        loaded = load_file(_engine(), args.file, by, datetime.now(UTC))
    except CalendarError as e:
        print(f"calendar load: refused, nothing written: {e}", file=sys.stderr)
        return 1
    s = loaded.schedule
    verb = "replaced" if loaded.replaced else "loaded"
    print(
        f"calendar load: {verb} {s.year} ({len(s.holidays)} days off, {len(s.workdays)} make-up working days) "
        f"from {args.file} by {by}: {s.source}"
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from services.calendar import year_info
    from store.db import session

    engine = _engine()
    with session(engine) as db:
        info = year_info(db, args.year)
    if info.schedule is None:
        print(
            f"{args.year}年：没有节假日安排（未导入，软件包也不含此年）；"
            "工作日计时按周一至周五估算，并标为 calendar_known=false"
        )
        print("导入：wuhuan calendar load FILE（格式见 docs/calendar-2027.example.yaml）")
        return 1
    s = info.schedule
    print(f"{s.year}年节假日安排")
    print(f"来源：{s.source}")
    if info.loaded_at is not None:
        print(f"导入：{info.loaded_by}，{info.loaded_at:%Y-%m-%d %H:%M} UTC")
    else:
        print("导入：随 chinesecalendar 软件包提供")
    print("放假：")
    for name, first, last in s.ranges():
        n = (last - first).days + 1
        span = _day(first) if first == last else f"{_day(first)} 至 {_day(last)}"
        print(f"  {name or '（未命名）'}：{span}，共{n}天")
    print("调休上班：")
    for d in sorted(s.workdays):
        name = s.names.get(d, "")
        print(f"  {_day(d)}{'（' + name + '）' if name else ''}")
    if not s.workdays:
        print("  无")
    return 0
