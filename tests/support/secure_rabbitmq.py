"""A RabbitMQ node that also listens for AMQP over TLS (amqps), with its own CA."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.dev import rabbitmq
from app.dev.service import Ports
from app.dev.workers import free_port
from tests.support.certificates import server_certificate


@dataclass(frozen=True)
class SecureRabbitMQ:
    """The amqps port and the CA that signed the node's certificate."""

    port: int
    ca_file: Path

    @property
    def url(self) -> str:
        """An amqps URL that trusts the node's CA, as a user would write it."""
        return f"amqps://guest:guest@127.0.0.1:{self.port}/?cafile={self.ca_file}"


@contextmanager
def secure_rabbitmq(home: Path) -> Iterator[SecureRabbitMQ]:
    """Start a node under home with a TLS listener; stop it (and its epmd) on exit."""
    made = server_certificate(home)
    amqps = free_port()
    ports = Ports(9092, 9093, free_port(), free_port(), free_port())  # Kafka's are unused here
    tls = (
        f"listeners.ssl.default = 127.0.0.1:{amqps}\n"
        f"ssl_options.cacertfile = {made.ca_file.resolve()}\n"
        f"ssl_options.certfile = {made.cert_file.resolve()}\n"
        f"ssl_options.keyfile = {made.key_file.resolve()}\n"
        "ssl_options.verify = verify_none\n"
    )
    rabbitmq.up(home, ports, _quiet, extra_config=tls)
    try:
        yield SecureRabbitMQ(amqps, made.ca_file)
    finally:
        rabbitmq.down(home, ports, _quiet)


def _quiet(_message: str) -> None:
    pass
