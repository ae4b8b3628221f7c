"""Log lines a machine can read: `DISTGATE_LOG_FORMAT=json` gives one JSON object per line.

Each object has `ts`, `level`, `logger`, `process` (supervisor, agents-0, bridge, api)
and `message`, plus `correlation_id` (from the record, else the request or message being
handled) and `order_id`, `sku`, `warehouse`, ... where the caller (`extra=`) or the
message being handled (`log_context.about`) names them.
JSON strings escape every control character, so text from outside cannot forge lines.
"""

import datetime as dt
import logging
from typing import Any

import orjson

from agents.runtime import log_context

LOG_FORMATS = ("text", "json")
# Attributes a caller may attach with `extra=`, copied into the object when present.
FIELDS = ("order_id", "sku", "warehouse", "event_id", "method", "path", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def __init__(self, process_name: str) -> None:
        super().__init__()
        self.process_name = process_name

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "process": self.process_name,
            "message": record.getMessage(),
        }
        correlation_id = getattr(record, "correlation_id", "") or log_context.correlation_id.get()
        if correlation_id:
            entry["correlation_id"] = correlation_id
        if (handled := log_context.subject.get()) is not None:
            entry |= handled.names()
        entry |= {key: getattr(record, key) for key in FIELDS if hasattr(record, key)}
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def logging_config(log_format: str, log_level: str, process_name: str) -> dict[str, Any]:
    """The `logging_config` of a process's mode Worker, merged into mode's own.

    Access lines (one per HTTP request) are written with JSON logs, or at the debug level.
    """
    access = {"distgate.access": {"level": "INFO" if log_level == "debug" else "WARNING"}}
    if log_format != "json":
        return {"version": 1, "merge": True, "loggers": access}
    return {
        "version": 1,
        "merge": True,  # mode's own config, with its handler writing JSON instead
        "formatters": {"json": {"()": JsonFormatter, "process_name": process_name}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stdout",
            }
        },
    }
