"""One injector per fault kind: do the harm, then lift it the way an operator (or k8s) would.

Each sets the fault's target and, once the harm is lifted (process started again, broker
back, WMS online), its `ended_s`; recovery is measured afterwards, by the caller.
"""

import asyncio
import signal
from collections.abc import Awaitable, Callable

from app.settings import CONSUMER_SESSION_TIMEOUT_S
from bench.chaos import brokers, poison, poison_send
from bench.chaos.cluster import Cluster
from bench.chaos.schedule import Fault

SESSION_MARGIN_S = 5.0  # a pause this much past the consumer session timeout
POISON_ROUNDS = 3

Injector = Callable[[Cluster, Fault], Awaitable[None]]


async def kill_worker(cluster: Cluster, fault: Fault) -> None:
    """kill -9 a whole worker and start it again, or one process its supervisor restarts."""
    worker = cluster.pick_worker()
    children = sorted(worker.children())
    choice = cluster.rng.choice(["whole", *children])
    if choice == "whole":
        fault.target = worker.name
        worker.kill()
        await cluster.restart(worker)
    else:
        fault.target = f"{worker.name}/{choice}"
        worker.kill_child(choice)
        await worker.wait_ready()
    fault.ended_s = cluster.now()


async def scale(cluster: Cluster, fault: Fault) -> None:
    """Scale in to one worker (SIGTERM, as a scale-in does), then out again to all of them."""
    others = cluster.workers[1:]
    fault.target = f"{len(cluster.workers)} -> 1 -> {len(cluster.workers)} workers"
    for worker in others:
        await cluster.stop(worker)
    fault.notes["scaled_in_s"] = round(cluster.now(), 2)
    for worker in others:
        worker.start()
    for worker in others:
        await worker.wait_ready()
    fault.ended_s = cluster.now()


async def pause_worker(cluster: Cluster, fault: Fault) -> None:
    """SIGSTOP every process of a worker past the session timeout, so it is fenced; SIGCONT."""
    worker = cluster.pick_worker()
    pause = CONSUMER_SESSION_TIMEOUT_S + SESSION_MARGIN_S
    fault.target = f"{worker.name} for {pause:g} s"
    cluster.signal_all(worker, signal.SIGSTOP)
    try:
        await asyncio.sleep(pause)
    finally:
        cluster.signal_all(worker, signal.SIGCONT)
    fault.ended_s = cluster.now()


async def restart_kafka(cluster: Cluster, fault: Fault) -> None:
    """kill -9 the dev stack's Kafka, then start it again."""
    fault.target = f"kafka pid {brokers.crash(cluster.settings, 'kafka')}"
    await brokers.start(cluster.settings)
    fault.ended_s = cluster.now()


async def restart_rabbitmq(cluster: Cluster, fault: Fault) -> None:
    """kill -9 RabbitMQ (an abrupt stop: no clean shutdown), then start it again."""
    fault.target = f"rabbitmq pid {brokers.crash(cluster.settings, 'rabbitmq')}"
    await brokers.start(cluster.settings)
    fault.ended_s = cluster.now()


async def wms_outage(cluster: Cluster, fault: Fault) -> None:
    """One warehouse's WMS takes no commands and confirms nothing for a while."""
    warehouse = cluster.rng.choice(sorted(cluster.fleet.wms))
    fault.target = f"{warehouse} for {cluster.outage_s:g} s"
    sim = cluster.fleet.wms[warehouse]
    await sim.pause()
    try:
        await asyncio.sleep(cluster.outage_s)
    finally:
        await sim.resume()
    fault.ended_s = cluster.now()


async def poison_inputs(cluster: Cluster, fault: Fault) -> None:
    """Hostile messages on every input; kept for the accounting (dead-lettered or refused)."""
    warehouse = sorted(cluster.fleet.wms)[0]
    batch = f"{cluster.tag}{len(cluster.poisoned)}"
    poisons = list(poison.generate(batch, POISON_ROUNDS, warehouse))
    fault.target = f"{len(poisons)} messages"
    settings = cluster.settings
    api = cluster.pick_worker().url
    sent = await poison_send.send(
        poisons, settings.amqp_url, settings.kafka_bootstrap, api, warehouse
    )
    cluster.poisoned.append(sent)
    fault.ended_s = cluster.now()


INJECTORS: dict[str, Injector] = {
    "kill-worker": kill_worker,
    "scale": scale,
    "pause-worker": pause_worker,
    "restart-kafka": restart_kafka,
    "restart-rabbitmq": restart_rabbitmq,
    "wms-outage": wms_outage,
    "poison": poison_inputs,
}
