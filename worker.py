"""The worker process: registers the case workflow and its activities on the task queue.

Run any number of these (`wuhuan worker`); each creates the search attributes it needs, and refuses to start on a
database whose schema is not at the head revision (`wuhuan db upgrade` brings it there)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import sys
import tempfile
from pathlib import Path

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.assignment import Assignment
from activities.calendar import CalendarClock
from activities.delivery import relay_running
from activities.digest import DigestSender
from activities.hazards import HazardRecorder
from activities.inspection_plan import InspectionPlanner
from activities.notifications import Notifier, external_channels
from activities.records import CaseRecorder
from activities.triage import Triage
from domain.settings import Settings, get_settings, parse_duration
from domain.taxonomy import Taxonomy, get_taxonomy
from domain.triage import place_roles
from domain.triage.service import model_holder
from services.digest import ensure_digest_schedule
from services.inspection_plan import ensure_inspection_schedule, plan_current_week_if_empty
from store.db import engine_for
from store.migrate import require_current
from store.outbox import queue_email
from workflows.codec import EncryptionCodec
from workflows.daily_digest import DailyDigest
from workflows.dispute_case import DisputeCase
from workflows.hazard_rectification import HazardRectification
from workflows.inspection_plan import WeeklyInspectionPlan
from workflows.temporal_client import connect, ensure_search_attributes, worker_interceptors

log = logging.getLogger("wuhuan.worker")
WORKFLOWS = [DisputeCase, HazardRectification, WeeklyInspectionPlan, DailyDigest]


def enable_bytecode_cache() -> None:
    """The workflow sandbox re-imports workflow modules for every run; without .pyc files (these machines
    set PYTHONDONTWRITEBYTECODE) it recompiles them each time, doubling the worker's CPU per case."""
    if sys.dont_write_bytecode:
        sys.dont_write_bytecode = False
        if sys.pycache_prefix is None:
            sys.pycache_prefix = str(Path(tempfile.gettempdir()) / "wuhuan-pycache")


def activities_for(engine: Engine, taxonomy: Taxonomy, settings: Settings | None = None) -> list:
    settings = settings or get_settings()
    notifier = Notifier(engine, taxonomy, external_channels(settings))
    recorder = CaseRecorder(engine, notifier=notifier)
    triage = Triage(
        engine,
        taxonomy,
        model_holder(settings.models, taxonomy),
        settings.triage_threshold,
        parse_duration(settings.repeat_window),
    )
    assignment = Assignment(engine, taxonomy)
    hazards = HazardRecorder(engine, taxonomy, notifier, parse_duration(settings.hazard_summons_within))
    planner = InspectionPlanner(engine, taxonomy, settings, notifier)
    digests = DigestSender(engine, taxonomy, queue_digest if settings.smtp_host else skip_digest)
    calendar = CalendarClock(engine)
    return [
        recorder.record_case_events,
        notifier.send_notifications,
        triage.route_case,
        assignment.choose_handler,
        assignment.match_team,
        assignment.find_team_member,
        assignment.start_task_force,
        assignment.form_task_force,
        calendar.compute_due,
        calendar.shift_for_pause,
        hazards.record_hazard_events,
        planner.plan_inspection_week,
        digests.send_daily_digests,
    ]


def build_worker(
    client: Client,
    settings: Settings,
    engine: Engine,
    taxonomy: Taxonomy,
    executor: concurrent.futures.Executor,
    task_queue: str | None = None,
) -> Worker:
    """The one way to make a worker: `wuhuan worker`, the tests, the replay recordings and the benchmarks
    all use it, so that what they exercise is the cache setting and data converter of production."""
    # A worker takes its data converter from its client; one without the payload codec would write (and the
    # recordings would keep) citizens' data in clear, and would not run the codec that production runs.
    if not isinstance(client.data_converter.payload_codec, EncryptionCodec):
        raise ValueError("build_worker needs a client made with workflows.temporal_client.data_converter")
    return Worker(
        client,
        task_queue=task_queue or settings.temporal_task_queue,
        workflows=WORKFLOWS,
        activities=activities_for(engine, taxonomy, settings),
        activity_executor=executor,
        max_concurrent_activities=32,
        max_cached_workflows=settings.worker_cached_workflows,
        # Updates and starts must carry the signature of the project's client (workflows/signatures.py).
        interceptors=worker_interceptors(settings),
    )


def queue_digest(db, username: str, key: str, subject: str, text: str, html: str) -> bool:
    return queue_email(db, username, subject, text, html, key=key, kind="digest")


def skip_digest(db, username: str, key: str, subject: str, text: str, html: str) -> bool:
    """No e-mail channel configured: a digest has nowhere to go (the board and the inbox still show it all)."""
    return False


async def start_inspection_planning(client: Client, settings: Settings, engine: Engine) -> None:
    """The weekly plan's Schedule, and this week's plan if it has none yet (a fresh demo has visits on day one).
    Neither is the worker's own job, so a failure is logged and the worker polls all the same."""
    try:
        await ensure_inspection_schedule(client, settings)
        await plan_current_week_if_empty(client, settings, engine)
    except Exception:
        log.exception("could not set up the weekly inspection plan")
    try:
        await ensure_digest_schedule(client, settings)
    except Exception:
        log.exception("could not set up the daily digest")


async def run_worker(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    enable_bytecode_cache()
    engine = engine_for(settings.database)
    require_current(engine)  # SchemaNotCurrent: changing the schema is `wuhuan db upgrade`'s job, never a worker's
    client = await connect(settings)
    await ensure_search_attributes(client, settings.temporal_namespace)
    await start_inspection_planning(client, settings, engine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as executor:
        taxonomy = get_taxonomy()
        model_holder(settings.models, taxonomy).get()  # load (or first build) the triage model before polling
        place_roles.shipped_model(taxonomy)  # and train the place-role model (about a second)
        worker = build_worker(client, settings, engine, taxonomy, executor)
        log.info("worker polling %s on %s", settings.temporal_task_queue, settings.temporal_target)
        async with relay_running(engine, settings):  # the webhook outbox's relay, when one is configured
            await worker.run()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(run_worker())
