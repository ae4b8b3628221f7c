"""Every record distgate produces fits Kafka: a dead letter too large is cut and says so."""

from agents.deadletters import new_dead_letter
from app.settings import Settings
from app.topology import _new_topic
from protocols.deadletters import MAX_RECORD_BYTES, DeadLetter
from protocols.topics import TOPIC_MAX_MESSAGE_BYTES, Topics


def record_size(letter: DeadLetter) -> int:
    headers = sum(len(name) + len(raw) for name, raw in letter.to_headers())
    return len(letter.payload) + len(letter.key or b"") + headers


def kafka_letter(payload: bytes) -> DeadLetter:
    return new_dead_letter(
        source="kafka", origin="erp.order-decisions", position="0:7", reason="malformed",
        error="Expected `str` of length <= 500", payload=payload, key=b"SO-1",
        headers=[("traceparent", b"00-" + b"a" * 50)],
    )  # fmt: skip


def test_a_small_dead_letter_keeps_its_payload_whole() -> None:
    letter = kafka_letter(b'{"type":"OrderRejected"}')
    assert (letter.payload, letter.payload_size) == (b'{"type":"OrderRejected"}', None)


def test_a_dead_letter_of_a_record_at_kafkas_limit_is_cut_to_fit_and_says_its_size() -> None:
    # Given an ERP record as large as Kafka allows, When it is dead-lettered
    original = b"x" * (1024 * 1024)
    letter = kafka_letter(original)
    # Then the dead letter's record fits, and it says how large the original was
    assert record_size(letter) <= MAX_RECORD_BYTES < TOPIC_MAX_MESSAGE_BYTES
    assert letter.payload_size == len(original)
    assert original.startswith(letter.payload)
    # And read back from the topic it still says so, shown as truncated
    back = DeadLetter.from_headers(letter.to_headers(), letter.payload, letter.key)
    assert back.payload_size == len(original)
    assert back.headers == letter.headers
    assert back.view().payload_truncated


def test_topics_distgate_creates_name_their_message_limit() -> None:
    topic = _new_topic(Topics.for_app("distgate").dead_letters, Settings())
    assert topic.topic_configs["max.message.bytes"] == str(TOPIC_MAX_MESSAGE_BYTES)
