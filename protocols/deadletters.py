"""The dead-letter record on `<app_id>.dead-letters` (CONTRACT 4) and its admin JSON view."""

import base64
import datetime as dt
from collections.abc import Iterable
from typing import Final, Literal, Self, cast, get_args

import msgspec
from msgspec.structs import replace

from protocols.errors import InvalidDeadLetter

HEADER_ID: Final = "dl.id"
HEADER_SOURCE: Final = "dl.source"
HEADER_ORIGIN: Final = "dl.origin"
HEADER_REASON: Final = "dl.reason"
HEADER_ERROR: Final = "dl.error"
HEADER_AT: Final = "dl.at"
HEADER_PAYLOAD_SIZE: Final = "dl.payload_size"
"""Only on a letter whose payload was cut so the record fits Kafka: the original's size."""
# Kafka's default message.max.bytes is 1 MiB + 12, and distgate sets it on the topics it
# creates; a dead letter stays below it by room for the record batch's framing, so sending
# one can never fail (or be retried forever) for its size.
MAX_RECORD_BYTES: Final = 1_000_000
DEAD_LETTER_HEADERS: Final = (
    HEADER_ID,
    HEADER_SOURCE,
    HEADER_ORIGIN,
    HEADER_REASON,
    HEADER_ERROR,
    HEADER_AT,
)

Source = Literal["amqp", "kafka", "http"]
Header = tuple[str, bytes]
_SOURCES: frozenset[str] = frozenset(get_args(Source))


class HeaderView(msgspec.Struct, frozen=True):
    """One original header: its value as text, or as base64 when it is not UTF-8."""

    name: str
    value: str
    base64: bool


class DeadLetterView(msgspec.Struct, frozen=True):
    """A dead letter as `GET /v1/admin/dead-letters` shows it: bytes as text, else base64."""

    id: str
    source: Source
    origin: str
    reason: str
    error: str
    at: dt.datetime
    key: str | None
    key_base64: bool
    payload: str
    payload_base64: bool
    headers: tuple[HeaderView, ...]
    payload_truncated: bool = False  # True: only the payload's first 2 KiB are shown
    # True: payload, error or headers are cut; GET /v1/admin/dead-letters/{id} has them whole
    preview: bool = False


class DeadLetterList(msgspec.Struct, frozen=True):
    """`GET /v1/admin/dead-letters`: the newest dead letters first, each a preview."""

    dead_letters: tuple[DeadLetterView, ...]


class ReplayAccepted(msgspec.Struct, frozen=True):
    """`POST /v1/admin/dead-letters/{id}/replay`: where the original message was sent again."""

    id: str
    source: Source
    target: str


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """A message that could not be applied: where it came from, why, and its original bytes.

    `headers` are the original message's own headers, kept so a replay can restore them.
    """

    id: str
    source: Source
    origin: str
    reason: str
    error: str
    at: dt.datetime
    payload: bytes
    key: bytes | None = None
    headers: tuple[Header, ...] = ()
    payload_size: int | None = None  # set when `payload` is only the original's beginning

    def to_headers(self) -> list[Header]:
        """The Kafka record headers: the `dl.*` ones, then the original headers."""
        cut = (
            [] if self.payload_size is None else [(HEADER_PAYLOAD_SIZE, b"%d" % self.payload_size)]
        )
        return [
            *cut,
            (HEADER_ID, self.id.encode()),
            (HEADER_SOURCE, self.source.encode()),
            (HEADER_ORIGIN, self.origin.encode()),
            (HEADER_REASON, self.reason.encode()),
            # Exception text may hold lone surrogates; never fail while dead-lettering.
            (HEADER_ERROR, self.error.encode(errors="backslashreplace")),
            (HEADER_AT, self.at.isoformat().encode()),
            *self.headers,
        ]

    @classmethod
    def from_headers(cls, headers: Iterable[Header], value: bytes, key: bytes | None) -> Self:
        """Rebuild a dead letter from a topic record; raise InvalidDeadLetter if it is not one."""
        found: dict[str, bytes] = {}
        original: list[Header] = []
        for name, raw in headers:
            if name in DEAD_LETTER_HEADERS or name == HEADER_PAYLOAD_SIZE:
                found[name] = raw
            else:
                original.append((name, raw))
        if missing := [name for name in DEAD_LETTER_HEADERS if name not in found]:
            raise InvalidDeadLetter(f"the record lacks the headers {missing}")
        try:
            text = {name: raw.decode() for name, raw in found.items()}
            at = dt.datetime.fromisoformat(text[HEADER_AT])
            size = int(text[HEADER_PAYLOAD_SIZE]) if HEADER_PAYLOAD_SIZE in text else None
        except ValueError as exc:  # UnicodeDecodeError is a ValueError too
            raise InvalidDeadLetter(f"unreadable dl.* header: {exc}") from exc
        if (source := text[HEADER_SOURCE]) not in _SOURCES:
            raise InvalidDeadLetter(f"{HEADER_SOURCE}={source!r} is not one of {sorted(_SOURCES)}")
        return cls(
            id=text[HEADER_ID],
            source=cast(Source, source),
            origin=text[HEADER_ORIGIN],
            reason=text[HEADER_REASON],
            error=text[HEADER_ERROR],
            at=at,
            payload=value,
            key=key,
            headers=tuple(original),
            payload_size=size,
        )

    def fitted(self) -> Self:
        """This letter, its payload cut (and its full size noted) if the record would not fit."""
        headers = sum(len(name) + len(raw) for name, raw in self.to_headers())
        room = MAX_RECORD_BYTES - len(self.key or b"") - headers - 32  # the size header's room
        if len(self.payload) <= room:
            return self
        return replace(self, payload=self.payload[: max(0, room)], payload_size=len(self.payload))

    def view(self) -> DeadLetterView:
        """The JSON view for the admin API."""
        key, key_base64 = (None, False) if self.key is None else _shown(self.key)
        payload, payload_base64 = _shown(self.payload)
        return DeadLetterView(
            id=self.id,
            source=self.source,
            origin=self.origin,
            reason=self.reason,
            error=self.error,
            at=self.at,
            key=key,
            key_base64=key_base64,
            payload=payload,
            payload_base64=payload_base64,
            headers=tuple(HeaderView(name, *_shown(raw)) for name, raw in self.headers),
            payload_truncated=self.payload_size is not None,
        )


def _shown(data: bytes) -> tuple[str, bool]:
    """`data` as UTF-8 text, or base64 (and True) when it is not valid UTF-8."""
    try:
        return data.decode(), False
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), True
