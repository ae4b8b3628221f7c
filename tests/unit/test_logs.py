"""JSON log lines: one object per record, its fields, control characters escaped."""

import json
import logging
import sys

from agents.runtime import log_context
from app.logs import JsonFormatter, logging_config


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("agents.stock", logging.WARNING, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


def test_a_record_is_one_json_object_with_its_fields() -> None:
    line = JsonFormatter("agents-0").format(
        _record("refused %s", "SO-1", order_id="SO-1", sku="SKU-1", correlation_id="c-9")
    )
    entry = json.loads(line)
    assert entry["level"] == "warning"
    assert entry["logger"] == "agents.stock"
    assert entry["process"] == "agents-0"
    assert entry["message"] == "refused SO-1"
    assert (entry["order_id"], entry["sku"], entry["correlation_id"]) == ("SO-1", "SKU-1", "c-9")
    assert entry["ts"].endswith("+00:00")


def test_text_from_outside_cannot_forge_a_line() -> None:
    # Given a message carrying a newline and a terminal escape
    line = JsonFormatter("api").format(_record("reason: %s", 'late\n{"level":"info"}\x1b[2J'))
    # Then it stays one line, and the characters are escaped
    assert "\n" not in line
    assert "\x1b" not in line
    assert json.loads(line)["message"] == 'reason: late\n{"level":"info"}\x1b[2J'


def test_the_request_being_served_gives_its_correlation_id() -> None:
    token = log_context.correlation_id.set("req-42")
    try:
        entry = json.loads(JsonFormatter("api").format(_record("slow")))
    finally:
        log_context.correlation_id.reset(token)
    assert entry["correlation_id"] == "req-42"
    assert "correlation_id" not in json.loads(JsonFormatter("api").format(_record("idle")))


def test_an_exception_is_kept_in_the_same_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("failed")
        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter("bridge").format(record))
    assert "ValueError: boom" in entry["error"]


def test_access_lines_come_with_json_or_at_debug() -> None:
    def access_level(log_format: str, level: str) -> str | None:
        config = logging_config(log_format, level, "api")
        return config.get("loggers", {}).get("distgate.access", {}).get("level")

    assert access_level("text", "info") == "WARNING"
    assert access_level("text", "debug") == "INFO"
    assert access_level("json", "info") is None  # inherits the level: written
    assert logging_config("json", "info", "api")["handlers"]["default"]["formatter"] == "json"


def test_the_message_being_handled_gives_its_flow_and_what_it_names() -> None:
    # Given a relay handling ERP's decision on order SO-1 of flow erp-7
    with log_context.about(log_context.Subject("erp-7", order_id="SO-1")):
        entry = json.loads(JsonFormatter("agents-0").format(_record("retrying")))
        # a line naming a warehouse itself keeps its own
        named = json.loads(JsonFormatter("agents-0").format(_record("x", warehouse="DC-1")))
    # Then the line carries them, and no SKU or warehouse it does not know
    assert (entry["correlation_id"], entry["order_id"]) == ("erp-7", "SO-1")
    assert {"sku", "warehouse"}.isdisjoint(entry)
    assert (named["order_id"], named["warehouse"]) == ("SO-1", "DC-1")
    # And after it, lines name nothing
    after = json.loads(JsonFormatter("agents-0").format(_record("idle")))
    assert {"correlation_id", "order_id"}.isdisjoint(after)
