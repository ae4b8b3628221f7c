"""What a process writes with `DISTGATE_LOG_FORMAT=json`, captured as it is logged."""

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app.logs import JsonFormatter


class JsonLog:
    """The JSON lines written since the capture began."""

    def __init__(self) -> None:
        self.written = io.StringIO()

    def lines(self) -> list[dict[str, Any]]:
        """Each line, parsed (a line that is not one JSON object fails the test here)."""
        return [json.loads(line) for line in self.written.getvalue().splitlines()]


@contextmanager
def json_log(process_name: str) -> Iterator[JsonLog]:
    """Capture the root logger's records as the process `process_name` formats them."""
    log = JsonLog()
    handler = logging.StreamHandler(log.written)
    handler.setFormatter(JsonFormatter(process_name))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield log
    finally:
        root.removeHandler(handler)
