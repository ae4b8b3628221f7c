"""Exact dedupe: every upstream event id an entity applied is a row, kept for a set period.

A Kafka redelivery is caught by the offset in the entity's value; a re-send at a new
offset (a WMS re-publishing after a crash, a dead letter replayed, ERP sending an event
again) by these rows, at any distance. Each row holds the day it was written; rows older
than the dedupe period are swept away (`is_expired`).
"""

import datetime as dt

from tables.batch import Rows
from tables.keys import seen_key

_EPOCH = dt.date(1970, 1, 1)


def day_number(now: dt.datetime) -> int:
    """Days since 1970-01-01 (UTC): what a seen row stores."""
    return (now.astimezone(dt.UTC).date() - _EPOCH).days


def is_expired(row: bytes, today: int, keep_days: int) -> bool:
    """Whether a seen row written on the day in `row` is past the dedupe period."""
    try:
        return int(row) < today - keep_days
    except ValueError:
        return True  # not a day: nothing this code wrote, so nothing worth keeping


class SeenIds:
    """The event ids one entity applied: read from its rows, new ones written with today."""

    def __init__(self, rows: Rows, entity: str, today: int) -> None:
        self._rows = rows
        self._entity = entity
        self._today = today
        self._new: dict[str, None] = {}  # ordered, and a set

    def __contains__(self, event_id: str) -> bool:
        return event_id in self._new or self._rows.get(seen_key(self._entity, event_id)) is not None

    def add(self, event_id: str) -> None:
        """Remember that the entity applied `event_id` (written by `write`)."""
        self._new[event_id] = None

    def write(self) -> None:
        """One row per id applied in this batch."""
        stamp = str(self._today).encode()
        for event_id in self._new:
            self._rows.put(seen_key(self._entity, event_id), stamp)
        self._new.clear()
