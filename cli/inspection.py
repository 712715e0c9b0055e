"""`wuhuan inspection plan [--week YYYY-MM-DD]`: plan a week's unannounced inspection visits now, as the weekly
Schedule would (one workflow per week, so planning a week twice plans it once), and print the plan's size."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspection", help="the safety inspection's weekly plan (平安督查)")
    isub = p.add_subparsers(dest="inspection_command", metavar="ACTION")
    isub.required = True
    plan = isub.add_parser(
        "plan",
        help="plan a week's visits now (default: this week); a week planned before is left as it is",
        description="Starts WeeklyInspectionPlan for the week (workflow id inspection-plan-<Monday>) on "
        "WUHUAN_TEMPORAL_ADDRESS and waits for a worker to write the visits and tell the teams.",
    )
    plan.add_argument("--week", type=date.fromisoformat, help="any day of the week to plan (YYYY-MM-DD)")
    plan.set_defaults(func=cmd_plan, hard_exit=True)


def cmd_plan(args: argparse.Namespace) -> int:
    from domain.settings import get_settings
    from services.inspection_plan import plan_week_now
    from workflows.temporal_client import connect

    async def _main():
        settings = get_settings()
        client = await connect(settings)
        return await plan_week_now(client, settings, args.week)

    result = asyncio.run(_main())
    # A week this command planned before answers with that run's result: `new` is what that run wrote.
    print(
        f"week of {result.week}: {result.visits} visits planned "
        f"({result.new} written by workflow inspection-plan-{result.week})"
    )
    return 0
