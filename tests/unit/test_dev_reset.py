"""`distgate dev reset`: the command line, and its refusal to touch brokers another home runs."""

from collections.abc import Callable
from pathlib import Path

import pytest

from app import cli
from app.dev import stack
from app.dev.stack import DevStackError, Ports, ServiceStatus


def stopped(name: str) -> ServiceStatus:
    return ServiceStatus(name, "127.0.0.1:1", False, False, None, "stopped")


def test_dev_reset_resets_the_stack_of_the_settings_home_and_ports(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given settings with their own data dir and Kafka and AMQP ports
    monkeypatch.setenv("DISTGATE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DISTGATE_KAFKA_URL", "kafka://127.0.0.1:29092")
    monkeypatch.setenv("DISTGATE_AMQP_URL", "amqp://guest:guest@127.0.0.1:25682/")
    calls: list[tuple[Path, Ports]] = []

    def reset(home: Path, _say: Callable[[str], None], *, ports: Ports) -> list[ServiceStatus]:
        calls.append((home, ports))
        return [stopped("kafka"), stopped("rabbitmq")]

    monkeypatch.setattr(stack, "reset", reset)
    # When `distgate dev reset` runs
    code = cli.main(["dev", "reset"])
    # Then the stack under the data dir, on the settings' ports, is reset and said to be stopped
    assert code == 0
    assert calls == [(tmp_path / "dev", Ports(29092, 29093, 25682, 25683, 25684))]
    assert capsys.readouterr().out.splitlines() == [
        "kafka     127.0.0.1:1      stopped",
        "rabbitmq  127.0.0.1:1      stopped",
    ]


def test_reset_refuses_brokers_another_home_started_and_deletes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given a home with data, and a Kafka on its port that another home started
    data = tmp_path / "kafka" / "data"
    data.mkdir(parents=True)
    foreign = ServiceStatus("kafka", "127.0.0.1:9092", True, False, None, "not ours")
    monkeypatch.setattr(stack, "status", lambda home, ports: [foreign, stopped("rabbitmq")])
    # When the home's stack is reset
    # Then it refuses, naming the broker, and the data is still there
    with pytest.raises(DevStackError, match=r"kafka on 127.0.0.1:9092: running, but not started"):
        stack.reset(tmp_path, lambda _message: None)
    assert data.is_dir()


def test_a_refused_reset_is_one_line_on_stderr_and_exit_code_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a reset that refuses
    monkeypatch.setenv("DISTGATE_DATA_DIR", str(tmp_path))

    def refuse(home: Path, _say: Callable[[str], None], *, ports: Ports) -> list[ServiceStatus]:
        raise DevStackError("kafka on 127.0.0.1:9092: running, but not started here")

    monkeypatch.setattr(stack, "reset", refuse)
    # When `distgate dev reset` runs
    code = cli.main(["dev", "reset"])
    # Then it says why and exits 2
    assert code == 2
    assert "not started here" in capsys.readouterr().err
