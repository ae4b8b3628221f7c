"""Fixtures: the real dev stack (started through `distgate dev up`'s code) and worker processes."""

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.dev import stack
from app.dev.deployments import remove_deployment
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
def deployment(brokers: Settings) -> Iterator[Settings]:
    """The settings of a deployment of this test's own (app id, topics, queue); removed after."""
    settings = brokers.with_overrides(app_id=f"distgate-test-{uuid.uuid4().hex[:8]}")
    yield settings
    run_coroutine(_removed(settings))


@pytest.fixture
def spawn_worker(deployment: Settings, tmp_path: Path) -> Iterator[SpawnWorker]:
    """Start workers of the test's deployment (one consumer group); stop them after."""
    started: list[WorkerProcess] = []

    def spawn(name: str = "w1", *args: str, **extra_env: str) -> WorkerProcess:
        urls = {
            "DISTGATE_KAFKA_URL": deployment.kafka_url,
            "DISTGATE_AMQP_URL": deployment.amqp_url,
        }
        env = worker_env(current_env(), tmp_path / name, deployment.app_id, **(urls | extra_env))
        worker = WorkerProcess(name, env, tmp_path / f"{name}.log", extra_args=list(args))
        worker.start()
        started.append(worker)
        return worker

    yield spawn
    for worker in started:
        worker.kill()


def _quiet(_message: str) -> None:
    pass


async def _removed(settings: Settings) -> bool:
    await remove_deployment(settings.kafka_bootstrap, settings.amqp_url, settings.app_id)
    return True
