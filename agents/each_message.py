"""One message at a time, none lost: what a relay or publisher cannot handle is dead-lettered.

Faust acknowledges a record once the agent moves past it, even when the agent raised, so
an exception that escaped would lose the message. Here every failure of one message,
whatever its type, becomes its dead letter (original key, bytes and headers), and the
agent goes on with the next. Only a cancel (the worker stopping) passes through.
Every log line written about a message carries its correlation id and, once it is
decoded, the order, SKU or warehouse it names.
"""

import logging
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import TypeVar

import msgspec
from faust.types import EventT

from agents.deadletters import DeadLetters
from agents.runtime.correlated import incoming
from agents.runtime.log_context import Subject, about

log = logging.getLogger(__name__)

M = TypeVar("M")

Describe = Callable[[EventT[bytes], M], Subject]
"""What a decoded message is about, for its log lines; reads its fields, never fails."""

# Bytes that are not the message they claim to be; invalid UTF-8 inside a JSON string
# surfaces as UnicodeDecodeError, not as msgspec's DecodeError.
DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError)


async def handle_each(
    events: AsyncIterable[EventT[bytes]],
    decode: Callable[[bytes], M],
    handle: Callable[[EventT[bytes], M], Awaitable[None]],
    dead_letters: DeadLetters,
    describe: Describe[M],
) -> None:
    """Decode and handle every event in order; dead-letter each one that fails."""
    async for event in events:
        await handle_one(event, decode, handle, dead_letters, describe)


async def handle_one(
    event: EventT[bytes],
    decode: Callable[[bytes], M],
    handle: Callable[[EventT[bytes], M], Awaitable[None]],
    dead_letters: DeadLetters,
    describe: Describe[M],
) -> None:
    """Decode and handle one event, or dead-letter it saying why: never raise past it."""
    with about(Subject(incoming(event.message.headers).correlation_id or "")):
        try:
            message = decode(event.value or b"")  # a tombstone is as malformed as bad JSON
        except DECODE_ERRORS as exc:
            await dead_letters.publish_event(event, "malformed", str(exc))
            return
        except Exception as exc:
            await _unexpected(event, exc, dead_letters)
            return
    with about(describe(event, message)):
        try:
            await handle(event, message)
        except Exception as exc:
            await _unexpected(event, exc, dead_letters)


async def _unexpected(event: EventT[bytes], exc: Exception, dead_letters: DeadLetters) -> None:
    log.error("unexpected error handling %s: %r", event.message.tp, exc, exc_info=exc)
    await dead_letters.publish_event(event, "unexpected_error", repr(exc))
