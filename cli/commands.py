"""The basic commands: dev, worker, api, seed-demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dev",
        help="run the embedded stack (Temporal dev server, worker, API) under a supervisor",
        description="What `make run` runs: brings the database schema up to date, starts the "
        "Temporal dev server (unless WUHUAN_TEMPORAL_ADDRESS is set), seeds the demo "
        "county, starts one worker and the API, prints the URLs and demo accounts, "
        "restarts a child that dies, and stops everything on Ctrl-C.",
    )
    p.add_argument("--quiet", action="store_true", help="do not echo the children's logs to the console")
    p.set_defaults(func=cmd_dev, hard_exit=True)

    p = sub.add_parser("worker", help="run one worker (workflows + activities) against WUHUAN_TEMPORAL_ADDRESS")
    p.set_defaults(func=cmd_worker, hard_exit=True)

    p = sub.add_parser("api", help="run one API server on WUHUAN_API_HOST:WUHUAN_API_PORT")
    p.set_defaults(func=cmd_api)

    p = sub.add_parser(
        "seed-demo",
        help="load the demo county and its demo accounts into the database (upgrades its schema first; idempotent)",
    )
    p.set_defaults(func=cmd_seed_demo)


def cmd_dev(args: argparse.Namespace) -> int:
    from cli.dev import run_dev

    return run_dev(echo=not args.quiet)


def cmd_worker(args: argparse.Namespace) -> int:
    from domain.logs import configure_logging
    from worker import run_worker

    configure_logging(logging.INFO)

    async def _main() -> None:
        task = asyncio.ensure_future(run_worker())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            # Cancelling Worker.run() shuts the worker down gracefully (no new tasks, running ones finish
            # or are cancelled); Temporal hands any unfinished task to another worker.
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            logging.getLogger("wuhuan.worker").info("worker stopped")

    from store.migrate import SchemaNotCurrent

    try:
        asyncio.run(_main())
    except SchemaNotCurrent as err:  # the operator's to fix, not a crash: no traceback
        logging.getLogger("wuhuan.worker").error("worker not started: %s", err)
        return 1
    except Exception:  # e.g. Temporal unreachable: say so; a supervisor (wuhuan dev, compose) restarts us
        logging.getLogger("wuhuan.worker").exception("worker failed")
        return 1
    return 0


def server_options(settings) -> dict:
    """How `wuhuan api` runs uvicorn. Its own forwarded-header handling is off: it would believe X-Forwarded-For
    from 127.0.0.1 by default (FORWARDED_ALLOW_IPS), letting any local client choose its address. The app decides
    instead, from WUHUAN_TRUSTED_PROXIES only (api/middleware.py: ClientAddress)."""
    return {
        "host": settings.api_host,
        "port": settings.api_port,
        "proxy_headers": False,
        "forwarded_allow_ips": "",
        "server_header": False,
    }


def cmd_api(args: argparse.Namespace) -> int:
    from domain.settings import get_settings

    settings = get_settings()
    import uvicorn

    uvicorn.run("api.main:create_app", factory=True, **server_options(settings))
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from domain.settings import get_settings

    settings = get_settings()
    created, total = seed(settings)
    print(f"seed-demo: {created} demo accounts created ({total} in the demo county) in {settings.database}")
    return 0


def seed(settings) -> tuple[int, int]:
    """Bring the schema to head and seed the demo county; returns (accounts created, demo accounts in total)."""
    from domain.taxonomy import get_taxonomy
    from store.db import engine_for
    from store.migrate import upgrade
    from store.seed import demo_accounts, seed_demo

    taxonomy = get_taxonomy()
    engine = engine_for(settings.database)
    upgrade(engine)  # seeding needs the tables; a no-op when `wuhuan db upgrade` or `wuhuan dev` already ran
    created = seed_demo(
        engine,
        taxonomy,
        settings.demo_password,
        time_cost=settings.password_hash_time_cost,
        memory_kib=settings.password_hash_memory_kib,
    )
    return created, len(demo_accounts(taxonomy))
