"""The projection's baseline: a raw aiokafka loop doing the stock agent's work, nothing more.

Run as `python -m bench.stock.rawproject BOOTSTRAP TOPIC OUT_TOPIC START_OFFSETS_JSON`; prints one
JSON line. It reads the inbox from those offsets to the end offsets as of its start
(getmany), decodes each record with msgspec, applies the stock engine's pure rule to a
dict of values keyed by SKU (`bench.engine.project`) and produces the StockChanged records
(linger 2 ms, acks=all, as the agents' producer). An event is done once Kafka acknowledged
all its outputs; the rate counts from the first record fetched, as the worker's counts from
its first applied event. Unlike the agent it keeps no table: no RocksDB, no changelog.
"""

import asyncio
import sys
import time
from dataclasses import dataclass, field

import msgspec
from aiokafka import AIOKafkaProducer

from bench.common.acks import Outstanding
from bench.stock.engine import Values, project
from bench.stock.rawloop import Batch, reading, until_targets
from protocols.topics import StockInboxMessage

_decoder = msgspec.json.Decoder(StockInboxMessage)
_encoder = msgspec.json.Encoder()
LINGER_MS = 2


@dataclass
class Projection:
    """The loop's state: every SKU's value, the events awaiting acks, and the counts."""

    producer: AIOKafkaProducer
    out_topic: str
    values: Values = field(default_factory=dict)
    outstanding: Outstanding = field(default_factory=Outstanding)
    records: int = 0
    outputs: int = 0
    undecodable: int = 0
    started: float | None = None

    async def handle(self, batch: Batch) -> None:
        """Decode, apply and produce each record; its acks settle the event."""
        self.started = self.started or time.perf_counter()
        for record in batch:
            try:
                message = _decoder.decode(record.value)
            except msgspec.DecodeError:
                self.undecodable += 1
                self.outstanding.track(())
                continue
            acks = [
                await self.producer.send(self.out_topic, key=record.key, value=_encoder.encode(c))
                for c in project(self.values, message, record.offset)
            ]
            self.outputs += len(acks)
            self.outstanding.track(acks)
        self.records += len(batch)

    def figures(self, cpu_seconds: float) -> dict[str, float]:
        """Events done per second from the first fetch to the last ack, and the counts."""
        seconds = self.outstanding.last_done_at - (self.started or time.perf_counter())
        return {
            "records": self.records,
            "outputs": self.outputs,
            "undecodable": self.undecodable,
            "failed": self.outstanding.failed,
            "skus": len(self.values),
            "seconds": seconds,
            "events_per_s": self.outstanding.done / seconds if seconds > 0 else 0.0,
            "cpu_seconds": cpu_seconds,
        }


async def run(
    bootstrap: str, topic: str, out_topic: str, start: dict[int, int]
) -> dict[str, float]:
    """Project every record from `start` to the end as of now; the figures."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=LINGER_MS)
    await producer.start()
    try:
        projection = Projection(producer, out_topic)
        cpu = time.process_time()
        async with reading(bootstrap, topic, start) as (consumer, targets):
            await until_targets(consumer, targets, projection.handle)
        await producer.flush()
        await projection.outstanding.wait_settled(projection.records)
        return projection.figures(time.process_time() - cpu)
    finally:
        await producer.stop()


def main(argv: list[str]) -> int:
    """Entry point: project once and print the figures as JSON."""
    start = msgspec.json.decode(argv[3], type=dict[int, int])
    figures = asyncio.run(run(argv[0], argv[1], argv[2], start))
    sys.stdout.write(msgspec.json.encode(figures).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
