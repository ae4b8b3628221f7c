"""Parking keeps each warehouse's commands in order and lets every other warehouse's flow."""

import datetime as dt

import aio_pika

from agents.runtime.correlated import correlated
from agents.wms_commands import command_message, next_pause
from agents.wms_parking import Delivered, Router, indexed_warehouse, parked_message, unparked
from protocols.amqp import HEADER_PARKED_ROUTING_KEY
from protocols.wms_events import CancelAtWarehouse

EAST, WEST = "DC-EAST", "DC-WEST"


class FakeBroker:
    """RabbitMQ as the router sees it: bound WMS queues, parked queues, the index."""

    def __init__(self, *bound: str) -> None:
        self.bound = set(bound)
        self.parked: dict[str, list[str | None]] = {}
        self.sent: list[str | None] = []
        self.index: list[str] = []

    async def send(self, message: aio_pika.Message, key: str) -> bool:
        if key.partition(".")[0] not in self.bound:
            return False
        self.sent.append(message.message_id)
        return True

    async def park(self, warehouse: str, message: aio_pika.Message) -> bool:
        if warehouse not in self.parked:
            return False
        assert message.headers[HEADER_PARKED_ROUTING_KEY] == f"{warehouse}.release"
        self.parked[warehouse].append(message.message_id)
        return True

    async def open_parking(self, warehouse: str) -> None:
        self.parked.setdefault(warehouse, [])

    async def announce(self, warehouse: str) -> None:
        self.index.append(warehouse)


async def deliver(router: Router, warehouse: str, message_id: str) -> Delivered:
    message = aio_pika.Message(b"<Release/>", message_id=message_id)
    return await router.deliver(warehouse, message, f"{warehouse}.release")


async def test_a_bound_warehouse_gets_its_commands_straight() -> None:
    # Given a warehouse whose WMS has a queue bound
    broker = FakeBroker(EAST)
    router = Router(broker)
    # When two commands are delivered
    outcomes = [await deliver(router, EAST, "e1"), await deliver(router, EAST, "e2")]
    # Then both went to its WMS, and nothing was parked
    assert outcomes == [Delivered.SENT, Delivered.SENT]
    assert (broker.sent, broker.parked, broker.index) == (["e1", "e2"], {}, [])


async def test_an_unbound_warehouse_parks_in_order_while_the_others_flow() -> None:
    # Given one warehouse bound and one not
    broker = FakeBroker(EAST)
    router = Router(broker)
    # When their commands come interleaved
    for n in range(3):
        await deliver(router, WEST, f"w{n}")
        await deliver(router, EAST, f"e{n}")
    # Then the bound one's went straight; the other's were parked in order, indexed once
    assert broker.sent == ["e0", "e1", "e2"]
    assert broker.parked == {WEST: ["w0", "w1", "w2"]}
    assert broker.index == [WEST]


async def test_a_parked_warehouse_keeps_parking_even_once_bound() -> None:
    # Given a warehouse with parked commands whose WMS has just bound its queue
    broker = FakeBroker()
    router = Router(broker)
    await deliver(router, WEST, "w0")
    broker.bound.add(WEST)
    # When another command comes for it before the parked ones were delivered
    outcome = await deliver(router, WEST, "w1")
    # Then it is parked behind them, not sent ahead
    assert (outcome, broker.parked[WEST], broker.sent) == (Delivered.PARKED, ["w0", "w1"], [])


async def test_once_its_parked_queue_is_gone_a_warehouse_gets_commands_straight() -> None:
    # Given a warehouse whose parked commands were all delivered and its queue deleted
    broker = FakeBroker()
    router = Router(broker)
    await deliver(router, WEST, "w0")
    broker.bound.add(WEST)
    del broker.parked[WEST]
    # When its next command comes
    outcome = await deliver(router, WEST, "w1")
    # Then it goes straight to the WMS
    assert (outcome, broker.sent) == (Delivered.SENT, ["w1"])


async def test_after_a_rebalance_an_existing_parked_queue_is_used_and_indexed_again() -> None:
    # Given a warehouse this process sends straight to, which another process parked for
    broker = FakeBroker(WEST)
    router = Router(broker)
    await deliver(router, WEST, "w0")
    broker.parked[WEST] = ["theirs"]
    # When partitions move, and a command comes for the warehouse
    router.forget()
    outcome = await deliver(router, WEST, "w1")
    # Then it waits behind the parked one, and the index names the warehouse again
    assert (outcome, broker.parked[WEST], broker.index) == (
        Delivered.PARKED,
        ["theirs", "w1"],
        [WEST],
    )


def test_a_parked_command_is_sent_on_as_it_was_published() -> None:
    # Given a command's message, as parked
    command = CancelAtWarehouse(
        event_id="can-1", order_id="SO-1", warehouse=EAST, txn="CAN-1", correlation_id="corr"
    )
    message = command_message(command, b"<Cancel/>", correlated("corr"))
    parked = parked_message(message, f"{EAST}.cancel")
    # When it is taken out of the parked queue
    unpacked = unparked(parked)
    # Then it goes to its routing key with the same body, ids, properties and flow headers
    assert unpacked is not None
    key, again = unpacked
    assert key == f"{EAST}.cancel"
    assert (again.body, again.message_id, again.correlation_id) == (b"<Cancel/>", "can-1", "corr")
    assert (again.content_type, again.delivery_mode) == (
        "application/xml",
        aio_pika.DeliveryMode.PERSISTENT,
    )
    assert isinstance(again.timestamp, dt.datetime)
    assert set(again.headers) == {"correlation_id", "traceparent"}
    assert again.headers["correlation_id"] == "corr"


def test_a_message_without_a_routing_key_is_no_parked_command() -> None:
    assert unparked(aio_pika.Message(b"x")) is None


def test_an_index_entry_names_a_warehouse_or_nothing() -> None:
    assert indexed_warehouse(b"DC-EAST") == EAST
    assert indexed_warehouse(b"dc east\n") is None
    assert indexed_warehouse(b"\xff") is None


def test_the_pause_between_attempts_doubles_up_to_five_seconds() -> None:
    pauses = [0.1]
    for _ in range(8):
        pauses.append(next_pause(pauses[-1]))
    assert pauses[:4] == [0.1, 0.2, 0.4, 0.8]
    assert pauses[-1] == 5.0
