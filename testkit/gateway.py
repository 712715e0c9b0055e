"""A real local HTTP server standing in for a DingTalk robot / the county's message gateway / the SMS gateway:
it records every POST and answers as told (refuse with a status, refuse with a DingTalk errcode, stall past the
caller's timeout, or accept). The tests' `gateway` fixture (tests/conftest.py) and the fault suite's webhook and
SMS outages (testkit/fault_suite.py) use it."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ACCEPT = "accept"


@dataclass(frozen=True)
class Stall:
    """Answer only after `seconds` (then accept, too late for a caller that timed out): a gateway that hangs."""

    seconds: float


@dataclass
class Received:
    path: str
    query: dict[str, str]
    delivery: str | None  # the X-Wuhuan-Delivery header
    body: dict
    answered: int | str  # the status it was answered with, or "errcode N"
    accepted: bool


@dataclass
class Gateway:
    """`script`: answers for the next requests, in order (an int status, ("errcode", N), Stall(s) or ACCEPT); when
    it runs out, `then` answers every further request. A stalled request is recorded as not accepted (its caller
    gave up)."""

    script: list = field(default_factory=list)
    then: object = ACCEPT
    received: list[Received] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with gateway._lock:
                    answer = gateway.script.pop(0) if gateway.script else gateway.then
                if isinstance(answer, Stall):
                    time.sleep(answer.seconds)
                with gateway._lock:
                    if isinstance(answer, Stall):
                        status, payload, accepted, answered = 200, {"errcode": 0}, False, "stalled"
                    elif answer == ACCEPT:
                        status, payload, accepted, answered = 200, {"errcode": 0, "errmsg": "ok"}, True, 200
                    elif isinstance(answer, tuple):
                        status, payload, accepted = 200, {"errcode": answer[1], "errmsg": "sign not match"}, False
                        answered = f"errcode {answer[1]}"
                    else:
                        status, payload, accepted, answered = int(answer), {"error": "unavailable"}, False, int(answer)
                    parts = urlsplit(self.path)
                    gateway.received.append(
                        Received(
                            path=parts.path,
                            query={k: v[0] for k, v in parse_qs(parts.query).items()},
                            delivery=self.headers.get("X-Wuhuan-Delivery"),
                            body=body,
                            answered=answered,
                            accepted=accepted,
                        )
                    )
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # a stalled caller gave up
                    pass

            def log_message(self, *args):  # keep the test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/robot/send?access_token=test-token"

    def accepted(self) -> list[str]:
        """X-Wuhuan-Delivery of every accepted POST, in order."""
        with self._lock:
            return [r.delivery for r in self.received if r.accepted]

    def posts(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def closed_port_url() -> str:
    """A URL nothing listens on: connection refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/robot/send?access_token=test-token"


def outbox(engine, case_id: str) -> list:
    """The case's rows in the webhook outbox (store.tables.NotificationDelivery)."""
    from sqlmodel import select

    from store.db import session
    from store.tables import NotificationDelivery

    with session(engine) as db:
        return list(db.exec(select(NotificationDelivery).where(NotificationDelivery.case_id == case_id)))
