"""One labour case from 白塔镇 through the HTTP API of separate `wuhuan api` and `wuhuan worker` processes on
the real dev server, with colour clocks compressed to seconds, every bad input tried on the way
(scripts/walkthrough.py, the same script an operator runs against `make run`)."""

from __future__ import annotations

import asyncio
import os
import uuid

import httpx

from scripts.walkthrough import walkthrough
from testkit.processes import WuhuanProcess, free_port, wait_for


async def test_labour_case_end_to_end_over_http(dev_server, tmp_path):
    client = dev_server.client
    port = free_port()
    env = dict(
        os.environ,
        WUHUAN_TEMPORAL_ADDRESS=client.service_client.config.target_host,
        WUHUAN_TEMPORAL_NAMESPACE=client.namespace,
        WUHUAN_DATA_DIR=str(tmp_path / "data"),
        WUHUAN_DATABASE_URL=f"sqlite:///{tmp_path / 'read.db'}",
        WUHUAN_TEMPORAL_TASK_QUEUE=f"http-{uuid.uuid4().hex[:8]}",
        WUHUAN_API_PORT=str(port),
        WUHUAN_SLA_YELLOW_AFTER="PT8S",
        WUHUAN_SLA_RED_AFTER="PT16S",
    )
    seed = await asyncio.create_subprocess_exec(
        str(WuhuanProcess.executable()), "seed-demo", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    assert await seed.wait() == 0
    worker = WuhuanProcess("worker", env, tmp_path / "worker.log")
    api = WuhuanProcess("api", env, tmp_path / "api.log")
    base = f"http://127.0.0.1:{port}"
    try:
        worker.start()
        api.start()

        async def healthy():
            async with httpx.AsyncClient() as http:
                return (await http.get(f"{base}/healthz", timeout=2)).status_code == 200

        await wait_for(healthy, f"the API to be healthy\n{api.output()}", 30)
        report = await asyncio.to_thread(walkthrough, base, "wuhuan-demo", 40.0)
    finally:
        api.stop()
        worker.stop()
    t = report.timings
    assert t["assigned"] - t["intake"] < 5 * 60  # the service level; the benchmark measures the real figure
    assert "closed" in t
    log_text = (tmp_path / "api.log").read_text() + (tmp_path / "worker.log").read_text()
    assert "13800001234" not in log_text, "a citizen's phone reached a log in clear"
