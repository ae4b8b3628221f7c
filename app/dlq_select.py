"""How `distgate dlq` picks dead letters: by source, reason and `--since`, or by their place.

A dead letter's id (`dl.id`) is stable: the same message dead-lettered again gets the
same one, so it cannot say where the record is. `dlq list` therefore also prints a
reference, `<id>@<partition>:<offset>`: `dlq show` and `dlq replay` given one read that
single record (and check its id), without reading the whole dead-letter topic first.
A bare id still works, by reading the topic.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from protocols.deadletters import DeadLetter

_REF = re.compile(r"(?P<id>[^@\s]+)@(?P<partition>\d{1,4}):(?P<offset>\d{1,19})")
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


@dataclass(frozen=True)
class Listing:
    """Which dead letters: at most `limit`, of one source and reason, since a time, if given."""

    limit: int = 100
    source: str | None = None
    reason: str | None = None
    since: dt.datetime | None = None

    def selects(self, letter: DeadLetter) -> bool:
        """Whether `letter` is of the source and reason asked for, dead-lettered since then."""
        return (
            (self.source is None or letter.source == self.source)
            and (self.reason is None or letter.reason == self.reason)
            and (self.since is None or letter.at >= self.since)
        )


@dataclass(frozen=True)
class Request:
    """One `distgate dlq` command: list, show or replay; one letter (`letter`) or `every` one."""

    action: str
    listing: Listing = field(default_factory=Listing)
    letter: str | None = None  # a reference `<id>@<partition>:<offset>`, or a bare id
    every: bool = False  # `replay --all`: each letter of `listing`, oldest first
    as_json: bool = False


class LetterRef(NamedTuple):
    """Where one dead letter's record is, and the id it must carry."""

    letter_id: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.letter_id}@{self.partition}:{self.offset}"


def parse_ref(text: str) -> LetterRef | None:
    """The reference `text` spells, or None when it is a bare id."""
    match = _REF.fullmatch(text)
    if match is None:
        return None
    return LetterRef(match["id"], int(match["partition"]), int(match["offset"]))


def parse_since(text: str, now: dt.datetime) -> dt.datetime:
    """`--since`: an ISO 8601 time (UTC unless it says otherwise) or a duration back from `now`.

    Durations are days, hours, minutes and seconds: `90s`, `15m`, `2h`, `1d12h`.
    """
    match = _DURATION.fullmatch(text.strip())
    if text.strip() and match is not None:
        days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
        back = dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        return now - back
    try:
        since = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since {text!r} is neither an ISO 8601 time (2026-03-02T09:30:00Z) "
            "nor a duration (90s, 15m, 2h, 1d12h)"
        ) from None
    return since if since.tzinfo is not None else since.replace(tzinfo=dt.UTC)
