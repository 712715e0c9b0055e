"""Keep personal data and credentials out of the logs: phone and ID numbers are masked in every record a
process logs (access log lines included), and tracking codes and credentials in URLs (a webhook's
`access_token` and `sign` query parameters, which httpx logs with every request) are hidden. The API and the
worker both install it."""

from __future__ import annotations

import logging
import re

from domain.privacy import mask_text

_TRACK_IN_PATH = re.compile(r"(/track/)[A-Za-z0-9_\-]+")
_SECRET_PARAM = re.compile(r"([?&](?:access_token|sign)=)[^&\s\"'#]+", re.IGNORECASE)


def scrub(text: str) -> str:
    return _SECRET_PARAM.sub(r"\1***", _TRACK_IN_PATH.sub(r"\1***", mask_text(text)))


def _scrub_arg(arg: object) -> object:
    if arg is None or isinstance(arg, (bool, int, float)):
        return arg
    text = arg if isinstance(arg, str) else str(arg)  # e.g. an httpx URL object
    clean = scrub(text)
    return clean if clean != text or isinstance(arg, str) else arg


def scrub_record(record: logging.LogRecord) -> None:
    if isinstance(record.msg, str):
        record.msg = scrub(record.msg)
    # Arguments keep their shape (uvicorn's access formatter unpacks the tuple).
    if isinstance(record.args, tuple):
        record.args = tuple(_scrub_arg(a) for a in record.args)
    elif isinstance(record.args, dict):
        record.args = {k: _scrub_arg(v) for k, v in record.args.items()}


class MaskingFilter(logging.Filter):
    """For handlers configured elsewhere (e.g. a logging config file)."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record)
        return True


def install() -> None:
    """Scrub every log record of the process when it is created, whichever logger or handler it goes to
    (uvicorn's access log included). Idempotent."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_wuhuan_masking", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = current(*args, **kwargs)
        scrub_record(record)
        return record

    factory._wuhuan_masking = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def configure_logging(level: int | str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install()
