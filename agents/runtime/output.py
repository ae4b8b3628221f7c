"""The topics agents read and write, as raw bytes: our msgspec codecs (de)serialise."""

from typing import cast

import faust

from agents.runtime.durable_app import DurableApp
from protocols.topics import TopicSpec
from protocols.trace_headers import Header


def raw_topic(app: faust.App, spec: TopicSpec) -> faust.TopicT:
    """A Faust topic of raw bytes: our msgspec codecs (de)serialise, not Faust's."""
    return app.topic(spec.name, key_type=bytes, value_type=bytes, value_serializer="raw")


class Output:
    """A topic batch agents write to: sent after the batch, acknowledged before the commit."""

    def __init__(self, app: faust.App, spec: TopicSpec) -> None:
        self._records = cast(DurableApp, app).records
        self.name = spec.name

    def add(self, *, key: bytes, value: bytes, headers: list[Header]) -> None:
        """Buffer the record; it is sent when the batch is done, keyed like any record."""
        self._records.add(self.name, key, value, None, headers)
