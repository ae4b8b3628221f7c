"""Declares the Kafka topics of the registry and the AMQP topology, idempotently."""

import logging
from typing import Any

import aio_pika
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, NoError, TopicAlreadyExistsError, for_code
from aiormq.exceptions import AMQPError
from yarl import URL

from app.erp_start import is_new_deployment, start_decisions_at_end
from app.errors import ConfigurationError
from app.settings import Settings
from protocols.amqp import WmsQueues
from protocols.topics import TOPIC_MAX_MESSAGE_BYTES, TopicSpec

log = logging.getLogger(__name__)

RETENTION = "retention.ms"
KEEP_FOREVER = "-1"


async def declare_topology(settings: Settings, specs: tuple[TopicSpec, ...]) -> None:
    """Declare every topic and the AMQP topology; an unreachable broker is a clear error.

    A deployment declared for the first time reads ERP's decisions from now on
    (`app.erp_start`).
    """
    created = await declare_kafka_topics(settings, specs)
    if is_new_deployment(settings, created):
        await start_decisions_at_end(settings)
    amqp = URL(settings.amqp_url)
    try:
        connection = await aio_pika.connect(settings.amqp_url, timeout=30)
    except (AMQPError, OSError, TimeoutError) as exc:
        raise ConfigurationError(
            f"cannot reach RabbitMQ at {amqp.host}:{amqp.port}: {exc}"
        ) from exc
    async with connection:
        await declare_amqp_topology(await connection.channel(), settings.wms_queues)


async def declare_kafka_topics(settings: Settings, specs: tuple[TopicSpec, ...]) -> list[str]:
    """Create every registry topic that does not exist yet; return the names created."""
    admin = AIOKafkaAdminClient(**settings.kafka.client_options())
    try:
        await admin.start()
    except KafkaError as exc:
        raise ConfigurationError(
            f"cannot reach Kafka at {settings.kafka_bootstrap}: {exc}"
        ) from exc
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if missing:
            response = await admin.create_topics([_new_topic(s, settings) for s in missing])
            _raise_on_errors(response.topic_errors)
            log.info("created Kafka topics %s", [spec.name for spec in missing])
        # Topics created just now have the right count; check the ones that were there.
        ours = [spec.name for spec in specs if spec not in missing and not spec.external]
        await _check_partitions(admin, ours, settings.partitions)
        await _keep_forever(admin, [s.name for s in specs if s.keep_forever and s not in missing])
        return [spec.name for spec in missing]
    except KafkaError as exc:
        raise ConfigurationError(f"cannot declare Kafka topics: {exc}") from exc
    finally:
        await admin.close()


async def _check_partitions(admin: AIOKafkaAdminClient, names: list[str], expected: int) -> None:
    """Our own topics are co-partitioned with the tables; a mismatch would split a key's state."""
    for description in await admin.describe_topics(names):
        count = len(description["partitions"])
        if count != expected:
            raise ConfigurationError(
                f"Kafka topic {description['topic']!r} has {count} partitions but distgate "
                f"runs with {expected} (DISTGATE_PARTITIONS); recreate the topic or change it"
            )


async def _keep_forever(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """Topics created before their retention was set (Kafka's 7 days) keep their records now."""
    for name in names:
        resource = ConfigResource(ConfigResourceType.TOPIC, name)
        described = await admin.describe_configs([resource])
        entries = {entry[0]: entry[1] for entry in described[0].resources[0][4]}  # name, value
        if entries.get(RETENTION) != KEEP_FOREVER:
            await admin.alter_configs(
                [ConfigResource(ConfigResourceType.TOPIC, name, {RETENTION: KEEP_FOREVER})]
            )
            log.info(
                "Kafka topic %s now keeps its records forever (was %s ms)",
                name,
                entries.get(RETENTION),
            )


def _raise_on_errors(topic_errors: list[tuple[Any, ...]]) -> None:
    """create_topics reports per topic; another worker creating it first is fine."""
    for name, code, *message in topic_errors:
        if code not in (NoError.errno, TopicAlreadyExistsError.errno):
            detail = message[0] if message else for_code(code).__name__
            raise ConfigurationError(f"Kafka refused to create topic {name!r}: {detail}")


def _new_topic(spec: TopicSpec, settings: Settings) -> NewTopic:
    # Set, not left to the broker's default: every producer of distgate sizes its records to it.
    configs = {"max.message.bytes": str(TOPIC_MAX_MESSAGE_BYTES)}
    if spec.compacted:
        configs["cleanup.policy"] = "compact"
    if spec.keep_forever:
        configs[RETENTION] = KEEP_FOREVER
    return NewTopic(
        name=spec.name,
        num_partitions=settings.partitions,
        replication_factor=settings.replication_factor,
        topic_configs=configs,
    )


async def declare_amqp_topology(channel: aio_pika.abc.AbstractChannel, queues: WmsQueues) -> None:
    """Declare the exchanges, and one deployment's queues and bindings, of CONTRACT 3 (durable)."""
    exchanges = {}
    for exchange in queues.exchanges():
        exchanges[exchange.name] = await channel.declare_exchange(
            exchange.name, aio_pika.ExchangeType(exchange.type), durable=True
        )
    for spec in queues.queues():
        try:
            queue = await channel.declare_queue(spec.name, durable=True, arguments=spec.arguments)
        except aio_pika.exceptions.ChannelPreconditionFailed as exc:
            raise ConfigurationError(
                f"RabbitMQ queue {spec.name!r} exists with other arguments than "
                f"{spec.arguments}; delete it or migrate it first ({exc})"
            ) from exc
        for exchange_name, routing_key in spec.bindings:
            await queue.bind(exchanges[exchange_name], routing_key=routing_key)
