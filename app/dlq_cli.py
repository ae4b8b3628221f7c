"""`distgate dlq list|show|replay`: dead letters straight from Kafka and RabbitMQ, no worker needed.

What a letter holds came from outside: the table and `show` print it through `printable`,
so a newline or an escape sequence in it cannot forge a line or drive the terminal.
"""

import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

import msgspec

from app.dlq import DeadLetterAdmin
from app.errors import ConfigurationError
from app.read.deadletter_index import DeadLetterMirror
from app.settings import Settings
from protocols.deadletters import DeadLetterView
from protocols.printable import printable

LOAD_TIMEOUT = 120.0
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True)
class Listing:
    """What `dlq list` shows: at most `limit`, of one source and reason if given."""

    limit: int = 100
    source: str | None = None
    reason: str | None = None


def run_dlq(
    settings: Settings, action: str, listing: Listing, letter_id: str | None, as_json: bool
) -> int:
    """List the newest dead letters, show one whole, or replay one; 0 on success."""
    return asyncio.run(_run(settings, action, listing, letter_id, as_json))


async def _run(
    settings: Settings, action: str, listing: Listing, letter_id: str | None, as_json: bool
) -> int:
    name = settings.topics.dead_letters.name
    mirror = DeadLetterMirror(settings.kafka, name, settings.partitions)
    await mirror.start()
    try:
        try:
            await asyncio.wait_for(mirror.wait_caught_up(), LOAD_TIMEOUT)
        except TimeoutError as exc:
            raise ConfigurationError(f"could not read {name} within {LOAD_TIMEOUT:.0f}s") from exc
        admin = DeadLetterAdmin(settings, mirror)
        if action == "list":
            letters = admin.newest(listing.limit, listing.source, listing.reason)
            _print(letters, as_json, sys.stdout)
            return 0
        assert letter_id is not None
        if action == "show":
            _show(await admin.whole(letter_id), as_json, sys.stdout)
            return 0
        accepted = await admin.replay(letter_id)
        print(f"replayed {accepted.id} ({accepted.source}) to {printable(accepted.target)}")
        return 0
    finally:
        await mirror.stop()


def _print(views: Sequence[DeadLetterView], as_json: bool, stream: TextIO) -> None:
    if as_json:
        for view in views:
            print(_encoder.encode(view).decode(), file=stream)
        return
    if not views:
        print("no dead letters", file=stream)
        return
    for view in views:
        error = printable(" ".join(view.error.split())[:80])
        at = view.at.isoformat(timespec="seconds")
        fields = (view.id, at, f"{view.source:<5}", printable(view.origin), printable(view.reason))
        print("  ".join((*fields, error)), file=stream)


def _show(view: DeadLetterView, as_json: bool, stream: TextIO) -> None:
    if as_json:
        print(_encoder.encode(view).decode(), file=stream)
        return
    for name in ("id", "source", "origin", "reason", "error", "key"):
        print(f"{name}: {printable(str(getattr(view, name)))}", file=stream)
    print(f"at: {view.at.isoformat()}", file=stream)
    for header in view.headers:
        shown = f"(base64) {header.value}" if header.base64 else printable(header.value)
        print(f"header {printable(header.name)}: {shown}", file=stream)
    encoding = "base64" if view.payload_base64 else "text"
    print(f"payload ({encoding}):", file=stream)
    print(printable(view.payload), file=stream)
