"""Which dev stack a process may start: only the default one, never a stack named elsewhere."""

from pathlib import Path

from app.dev import stack
from app.dev.workers import free_port


def test_brokers_on_other_ports_are_only_looked_at_never_started(tmp_path: Path) -> None:
    # Given broker URLs on ports where nothing listens
    kafka, amqp = free_port(), free_port()
    # When the test tooling asks for the stack of those URLs
    statuses = stack.up_if_default(
        tmp_path / "dev",
        tmp_path / "cache",
        f"kafka://127.0.0.1:{kafka}",
        f"amqp://guest:guest@127.0.0.1:{amqp}/",
        say=lambda _message: None,
    )
    # Then it reports both as stopped on those ports and started nothing
    assert [(s.name, s.address, s.running) for s in statuses] == [
        ("kafka", f"127.0.0.1:{kafka}", False),
        ("rabbitmq", f"127.0.0.1:{amqp}", False),
    ]
    assert not (tmp_path / "dev").exists()
