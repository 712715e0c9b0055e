"""The `wuhuan` command line.

    wuhuan dev         the whole embedded stack (Temporal dev server, worker, API), supervised — what `make run` runs
    wuhuan worker      one worker against WUHUAN_TEMPORAL_ADDRESS and WUHUAN_DATABASE_URL
    wuhuan api         one API server on WUHUAN_API_HOST:WUHUAN_API_PORT
    wuhuan seed-demo   load the demo county and its demo accounts (idempotent)
    wuhuan db upgrade  bring the database schema to the head revision (deployment runs it before workers and API)
    wuhuan inspection plan   plan this week's unannounced inspection visits now (the weekly Schedule does it too)
    wuhuan calendar load FILE | show YEAR   a year's holiday schedule, by which working-day clocks count

Every command reads its configuration from the environment (and `.env`), see domain/settings.py.
Each subcommand imports what it needs when it runs, so `wuhuan --help` stays fast and a command never
depends on parts of the system it does not use.

Adding a command (e.g. `audit`, `triage`): write a module in cli/ with `register(subparsers)` that adds its
parser and sets `func`, and list it in COMMAND_MODULES below.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Sequence

# Modules under cli/ that contribute subcommands, in the order `--help` lists them.
COMMAND_MODULES: list[str] = [
    "cli.commands",
    "cli.db",
    "cli.triage",
    "cli.audit",
    "cli.inspection",
    "cli.calendar",
    "cli.privacy",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wuhuan",
        description="Wuhuan (五环智控): the county dispute-mediation centre's case system.",
        epilog="Configuration comes from WUHUAN_* environment variables (or a .env file); see README.md.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Whatever this process and its children (the Temporal dev server, the API, workers) create — the read
    # model, materials, keys, logs — is for the service's own account only (docs/security.md, "Files").
    os.umask(0o077)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
    except KeyboardInterrupt:
        code = 130
    if getattr(args, "hard_exit", False):
        # Commands that used a Temporal client end here without interpreter teardown: the SDK's Rust threads
        # can outlive the event loop and abort finalisation ("PyGILState_Release: thread state must be
        # current", temporalio/sdk-python#300), turning a clean stop into SIGABRT.
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
