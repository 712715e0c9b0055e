"""A real local SMTP server (aiosmtpd) standing in for the county's mail server: it keeps every message it
accepts, parsed, and can refuse the next ones with a status. Used by the e-mail channel's tests and the fault
suite."""

from __future__ import annotations

import email
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller


@dataclass
class Mailbox:
    """`refuse`: SMTP replies for the next DATA commands, in order (e.g. "451 4.3.0 try later")."""

    refuse: list[str] = field(default_factory=list)
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        box = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                with box._lock:
                    if box.refuse:
                        return box.refuse.pop(0)
                    box.messages.append(email.message_from_bytes(envelope.content, policy=default))
                    box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                return "250 Message accepted for delivery"

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def received(self) -> list[EmailMessage]:
        with self._lock:
            return list(self.messages)

    def close(self) -> None:
        self._controller.stop()
