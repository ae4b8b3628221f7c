"""A single-node Apache Kafka 3.9.1 (KRaft, broker+controller) from Maven Central jars."""

from __future__ import annotations

import base64
import hashlib
import shutil
import uuid
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError

from app.dev import process
from app.dev.service import (
    HOST,
    Daemon,
    DevStackError,
    Ports,
    ServiceStatus,
    base_env,
    ensure_answers,
    inspect,
    launch,
    owner,
    report_down,
    require_free,
    run,
    run_coroutine,
    wait_ready,
)

KAFKA_VERSION = "3.9.1"
HEAP = ("-Xms256m", "-Xmx512m")
MAIN_CLASS = "kafka.Kafka"


def daemon(home: Path, ports: Ports) -> Daemon:
    """The broker process under home/kafka."""
    return Daemon("kafka", home / "kafka", ports.kafka, MAIN_CLASS)


def data_dir(workdir: Path) -> Path:
    """The broker's log dirs: every topic's records (`dev reset` deletes them)."""
    return workdir / "data"


def status(home: Path, ports: Ports) -> ServiceStatus:
    """Whether a broker answers on the Kafka port, and whether we started it."""
    return inspect(daemon(home, ports))


def up(home: Path, cache: Path, ports: Ports, say: Callable[[str], None]) -> ServiceStatus:
    """Start the broker unless one already runs; resolve jars and format storage first."""
    kafka = daemon(home, ports)
    current = inspect(kafka)
    if current.running:
        say(f"kafka: already running on {kafka.address} ({owner(current)})")
        return ensure_answers(current, _answers(ports.kafka), "the Kafka protocol")
    if current.pid is not None:
        say(f"kafka: pid {current.pid} runs but {kafka.address} is closed; waiting")
        return wait_ready(kafka, current.pid, [MAIN_CLASS], _answers(ports.kafka))
    require_free("kafka", ports.kafka_controller)
    java = _require("java", "a Java 17+ runtime (apt-get install openjdk-17-jre-headless)")
    libs = ensure_jars(cache, say)
    config = _write_config(kafka.workdir, ports)
    _format_once(java, libs, config, kafka.workdir)
    say(f"kafka: starting Kafka {KAFKA_VERSION} on {kafka.address} (log {kafka.log_file})")
    argv = _start_argv(java, libs, kafka.workdir, config)
    return launch(kafka, argv, base_env(), _answers(ports.kafka))


def down(home: Path, ports: Ports, say: Callable[[str], None]) -> ServiceStatus:
    """Stop the broker if we started it; leave any other broker alone."""
    kafka = daemon(home, ports)
    pid = process.stop(kafka.pid_file, kafka.marker)
    return report_down(inspect(kafka), pid, say)


def ensure_jars(cache: Path, say: Callable[[str], None]) -> Path:
    """Copy the broker's jars from Maven into the cache once; return the libs directory."""
    root = cache / f"kafka-{KAFKA_VERSION}"
    libs, marker = root / "libs", root / "libs" / ".resolved"
    pom = _packaged("pom.xml")
    digest = hashlib.sha256(pom.encode()).hexdigest()
    with process.locked(root / ".lock"):
        if marker.is_file() and marker.read_text().strip() == digest:
            return libs
        mvn = _require("mvn", "Apache Maven (apt-get install maven)")
        say(f"kafka: resolving Kafka {KAFKA_VERSION} jars with Maven into {libs}")
        shutil.rmtree(libs, ignore_errors=True)
        (root / "pom.xml").write_text(pom)
        argv = [mvn, "-B", "-q", "-Dstyle.color=never", "-f", str(root / "pom.xml")]
        argv.append("dependency:copy-dependencies")
        run(argv, "resolving the Kafka jars", root / "mvn.log")
        if not (libs / f"kafka_2.13-{KAFKA_VERSION}.jar").is_file():
            raise DevStackError(f"Maven finished but {libs} has no kafka_2.13-{KAFKA_VERSION}.jar")
        marker.write_text(f"{digest}\n")
    return libs


def _write_config(workdir: Path, ports: Ports) -> Path:
    """Write server.properties (absolute log.dirs, the ports) and log4j.properties."""
    overrides = {
        "log.dirs": str(data_dir(workdir).resolve()),
        "controller.quorum.voters": f"1@{HOST}:{ports.kafka_controller}",
        "listeners": f"PLAINTEXT://{HOST}:{ports.kafka},CONTROLLER://{HOST}:{ports.kafka_controller}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{ports.kafka}",
    }
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "log4j.properties").write_text(_packaged("log4j.properties"))
    config = workdir / "server.properties"
    config.write_text(render_properties(_packaged("server.properties"), overrides))
    return config


def render_properties(template: str, overrides: dict[str, str]) -> str:
    """Replace the values of the given keys in a .properties text (appending missing keys)."""
    lines = []
    for line in template.splitlines():
        key = line.partition("=")[0].strip()
        lines.append(f"{key}={overrides[key]}" if key in overrides else line)
    present = {line.partition("=")[0] for line in lines}
    lines += [f"{key}={value}" for key, value in overrides.items() if key not in present]
    return "\n".join(lines) + "\n"


def _format_once(java: str, libs: Path, config: Path, workdir: Path) -> None:
    """Format the data directory with the home's cluster id unless already formatted."""
    if (data_dir(workdir) / "meta.properties").is_file():
        return
    id_file = workdir / "cluster.id"
    if not id_file.is_file():
        id_file.write_text(f"{new_cluster_id()}\n")
    cluster_id = id_file.read_text().strip()
    log4j = f"-Dlog4j.configuration=file:{(workdir / 'log4j.properties').resolve()}"
    argv = [java, log4j, "-cp", f"{libs}/*", "kafka.tools.StorageTool", "format"]
    argv += ["-t", cluster_id, "-c", str(config)]
    run(argv, "formatting the Kafka storage", workdir / "format.log")


def new_cluster_id() -> str:
    """A random Kafka cluster id, as `kafka-storage.sh random-uuid` makes it."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _start_argv(java: str, libs: Path, workdir: Path, config: Path) -> list[str]:
    """The java command line of the broker."""
    log4j = (workdir / "log4j.properties").resolve()
    return [
        java, *HEAP, "-Djava.awt.headless=true", f"-Dlog4j.configuration=file:{log4j}",
        f"-XX:ErrorFile={workdir.resolve()}/hs_err_pid%p.log",
        "-cp", f"{libs.resolve()}/*", MAIN_CLASS, str(config.resolve()),
    ]  # fmt: skip


def _answers(port: int) -> Callable[[], bool]:
    """A probe that holds once the broker on port serves metadata with a controller."""
    return lambda: run_coroutine(metadata_ready(f"{HOST}:{port}"))


async def metadata_ready(bootstrap: str) -> bool:
    """Tell whether the broker answers a metadata request naming a broker and a controller."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await client.bootstrap()
        return bool(client.cluster.brokers()) and client.cluster.controller is not None
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        await client.close()


def _packaged(name: str) -> str:
    """The text of a file shipped in app/dev/kafka."""
    return resources.files("app.dev").joinpath("kafka_config", name).read_text()


def _require(program: str, what: str) -> str:
    """Return the path of program on PATH, or raise naming what to install."""
    found = shutil.which(program)
    if found is None:
        raise DevStackError(f"`{program}` not found on PATH: the dev Kafka needs {what}")
    return found
