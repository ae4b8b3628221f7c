"""A deployment owns its names: internal topics, queues and exchange come from its app id."""

from app.settings import Settings
from protocols.amqp import WMS_EVENTS_EXCHANGE, WmsQueues
from protocols.topics import Topics, decoder_for


def test_the_default_app_id_keeps_every_name_of_the_contract() -> None:
    # Given the default settings
    settings = Settings.from_env({})
    # When the deployment's topics and queues are named
    topics, queues = settings.topics, settings.wms_queues
    # Then they are exactly CONTRACT 3 and 4's names
    assert [spec.name for spec in topics.all()] == [
        "erp.supply",
        "erp.order-decisions",
        "orders.events",
        "inventory.events",
        "crm.order-status",
        "distgate.dead-letters",
        "distgate.stock-inbox",
        "distgate.order-inbox",
        "distgate.wms-commands",
    ]
    assert (queues.events.name, queues.dead.name) == (
        "distgate.wms-events",
        "distgate.wms-events.dead",
    )
    assert queues.dead_letter_exchange.name == "distgate.dlx"


def test_another_app_id_owns_its_internal_topics_and_shares_the_external_ones() -> None:
    # Given two deployments on one Kafka
    a, b = Topics.for_app("distgate"), Topics.for_app("eu")
    # When their topics are compared
    shared = {spec.name for spec in a.all()} & {spec.name for spec in b.all()}
    # Then only the external topics are shared; eu's own are named from its app id
    assert shared == {
        "erp.supply",
        "erp.order-decisions",
        "orders.events",
        "inventory.events",
        "crm.order-status",
    }
    assert (b.stock_inbox.name, b.order_inbox.name, b.wms_commands.name) == (
        "eu.stock-inbox",
        "eu.order-inbox",
        "eu.wms-commands",
    )
    assert b.dead_letters.name == "eu.dead-letters"


def test_each_deployment_has_its_own_queue_bound_to_every_wms_event() -> None:
    # Given the deployment "eu"
    queues = Settings.from_env({"DISTGATE_APP_ID": "eu"}).wms_queues
    # When its AMQP topology is read
    events, dead = queues.events, queues.dead
    # Then its queue takes every WMS event, one consumer at a time, poison to its own exchange
    assert events.name == "eu.wms-events"
    assert events.bindings == ((WMS_EVENTS_EXCHANGE, "#"),)
    assert events.arguments["x-single-active-consumer"] is True
    assert events.arguments["x-queue-type"] == "quorum"
    assert events.arguments["x-dead-letter-exchange"] == "eu.dlx"
    assert (dead.name, dead.bindings) == ("eu.wms-events.dead", (("eu.dlx", "#"),))
    # And the shared exchanges are declared with its own dead-letter exchange
    assert [e.name for e in queues.exchanges()] == ["wms.events", "wms.commands", "eu.dlx"]
    assert WmsQueues.for_app("eu") == queues


def test_a_deployment_parks_commands_in_queues_of_its_own() -> None:
    # Given the deployment "eu"
    queues = WmsQueues.for_app("eu")
    # When it names where a warehouse's commands wait, and the index of those queues
    parked, index = queues.parked("DC-X"), queues.parked_index
    # Then both are named from its app id, and one redeliverer at a time takes the index
    assert (parked.name, index.name) == ("eu.wms-commands.parked.DC-X", "eu.wms-commands.parked")
    assert parked.arguments == {"x-queue-type": "classic"}  # a requeue keeps its place
    assert index.arguments["x-single-active-consumer"] is True
    # And the index is declared at start with the deployment's other queues
    assert index in queues.queues()


def test_codecs_follow_the_topic_role_whatever_the_deployment() -> None:
    # Given the stock inbox of two deployments
    ours, theirs = Topics.for_app("distgate").stock_inbox, Topics.for_app("eu").stock_inbox
    # When their decoders are asked for
    # Then both are the one decoder of the stock inbox's messages
    assert decoder_for(ours) is decoder_for(theirs)
