"""The bridge alone, in its own process: a worker's `WmsBridge` without the Faust app beside it.

Run as `python -m bench.bridge.alone COUNT`; drains the WMS queue (the brokers come from
the DISTGATE_* environment) until COUNT messages are forwarded, then prints one JSON
line with the rate, timed from the first forwarded message to the last.
"""

import asyncio
import sys
import time

import msgspec
from prometheus_client import CollectorRegistry

from agents.runtime.failpoints import Failpoints
from agents.runtime.metrics import AgentMetrics
from agents.wms_bridge import WmsBridge
from app.settings import Settings


async def drain(count: int) -> dict[str, float]:
    """Run the bridge until `count` deliveries were forwarded (acked after Kafka)."""
    metrics = AgentMetrics(CollectorRegistry())
    settings = Settings.from_env()
    bridge = WmsBridge(
        settings.kafka.client_options(),
        settings.amqp_url,
        settings.wms_queues.events,
        settings.topics,
        metrics,
        Failpoints(),
    )
    await bridge.start()
    try:
        first: tuple[float, float] | None = None
        cpu = time.process_time()
        while True:
            done = metrics.registry.get_sample_value(
                "distgate_bridge_messages_total", {"outcome": "forwarded"}
            )
            now = time.perf_counter()
            if done and first is None:
                first = (now, done)
            if done is not None and done >= count and first is not None:
                seconds = now - first[0]
                return {
                    "per_s": (done - first[1]) / seconds if seconds else 0.0,
                    "cpu_seconds": time.process_time() - cpu,
                }
            await asyncio.sleep(0.005)
    finally:
        await bridge.stop()


def main(argv: list[str]) -> int:
    """Entry point: print the figures as one JSON line."""
    print(msgspec.json.encode(asyncio.run(drain(int(argv[0])))).decode(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
