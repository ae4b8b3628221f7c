"""Rows in memory (`tables.batch.MemoryRows`) and a prefix read through pending writes
(`tables.batch.overlaid`), against a plain dict."""

from hypothesis import given
from hypothesis import strategies as st

from tables.batch import MemoryRows, overlaid

_keys = st.sampled_from([b"A", b"A|b|1", b"A|b|2", b"A|b|10", b"A|c", b"AB|b|1", b"B|b|1"])
_writes = st.lists(st.tuples(_keys, st.one_of(st.none(), st.binary(min_size=1, max_size=2))))


@given(_writes, st.sampled_from([b"A|b|", b"A", b"B|", b"C"]))
def test_a_prefix_is_read_in_key_order_whatever_was_written_and_deleted(
    writes: list[tuple[bytes, bytes | None]], prefix: bytes
) -> None:
    # Given rows written and deleted in any order
    rows, plain = MemoryRows(), {}
    for key, value in writes:
        rows.put(key, value)
        if value is None:
            plain.pop(key, None)
        else:
            plain[key] = value
    # Then a prefix read gives what a dict holds under it, in key order
    assert list(rows.iter_prefix(prefix)) == sorted(
        (k, v) for k, v in plain.items() if k.startswith(prefix)
    )
    assert rows == plain


@given(_writes, _writes)
def test_pending_writes_over_stored_rows_read_as_if_written(
    stored: list[tuple[bytes, bytes | None]], pending: list[tuple[bytes, bytes | None]]
) -> None:
    # Given stored rows, and writes and deletes not yet made
    base = {key: value for key, value in stored if value is not None}
    changes = dict(pending)
    # Then reading through them is reading the rows once they are made
    after = {**base, **changes}
    expected = sorted((k, v) for k, v in after.items() if v is not None)
    assert list(overlaid(sorted(base.items()), changes)) == expected
