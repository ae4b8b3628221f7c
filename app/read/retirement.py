"""Closed values leaving a mirror's memory: what is due to leave, and where the left ones are.

A mirror keeps every value's bytes in memory so that a read costs no I/O. A value that
will not change any more (a closed order) is read rarely once it is old, so after
`keep_ms` it leaves memory and only its place on the changelog stays: partition and
offset packed in one int, about 150 bytes with its key instead of the value's
kilobytes. The compacted changelog keeps the latest record of every key, so that place
stays readable until a newer record for the key comes, and the mirror sees that one.
"""

import time
from collections import deque
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import TypeVar

V = TypeVar("V")
PARTITION_BITS = 8  # a deployment has at most 256 partitions (Settings)


@dataclass(frozen=True)
class RetirementPolicy:
    """Which values may leave memory (`is_closed`, read from their bytes), and after how long."""

    keep_ms: int
    is_closed: Callable[[bytes], bool]


def pack(partition: int, offset: int) -> int:
    """A changelog record's place as one int."""
    return offset << PARTITION_BITS | partition


def unpack(place: int) -> tuple[int, int]:
    """The partition and offset `pack` made `place` of."""
    return place & ((1 << PARTITION_BITS) - 1), place >> PARTITION_BITS


class Retirement:
    """The values a mirror no longer holds in memory, and the closed ones due to follow."""

    def __init__(self, policy: RetirementPolicy, clock: Callable[[], float] = time.time) -> None:
        self.policy = policy
        self._clock = clock  # seconds since the epoch, as record timestamps count (in ms)
        self._retired: dict[bytes, int] = {}  # key -> place of its latest record
        self._closed: dict[bytes, int] = {}  # key of a closed value still in memory -> place
        self._due: deque[tuple[int, bytes, int]] = deque()  # (due ms, key, place), by write

    def written(self, key: bytes, value: bytes, written_ms: int, place: int) -> bool:
        """A new value for `key`; True when it is to be kept in memory, False: retired at once."""
        self._retired.pop(key, None)
        self._closed.pop(key, None)
        if not self.policy.is_closed(value):
            return True
        due = written_ms + self.policy.keep_ms
        if due <= self._now_ms():
            self._retired[key] = place  # restored long after it closed: never held
            return False
        self._closed[key] = place
        self._due.append((due, key, place))
        return True

    def deleted(self, key: bytes) -> None:
        """`key` has no value any more (a tombstone)."""
        self._retired.pop(key, None)
        self._closed.pop(key, None)

    def sweep(self, values: MutableMapping[bytes, V]) -> int:
        """Move the closed values that are due out of `values`; how many left."""
        now, moved = self._now_ms(), 0
        while self._due and self._due[0][0] <= now:
            _, key, place = self._due.popleft()
            if self._closed.get(key) != place:
                continue  # written again since: that write decides
            del self._closed[key]
            values.pop(key, None)
            self._retired[key] = place
            moved += 1
        return moved

    def place(self, key: bytes) -> tuple[int, int] | None:
        """The partition and offset of a retired key's value, or None when it is not retired."""
        place = self._retired.get(key)
        return None if place is None else unpack(place)

    def __len__(self) -> int:
        return len(self._retired)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)
