"""The bridge's pure step for one delivery: its canonical records, or its dead letter (no I/O).

Whatever cannot be decoded (CONTRACT 6: malformed or hostile XML, oversize, unknown
kinds, bad identifiers or quantities, a warehouse that disagrees with the routing key)
becomes one record on the deployment's dead-letter topic with the original bytes, the `dl.*`
headers and the AMQP identity (routing key, ids) a replay needs.
"""

import datetime as dt
import logging

from agents.deadletters import new_dead_letter
from agents.wms_canonical import Delivery, KafkaRecord, to_canonical
from protocols.amqp import HEADER_BODY_SIZE
from protocols.deadletters import DeadLetter
from protocols.errors import WmsDecodeError
from protocols.printable import printable
from protocols.topics import Topics
from protocols.wms_xml import decode_wms

log = logging.getLogger(__name__)

# Kafka refuses records over ~1 MiB: a bigger body is dead-lettered cut short (the whole
# original stays in the AMQP dead-letter queue) and says its size in a header.
MAX_DEAD_LETTER_PAYLOAD = 900 * 1024


def translate(
    body: bytes, delivery: Delivery, now: dt.datetime, topics: Topics, queue: str
) -> tuple[list[KafkaRecord], DeadLetter | None]:
    """The records a delivery from `queue` becomes: canonical events, or its dead letter."""
    try:
        return to_canonical(decode_wms(delivery.routing_key, body), delivery, now, topics), None
    except WmsDecodeError as exc:
        letter = amqp_dead_letter(delivery, body, queue, exc.reason, exc.detail)
    except Exception as exc:
        # A bug must not stop the bridge or lose the message: dead-letter it for a replay.
        log.exception("unexpected error translating %s", printable(delivery.routing_key))
        letter = amqp_dead_letter(delivery, body, queue, "unexpected_error", repr(exc))
    record = KafkaRecord(
        topics.dead_letters.name, letter.key, letter.payload, tuple(letter.to_headers())
    )
    return [record], letter


def amqp_dead_letter(
    delivery: Delivery, body: bytes, queue: str, reason: str, error: str
) -> DeadLetter:
    """The dead letter of a delivery the bridge cannot apply; its id is stable per message."""
    headers = delivery.headers()
    payload = body
    if len(body) > MAX_DEAD_LETTER_PAYLOAD:
        payload = body[:MAX_DEAD_LETTER_PAYLOAD]
        headers.append((HEADER_BODY_SIZE, str(len(body)).encode()))
    return new_dead_letter(
        source="amqp",
        origin=queue,
        position=f"{delivery.routing_key}:{delivery.digest}",
        reason=reason,
        error=error,
        payload=payload,
        key=None,
        headers=headers,
    )
