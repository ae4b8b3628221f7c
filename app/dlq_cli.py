"""`distgate dlq list|show|replay`: dead letters straight from Kafka and RabbitMQ, no worker needed.

A reference (`<id>@<partition>:<offset>`, as `list` prints) is read from its one record;
a bare id and a listing read the dead-letter topic into the index of the newest letters
first (`DISTGATE_DEAD_LETTER_INDEX_KIB`); `replay --all` streams the whole topic.

What a letter holds came from outside: the table and `show` print it through `printable`,
so a newline or an escape sequence in it cannot forge a line or drive the terminal.
"""

import asyncio
import sys
from collections.abc import Sequence
from typing import TextIO

import msgspec

from app.dlq import DeadLetterAdmin
from app.dlq_bulk import replay_all
from app.dlq_select import LetterRef, Request, parse_ref
from app.errors import ConfigurationError
from app.read.deadletter_index import DeadLetterMirror, IndexedLetter
from app.settings import Settings
from protocols.deadletters import DeadLetterView
from protocols.printable import printable

LOAD_TIMEOUT = 120.0
_encoder = msgspec.json.Encoder()


def run_dlq(settings: Settings, request: Request) -> int:
    """List the newest dead letters, show one whole, or replay one or many; 0 on success."""
    return asyncio.run(_run(settings, request))


async def _run(settings: Settings, request: Request) -> int:
    name = settings.topics.dead_letters.name
    mirror = DeadLetterMirror(
        settings.kafka, name, settings.partitions, settings.dead_letter_index_kib * 1024
    )
    admin = DeadLetterAdmin(settings, mirror)
    ref = parse_ref(request.letter) if request.letter is not None else None
    if ref is not None:  # the record's place is known: no need to read the topic
        return await _one(admin, request, ref)
    if request.every:  # reads the whole topic itself, not the index of the newest
        return await replay_all(admin, request.listing, sys.stdout, sys.stderr)
    await mirror.start()
    try:
        try:
            await asyncio.wait_for(mirror.wait_caught_up(), LOAD_TIMEOUT)
        except TimeoutError as exc:
            raise ConfigurationError(f"could not read {name} within {LOAD_TIMEOUT:.0f}s") from exc
        if request.action == "list":
            listing = request.listing
            letters = admin.entries(listing.limit, listing.source, listing.reason, listing.since)
            _print(letters, request.as_json, sys.stdout)
            return 0
        assert request.letter is not None
        return await _one(admin, request, admin.ref(request.letter))
    finally:
        await mirror.stop()


async def _one(admin: DeadLetterAdmin, request: Request, ref: LetterRef) -> int:
    """Show or replay the one dead letter at `ref`."""
    if request.action == "show":
        _show(await admin.whole_at(ref), request.as_json, sys.stdout)
        return 0
    accepted = await admin.replay_at(ref)
    print(f"replayed {accepted.id} ({accepted.source}) to {printable(accepted.target)}")
    return 0


def _print(letters: Sequence[IndexedLetter], as_json: bool, stream: TextIO) -> None:
    if as_json:
        for entry in letters:
            shown = msgspec.structs.asdict(entry.view())
            place = str(LetterRef(entry.letter.id, entry.partition, entry.offset))
            print(_encoder.encode({**shown, "ref": place}).decode(), file=stream)
        return
    if not letters:
        print("no dead letters", file=stream)
        return
    for entry in letters:
        view = entry.view()
        ref = LetterRef(view.id, entry.partition, entry.offset)
        error = printable(" ".join(view.error.split())[:80])
        at = view.at.isoformat(timespec="seconds")
        fields = (printable(str(ref)), at, view.source.ljust(5), printable(view.origin),
                  printable(view.reason))  # fmt: skip
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
