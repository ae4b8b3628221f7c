"""The AsyncAPI 3 document of the event side, generated from the topic registry and the types.

As `/openapi.json` is built from the msgspec types the handlers decode, this is built from
`protocols.topics` (every Kafka topic, its key and its value type) and `protocols.amqp`
(the WMS exchanges), so a renamed topic or a new field shows here without anyone editing
it. Names follow the deployment's app id, as the topics and queues themselves do.
"""

import functools
import types
import typing
from typing import Any

import msgspec
import orjson

from app.api.asyncapi_headers import header_schemas, written_headers
from protocols.amqp import WMS_COMMANDS_EXCHANGE, WMS_EVENTS_EXCHANGE
from protocols.topics import Topics, TopicSpec
from protocols.wms import WMS_KINDS

KAFKA_BINDING = "0.5.0"
AMQP_BINDING = "0.3.0"
SCHEMAS = "#/components/schemas/{name}"

# What distgate does with each topic, by role: it reads ERP's, writes its outputs, and
# both reads and writes its own internal topics.
_READS = {"erp_supply", "erp_order_decisions", "stock_inbox", "order_inbox", "wms_commands"}
_WRITES = {
    "orders_events",
    "inventory_events",
    "crm_order_status",
    "dead_letters",
    "stock_inbox",
    "order_inbox",
    "wms_commands",
}
_COMMAND_ROOTS = {"release": "Release", "cancel": "Cancel"}


@functools.cache
def asyncapi_document(app_id: str) -> bytes:
    """Render the document of the deployment `app_id` once per process."""
    topics = Topics.for_app(app_id).all()
    value_types = [member for spec in topics for member in _members(spec)]
    _, schemas = msgspec.json.schema_components(value_types, ref_template=SCHEMAS)
    schemas |= header_schemas()
    channels = {spec.role: _kafka_channel(spec) for spec in topics}
    channels |= {"wms_events": _wms_events_channel(), "wms_commands_amqp": _wms_commands_channel()}
    document = {
        "asyncapi": "3.0.0",
        "info": {
            "title": f"distgate ({app_id}): Kafka topics and WMS exchanges",
            "version": "2",
            "description": "The event side of CONTRACT 3, 4 and 8; the HTTP side is /openapi.json.",
        },
        "defaultContentType": "application/json",
        "servers": _servers(),
        "channels": channels,
        "operations": _operations(topics),
        "components": {"schemas": schemas, "messages": _messages(topics)},
    }
    return orjson.dumps(document)


def _members(spec: TopicSpec) -> list[type]:
    """The message types a topic carries: each member of a union, or the one type."""
    if spec.value is bytes:
        return []
    value = typing.cast(Any, spec.value)
    if isinstance(value, types.UnionType):
        return list(typing.get_args(value))
    return [value]


def _servers() -> dict[str, Any]:
    return {
        "kafka": {
            "host": "{bootstrap}",
            "protocol": "kafka",
            "description": "The Kafka cluster of DISTGATE_KAFKA_URL.",
            "variables": {"bootstrap": {"description": "host:port of a broker"}},
        },
        "rabbitmq": {
            "host": "{host}",
            "protocol": "amqp",
            "protocolVersion": "0.9.1",
            "description": "The RabbitMQ of DISTGATE_AMQP_URL, where the WMSs publish and read.",
            "variables": {"host": {"description": "host:port of the broker"}},
        },
    }


def _kafka_channel(spec: TopicSpec) -> dict[str, Any]:
    owner = "external" if spec.external else "owned by this deployment"
    return {
        "address": spec.name,
        "title": spec.name,
        "description": f"{spec.doc} Key: {spec.key}. ({owner})",
        "servers": [{"$ref": "#/servers/kafka"}],
        "messages": {
            name: {"$ref": f"#/components/messages/{name}"} for name in _message_names(spec)
        },
        "bindings": {"kafka": {"topic": spec.name, "bindingVersion": KAFKA_BINDING}},
    }


def _message_names(spec: TopicSpec) -> list[str]:
    if spec.value is bytes:
        return ["DeadLetter"]
    return [member.__name__ for member in _members(spec)]


