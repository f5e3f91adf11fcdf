"""Structured JSON logs, one object per line, each carrying the request id (never tokens or ID numbers)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from services.common.requestid import RequestIdFilter


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the record (captured in tests)."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(service: str, level: int = logging.INFO) -> None:
    # The formatter writes none of a record's thread, process or calling frame: the logging module
    # is told not to look them up for every record (its documented optimisation switches). The
    # gateway writes an access line per request, and finding the caller walked the stack each time.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger("jiuzhu")
    root.handlers = [handler]
    root.setLevel(level)
    root.propagate = False
