"""Row keys: a SKU's waiting lines sort bytewise as its backorder queue, and only applied-id
rows count as seen rows (the rows the sweep may expire)."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from protocols.ids import ENTITY_ID_PATTERN
from tables.keys import backorder_key, is_seen_key, line_key, seen_key, waiting_key
from tables.stock.backorder_queue import Backorder
from tests.support.tables import NOW

SKU = "SKU-1"

_order_ids = st.from_regex(
    ENTITY_ID_PATTERN.removesuffix(r"(?!\n)").replace("{0,63}", "{0,5}"), fullmatch=True
)
_times = st.datetimes(
    min_value=dt.datetime(1971, 1, 1),
    max_value=dt.datetime(2200, 1, 1),
    timezones=st.sampled_from(
        [dt.UTC, dt.timezone(dt.timedelta(hours=2)), dt.timezone(dt.timedelta(hours=-5))]
    ),
)


@given(
    st.lists(
        st.tuples(_times, _order_ids, st.integers(1, 999_999)),
        unique_by=lambda e: e[1:],
        max_size=20,
    )
)
def test_line_rows_sort_bytewise_as_the_queue(entries: list[tuple[dt.datetime, str, int]]) -> None:
    # Given waiting lines at any time, with any order ids (prefixes of each other too) and lines
    backorders = [Backorder(at, order, line, qty=1) for at, order, line in entries]
    # Then their rows' keys sort as the queue does: submission, order id, line
    by_key = sorted(backorders, key=lambda b: backorder_key(SKU, b.submitted_at, b.key))
    assert [b.rank for b in by_key] == sorted(b.rank for b in backorders)


def test_ids_that_begin_alike_sort_as_python_sorts_them() -> None:
    at = NOW
    keys = [backorder_key(SKU, at, (order, 1)) for order in ("A-", "AB", "A", "A.1")]
    assert sorted(keys) == [
        backorder_key(SKU, at, (o, 1)) for o in sorted(["A-", "AB", "A", "A.1"])
    ]
    assert backorder_key(SKU, at, ("A", 2)) < backorder_key(SKU, at, ("A", 10))
    assert backorder_key(SKU, at, ("Z", 1)) < backorder_key(
        SKU, at + dt.timedelta(microseconds=1), ("A", 1)
    )


def test_a_line_of_the_order_d_is_no_seen_row() -> None:
    # A line row of the order `d` holds `|d|`: the sweep took it for an applied id and
    # deleted it (its value is no day)
    assert not is_seen_key(line_key(SKU, ("d", 1)))
    assert not is_seen_key(waiting_key(SKU, ("d", 1)))
    assert is_seen_key(seen_key(SKU, "d|x"))