def _messages(topics: tuple[TopicSpec, ...]) -> dict[str, Any]:
    """One message per value type, plus the dead letter and the WMS XML documents."""
    messages: dict[str, Any] = {}
    # a type that also comes from outside (ERP's, relayed) has no headers it must carry
    from_outside = {m for spec in topics if spec.role not in _WRITES for m in _members(spec)}
    for spec in topics:
        key = {"key": {"type": "string", "description": spec.key}, "bindingVersion": KAFKA_BINDING}
        written = written_headers(spec.role) if spec.role in _WRITES else {}
        for member in _members(spec):
            messages[member.__name__] = {
                "name": member.__name__,
                "payload": {"$ref": SCHEMAS.format(name=member.__name__)},
                "bindings": {"kafka": key},
                **({} if member in from_outside else written),
            }
    messages["DeadLetter"] = {
        "name": "DeadLetter",
        "summary": "The original bytes of a message that could not be applied.",
        "contentType": "application/octet-stream",
        "description": "Headers dl.source, dl.origin, dl.reason, dl.error, dl.at and dl.id say "
        "where it came from and why it was not applied.",
        "payload": {"type": "string", "format": "binary"},
        **written_headers("dead_letters"),
    }
    for root in WMS_KINDS.values():
        messages[root] = _xml_message(root)
    for root in _COMMAND_ROOTS.values():
        messages[root] = {**_xml_message(root), **written_headers("wms_commands")}
    return messages


def _xml_message(root: str) -> dict[str, Any]:
    return {
        "name": root,
        "contentType": "application/xml",
        "summary": f"A <{root}> document, valid against /wms.xsd.",
        "payload": {"type": "string", "contentMediaType": "application/xml"},
    }


def _amqp_channel(exchange: str, kinds: list[str], roots: list[str], doc: str) -> dict[str, Any]:
    return {
        "address": "{warehouse}.{kind}",
        "title": exchange,
        "description": doc,
        "servers": [{"$ref": "#/servers/rabbitmq"}],
        "parameters": {
            "warehouse": {"description": "The warehouse code, e.g. DC-EAST"},
            "kind": {"enum": kinds, "description": "What the message is"},
        },
        "messages": {root: {"$ref": f"#/components/messages/{root}"} for root in roots},
        "bindings": {
            "amqp": {
                "is": "routingKey",
                "exchange": {"name": exchange, "type": "topic", "durable": True},
                "bindingVersion": AMQP_BINDING,
            }
        },
    }


def _wms_events_channel() -> dict[str, Any]:
    return _amqp_channel(
        WMS_EVENTS_EXCHANGE,
        list(WMS_KINDS),
        list(WMS_KINDS.values()),
        "What each warehouse's WMS publishes; every deployment has its own queue bound with #.",
    )


def _wms_commands_channel() -> dict[str, Any]:
    return _amqp_channel(
        WMS_COMMANDS_EXCHANGE,
        list(_COMMAND_ROOTS),
        list(_COMMAND_ROOTS.values()),
        "Release and Cancel instructions, persistent, with publisher confirms, at least once:"
        " message_id is the command's event id, for the WMS to drop copies by. A warehouse"
        " with no queue bound gets its commands, in order, once it binds one. The flow"
        " travels as the correlation_id property and the correlation_id and traceparent"
        " headers; a WMS that echoes either on its confirmations keeps them in the flow.",
    )


def _operations(topics: tuple[TopicSpec, ...]) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for spec in topics:
        channel = {"$ref": f"#/channels/{spec.role}"}
        if spec.role in _READS:
            operations[f"read_{spec.role}"] = {"action": "receive", "channel": channel}
        if spec.role in _WRITES:
            operations[f"write_{spec.role}"] = {"action": "send", "channel": channel}
    operations["read_wms_events"] = {
        "action": "receive",
        "channel": {"$ref": "#/channels/wms_events"},
    }
    operations["send_wms_commands"] = {
        "action": "send",
        "channel": {"$ref": "#/channels/wms_commands_amqp"},
        "bindings": {
            "amqp": {"deliveryMode": 2, "mandatory": True, "bindingVersion": AMQP_BINDING}
        },
    }
    return operations
