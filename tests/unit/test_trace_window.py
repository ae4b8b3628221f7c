"""Where the trace mirror starts reading: the window, cut to what the index can hold."""

from aiokafka import TopicPartition

from app.read.topic_reader import newest_share

EVENTS = [TopicPartition("orders.events", p) for p in range(3)]


def test_a_window_the_index_can_hold_is_read_whole() -> None:
    window = {EVENTS[0]: (100, 150), EVENTS[1]: (0, 30), EVENTS[2]: (7, 7)}
    assert newest_share(window, max_records=80) == {EVENTS[0]: 100, EVENTS[1]: 0, EVENTS[2]: 7}


def test_a_larger_window_is_read_from_the_newest_records_of_each_partition_by_its_part() -> None:
    # Given an hour of a million records, most of them on one partition
    window = {EVENTS[0]: (0, 900_000), EVENTS[1]: (500, 100_500), EVENTS[2]: (3, 3)}
    # When the index holds 10,000 messages
    starts = newest_share(window, max_records=10_000)
    # Then each partition is read from its newest records, in proportion to what it holds
    assert starts == {EVENTS[0]: 891_000, EVENTS[1]: 99_500, EVENTS[2]: 3}
    read = sum(end - starts[tp] for tp, (_first, end) in window.items())
    assert read == 10_000
    # and never from before the window
    assert all(first <= starts[tp] <= end for tp, (first, end) in window.items())
