"""Records read back by place are kept within a byte budget, the least recently used dropped."""

from app.read.record_reader import PlaceCache


def test_a_place_answers_only_for_the_key_it_holds() -> None:
    cache = PlaceCache(budget=100)
    cache.put((0, 7), b"order-1", b"value")
    assert cache.get((0, 7), b"order-1") == b"value"
    assert cache.get((0, 7), b"order-2") is None
    assert cache.get((1, 7), b"order-1") is None


def test_beyond_the_budget_the_least_recently_read_place_goes_first() -> None:
    cache = PlaceCache(budget=30)  # three records of 10 bytes
    for offset in range(3):
        cache.put((0, offset), b"key-0", b"value")
    cache.get((0, 0), b"key-0")  # read again: now the newest use
    cache.put((0, 3), b"key-0", b"value")
    assert [cache.get((0, o), b"key-0") is not None for o in range(4)] == [True, False, True, True]
    assert cache.size == 30


def test_a_record_larger_than_the_budget_is_not_kept_and_keeps_the_others() -> None:
    cache = PlaceCache(budget=30)
    cache.put((0, 0), b"key-0", b"value")
    cache.put((0, 1), b"key-1", b"x" * 40)
    assert cache.get((0, 1), b"key-1") is None
    assert cache.get((0, 0), b"key-0") == b"value"
