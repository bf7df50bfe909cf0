"""How a running node logs (``logging:`` in node.yaml): text or JSON lines, each with an RFC 3339 UTC timestamp.

Every line says its level and logger, and, when logged during a gRPC call,
the call's request id and the id of the event the call made (and the trace
id when tracing), so an operator can go from a line to the log entry and the
trace. The access line per call (``share_gateway.access``) carries method,
status, duration and requester as fields of their own in JSON.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from share_gateway import tracing
from share_gateway.cli.console import visible
from share_gateway.config_operations import LoggingSettings
from share_gateway.gateway.telemetry import current_call


def rfc3339(created: float) -> str:
    """``2026-12-01T19:06:51.123Z``: UTC, milliseconds."""
    seconds = int(created)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int((created - seconds) * 1000):03d}Z"


class CallIds(logging.Filter):
    """Adds the ids of the call a line is logged in (``request_id``, ``event_id``, ``trace_id``), where known."""

    def filter(self, record: logging.LogRecord) -> bool:
        note = current_call.get()
        if note is not None:
            record.request_id = note.request_id
            if note.event_id is not None:
                record.event_id = note.event_id
        trace_id = tracing.current_trace_id()
        if trace_id is not None:
            record.trace_id = trace_id
        return True


class JsonLines(JsonFormatter):
    """One JSON object per line: timestamp, level, logger, message, the call's ids and any fields logged."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "timestamp", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return rfc3339(record.created)


class TextLines(logging.Formatter):
    """``timestamp LEVEL logger [request event] message``, the message made inert (a peer's text in a warning
    cannot forge a line or send escapes to a terminal)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ids)s %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return rfc3339(record.created)

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = visible(record.message)
        ids: list[str] = [getattr(record, name) for name in ("request_id", "event_id") if hasattr(record, name)]
        record.ids = f" [{' '.join(ids)}]" if ids else ""
        return super().formatMessage(record)


def configure_logging(settings: LoggingSettings, verbose: bool = False) -> None:
    """Log to stderr as ``settings`` say (``verbose``: at least INFO), replacing the command's own set-up."""
    handler = logging.StreamHandler(sys.stderr)
    formatter: logging.Formatter = JsonLines() if settings.format == "json" else TextLines()
    handler.setFormatter(formatter)
    handler.addFilter(CallIds())
    level: Any = logging.getLevelName(settings.level)
    if verbose:
        level = min(level, logging.INFO)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
