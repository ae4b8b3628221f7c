"""The bridge's baseline: a bare aio-pika consume-and-ack loop draining a pre-filled queue.

Run as `python -m bench.bridge.raw AMQP_URL QUEUE COUNT PREFETCH`; prints one JSON line
with the messages drained per second, timed from the first delivery to the last ack.
"""

import asyncio
import sys
import time

import aio_pika
import msgspec


async def drain(amqp_url: str, queue_name: str, count: int, prefetch: int) -> dict[str, float]:
    """Consume and ack `count` messages, as fast as RabbitMQ hands them out."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        queue = await channel.get_queue(queue_name)
        done, first = 0, 0.0
        cpu = time.process_time()
        async with queue.iterator() as deliveries:
            async for message in deliveries:
                if done == 0:
                    first = time.perf_counter()
                await message.ack()
                done += 1
                if done == count:
                    break
        seconds = time.perf_counter() - first
    return {
        "messages": done,
        "seconds": seconds,
        "per_s": done / seconds if seconds else 0.0,
        "cpu_seconds": time.process_time() - cpu,
    }


def main(argv: list[str]) -> int:
    """Entry point: drain the queue and print the figures."""
    url, queue, count, prefetch = argv[0], argv[1], int(argv[2]), int(argv[3])
    figures = asyncio.run(drain(url, queue, count, prefetch))
    print(msgspec.json.encode(figures).decode(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
