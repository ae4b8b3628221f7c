"""`distgate dlq list|replay`: dead letters straight from Kafka and RabbitMQ, no worker needed."""

import asyncio
import sys
from collections.abc import Sequence
from typing import TextIO

import msgspec

from app.dlq import DeadLetterAdmin
from app.errors import ConfigurationError
from app.read.deadletter_index import DeadLetterMirror
from app.settings import Settings
from protocols.deadletters import DeadLetterView

LOAD_TIMEOUT = 120.0
_encoder = msgspec.json.Encoder()


def run_dlq(
    settings: Settings, action: str, limit: int, letter_id: str | None, as_json: bool
) -> int:
    """List the newest dead letters, or replay one; 0 on success."""
    return asyncio.run(_run(settings, action, limit, letter_id, as_json))


async def _run(
    settings: Settings, action: str, limit: int, letter_id: str | None, as_json: bool
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
            _print(admin.newest(limit), as_json, sys.stdout)
            return 0
        assert letter_id is not None
        accepted = await admin.replay(letter_id)
        print(f"replayed {accepted.id} ({accepted.source}) to {accepted.target}")
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
        error = " ".join(view.error.split())[:80]
        at = view.at.isoformat(timespec="seconds")
        print(
            f"{view.id}  {at}  {view.source:<5}  {view.origin}  {view.reason}  {error}", file=stream
        )
