"""Fixtures: the real dev stack (started through `distgate dev up`'s code) and worker processes."""

import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from app.dev import stack
from app.dev.offsets import skip_history
from app.dev.service import run_coroutine
from app.dev.workers import WorkerProcess, current_env, worker_env
from app.settings import Settings


@pytest.fixture(scope="session")
def brokers() -> Settings:
    """Kafka and RabbitMQ where the settings point: reuse the running ones or start them."""
    settings = Settings.from_env()
    ports = stack.ports_for(settings.kafka_bootstrap, settings.amqp_url)
    statuses = stack.up(settings.dev_home, settings.cache_dir, lambda _message: None, ports=ports)
    assert all(status.running for status in statuses), statuses
    return settings


SpawnWorker = Callable[..., WorkerProcess]


@pytest.fixture
def spawn_worker(brokers: Settings, tmp_path: Path) -> Iterator[SpawnWorker]:
    """Start workers of one app id (one consumer group) for this test; stop them after."""
    app_id = f"distgate-test-{uuid.uuid4().hex[:8]}"
    started: list[WorkerProcess] = []
    # A new app id starts at the end of every topic: it would otherwise chew through every
    # earlier run's messages first, and send each earlier Release and Cancel to RabbitMQ again.
    run_coroutine(_done(skip_history(brokers.kafka_bootstrap, app_id, brokers.partitions)))

    def spawn(name: str = "w1", *args: str, **extra_env: str) -> WorkerProcess:
        urls = {"DISTGATE_KAFKA_URL": brokers.kafka_url, "DISTGATE_AMQP_URL": brokers.amqp_url}
        env = worker_env(current_env(), tmp_path / name, app_id, **(urls | extra_env))
        worker = WorkerProcess(name, env, tmp_path / f"{name}.log", extra_args=list(args))
        worker.start()
        started.append(worker)
        return worker

    yield spawn
    for worker in started:
        worker.kill()


def _quiet(_message: str) -> None:
    pass


async def _done(step: Awaitable[None]) -> bool:
    await step
    return True
