"""A Kafka broker that only lets clients in over SASL_SSL, as a managed Kafka does.

Its own certificate authority, a server certificate for 127.0.0.1,
SASL PLAIN and SCRAM-SHA-512 users, and the dev stack's jars. A PLAINTEXT listener stays
for the broker's own controller traffic only; the tests never give it to distgate.
"""

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError

from app.broker_access import KafkaAccess, TlsFiles
from app.dev import kafka
from app.dev.service import run_coroutine
from app.dev.workers import free_port
from tests.support.certificates import server_certificate

PLAIN_USER = ("alice", "alice-secret")
SCRAM_USER = ("bob", "bob-secret")
START_TIMEOUT = 90.0


@dataclass(frozen=True)
class SecureKafka:
    """Where the broker listens over SASL_SSL, and the CA that signed its certificate."""

    port: int
    ca_file: Path

    @property
    def url(self) -> str:
        return f"kafka://127.0.0.1:{self.port}"

    def access(self, mechanism: str, user: tuple[str, str]) -> KafkaAccess:
        return KafkaAccess(
            f"127.0.0.1:{self.port}",
            protocol="SASL_SSL",
            mechanism=mechanism,  # type: ignore[arg-type]
            username=user[0],
            password=user[1],
            tls=TlsFiles(self.ca_file),
        )


@contextmanager
def secure_kafka(workdir: Path, cache: Path) -> Iterator[SecureKafka]:
    """Start the broker under workdir; kill it on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    ca_file, keystore = _certificates(workdir)
    ports = free_port(), free_port(), free_port()
    config = _config(workdir, keystore, *ports)
    java, libs = "java", kafka.ensure_jars(cache, lambda _message: None)
    classpath = f"{libs.resolve()}/*"
    log4j = f"-Dlog4j.configuration=file:{(workdir / 'log4j.properties').resolve()}"
    scram = f"SCRAM-SHA-512=[name={SCRAM_USER[0]},password={SCRAM_USER[1]}]"
    format_argv = [java, log4j, "-cp", classpath, "kafka.tools.StorageTool", "format"]
    format_argv += ["-t", kafka.new_cluster_id(), "-c", str(config), "--add-scram", scram]
    subprocess.run(format_argv, check=True, capture_output=True)
    log = (workdir / "kafka.log").open("wb")
    broker = subprocess.Popen(
        [java, "-Xmx384m", log4j, "-cp", classpath, "kafka.Kafka", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        secured = SecureKafka(ports[1], ca_file)
        _wait_answering(secured, broker, workdir / "kafka.log")
        yield secured
    finally:
        broker.kill()
        broker.wait()
        log.close()


def _certificates(workdir: Path) -> tuple[Path, Path]:
    """The CA, and Kafka's PEM keystore: the broker's PKCS#8 key, then its chain."""
    made = server_certificate(workdir)
    keystore = workdir / "keystore.pem"
    keystore.write_text(made.key_file.read_text() + made.cert_file.read_text())
    return made.ca_file, keystore


def _config(workdir: Path, keystore: Path, plain: int, secured: int, controller: int) -> Path:
    jaas_plain = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'user_{PLAIN_USER[0]}="{PLAIN_USER[1]}";'
    )
    overrides = {
        "log.dirs": str((workdir / "data").resolve()),
        "controller.quorum.voters": f"1@127.0.0.1:{controller}",
        "listeners": f"PLAINTEXT://127.0.0.1:{plain},SASL_SSL://127.0.0.1:{secured},"
        f"CONTROLLER://127.0.0.1:{controller}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{plain},SASL_SSL://127.0.0.1:{secured}",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,"
        "SASL_SSL:SASL_SSL",
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-512",
        "listener.name.sasl_ssl.plain.sasl.jaas.config": jaas_plain,
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": (
            "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        ),
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(keystore.resolve()),
    }
    template = resources.files("app.dev").joinpath("kafka_config", "server.properties")
    (workdir / "log4j.properties").write_text(
        resources.files("app.dev").joinpath("kafka_config", "log4j.properties").read_text()
    )
    config = workdir / "server.properties"
    config.write_text(kafka.render_properties(template.read_text(), overrides))
    return config


def _wait_answering(secured: SecureKafka, broker: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if broker.poll() is not None:
            raise RuntimeError(f"the SASL_SSL broker exited: {log.read_text()[-3000:]}")
        if run_coroutine(_answers(secured.access("SCRAM-SHA-512", SCRAM_USER))):
            return
        time.sleep(1)
    raise RuntimeError(f"the SASL_SSL broker did not answer: {log.read_text()[-3000:]}")


async def _answers(access: KafkaAccess) -> bool:
    client = AIOKafkaClient(**access.client_options(), request_timeout_ms=5000)
    try:
        await client.bootstrap()
        return bool(client.cluster.brokers())
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        await client.close()
