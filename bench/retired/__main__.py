"""`python -m bench.retired`: a burst of reads of retired orders, one reader against the pool.

Writes `--records` values of `--value-bytes` each to a fresh compacted topic on the dev
stack's Kafka (the settings' `DISTGATE_KAFKA_URL`), then reads every place back with
`--in-flight` reads at once, alternating in one process: the release before (one
consumer asking 1 MiB per fetch, reads taking turns, nothing kept) and this one
(`READERS` consumers side by side asking for one batch, and the cache by place). Then
the same places again through the warm pool: a customer polling old orders. Prints JSON
with reads per second, medians of `--runs`, and the ratios. The topic is deleted at the end.
"""

import argparse
import asyncio
import json
import statistics
import time
import uuid

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from app.read.record_reader import CACHE_BYTES, READERS, ChangelogRecords
from app.settings import Settings
from bench.common.kafka_io import create_topic, produce_all

Place = tuple[int, int, bytes]
PARTITIONS = 3
BEFORE_FETCH_BYTES = 1024 * 1024  # the consumer's default, which the release before kept


async def main(records: int, value_bytes: int, in_flight: int, runs: int) -> dict[str, object]:
    """Write the records, time the reads, remove the topic."""
    settings = Settings.from_env()
    bootstrap = settings.kafka_bootstrap
    topic = f"bench-retired-{uuid.uuid4().hex[:8]}"
    await create_topic(bootstrap, topic, PARTITIONS, compacted=True)
    try:
        filler = b"x" * value_bytes
        await produce_all(bootstrap, topic, ((f"o-{i}".encode(), filler) for i in range(records)))
        places = await _places(bootstrap, topic, records)
        one, pool, warm = [], [], []
        for _ in range(runs):
            one.append(
                await _timed(
                    ChangelogRecords(topic, settings.kafka, 1, 0, BEFORE_FETCH_BYTES),
                    places,
                    in_flight,
                )
            )
            reader = ChangelogRecords(topic, settings.kafka, READERS, CACHE_BYTES)
            pool.append(await _timed(reader, places, in_flight, keep=True))
            warm.append(await _timed(reader, places, in_flight))
    finally:
        await _delete(bootstrap, topic)
    return _report(records, value_bytes, in_flight, one, pool, warm)


async def _places(bootstrap: str, topic: str, count: int) -> list[Place]:
    """Where each record landed (partition, offset, key)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        places: list[Place] = []
        while len(places) < count:
            batch = await consumer.getmany(timeout_ms=500)
            places.extend((r.partition, r.offset, r.key) for rs in batch.values() for r in rs)
        return places
    finally:
        await consumer.stop()


async def _timed(
    reader: ChangelogRecords, places: list[Place], in_flight: int, keep: bool = False
) -> float:
    """Reads per second of every place, `in_flight` at once; the reader stops unless `keep`."""
    gate = asyncio.Semaphore(in_flight)

    async def one(place: Place) -> None:
        async with gate:
            assert await reader.read(*place, within=60) is not None

    started = time.perf_counter()
    await asyncio.gather(*(one(place) for place in places))
    elapsed = time.perf_counter() - started
    if not keep:
        await reader.stop()
    return len(places) / elapsed


async def _delete(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()


def _report(
    records: int, value_bytes: int, in_flight: int, *runs: list[float]
) -> dict[str, object]:
    one, pool, warm = (statistics.median(r) for r in runs)
    return {
        "records": records,
        "value_bytes": value_bytes,
        "in_flight": in_flight,
        "reads_per_s": {"one_reader": round(one), "pool": round(pool), "pool_warm": round(warm)},
        "pool_over_one": round(pool / one, 2),
        "warm_over_one": round(warm / one, 1),
        "runs": [[round(x) for x in r] for r in runs],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.retired", description=__doc__)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--value-bytes", type=int, default=4000)
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    report = asyncio.run(main(args.records, args.value_bytes, args.in_flight, args.runs))
    print(json.dumps(report, indent=2))
