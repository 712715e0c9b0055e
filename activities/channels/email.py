"""E-mail through SMTP (WUHUAN_SMTP_*): STARTTLS before logging in (unless turned off for a relay on the same
host), a plain-text body with an HTML alternative, and a Chinese subject encoded as RFC 2047 by the standard
library's `EmailMessage` (policy `SMTP`). The message's id and an `X-Wuhuan-Delivery` header are derived from
the delivery, so a retried e-mail is recognisably the same one. smtplib blocks: each attempt runs in a thread."""

from __future__ import annotations

import asyncio
import hashlib
import html as html_lib
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import parseaddr

from activities.channels import Outgoing
from activities.channels.webhook import DELIVERY_HEADER, short

SIGN_OFF = "此邮件由五环智控系统自动发送，请登录系统查看详情，勿直接回复。"


def html_of(text: str, subject: str) -> str:
    """A plain HTML rendering of a text message: escaped, one paragraph per line."""
    paras = "".join(f"<p>{html_lib.escape(line)}</p>" for line in text.splitlines() if line.strip())
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html_lib.escape(subject)}</title></head>"
        f'<body style="font-family:sans-serif;line-height:1.6">{paras}'
        f'<p style="color:#666;font-size:12px">{html_lib.escape(SIGN_OFF)}</p></body></html>'
    )


def subject_of(message: Outgoing) -> str:
    if message.subject:
        return message.subject
    first = message.text.strip().splitlines()[0] if message.text.strip() else "新消息"
    return f"五环智控：{first[:40]}"


def compose(message: Outgoing, sender: str) -> EmailMessage:
    subject = subject_of(message)
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = message.address or ""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "wuhuan.invalid"
    msg["Message-ID"] = f"<{hashlib.sha256(message.delivery_id.encode()).hexdigest()[:32]}@{domain}>"
    msg[DELIVERY_HEADER] = message.delivery_id
    msg.set_content(f"{message.text}\n\n{SIGN_OFF}\n", charset="utf-8")
    msg.add_alternative(message.html or html_of(message.text, subject), subtype="html", charset="utf-8")
    return msg


class SmtpEmail:
    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout: float = 10.0,
    ):
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout

    @classmethod
    def from_settings(cls, settings) -> SmtpEmail:
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            user=settings.smtp_user,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )

    def _send(self, msg: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user is not None:
                smtp.login(self.user, self.password or "")
            smtp.send_message(msg)

    async def send(self, message: Outgoing) -> str | None:
        if not message.address:
            return "no e-mail address"
        msg = compose(message, self.sender)
        try:
            await asyncio.to_thread(self._send, msg)
        except TimeoutError:
            return "timeout"
        except smtplib.SMTPResponseException as e:
            return short(f"SMTP {e.smtp_code}")
        except smtplib.SMTPRecipientsRefused:
            return "SMTP recipient refused"
        except (smtplib.SMTPException, OSError) as e:
            return short(type(e).__name__)
        return None

    async def aclose(self) -> None:
        return None
