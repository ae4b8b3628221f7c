"""The one frozen Settings object, built from the environment; nothing else reads env vars."""

import datetime as dt
import ipaddress
import os
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from agents.runtime.failpoints import parse_failpoints
from agents.runtime.flows import Flow, parse_slas
from app.broker_access import SASL_MECHANISMS, SECURITY_PROTOCOLS, KafkaAccess, TlsFiles
from app.errors import ConfigurationError
from app.logs import LOG_FORMATS, logging_config
from protocols.amqp import WmsQueues
from protocols.topics import Topics

ErpConfirmation = Literal["required", "auto"]
LOG_LEVELS = ("crit", "error", "warn", "info", "debug")
MAX_AGENT_PROCESSES = 64
MAX_DEAD_LETTER_INDEX_KIB = 4 * 1024 * 1024  # 4 GiB
# A worker killed with -9 holds its partitions until its session expires: keep it short.
CONSUMER_SESSION_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Settings:
    """Everything a distgate process is configured with (CONTRACT 1)."""

    kafka_url: str = "kafka://127.0.0.1:9092"
    # May carry a password; amqps:// with ?cafile=... for a private CA.
    amqp_url: str = field(default="amqp://guest:guest@127.0.0.1:5672/", repr=False)
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    data_dir: Path = Path("./var")
    app_id: str = "distgate"
    erp_confirmation: ErpConfirmation = "required"
    api_tokens_file: Path | None = None
    partitions: int = 8
    replication_factor: int = 1
    log_level: str = "info"
    log_format: str = "text"  # or "json": one object per line (app.logs)
    cache_dir: Path = Path.home() / ".cache" / "distgate"
    failpoints: str = ""  # crash-test aid, see agents.runtime.failpoints
    dedupe_days: int = 7  # how long applied upstream ids are remembered (exact dedupe)
    decision_timeout_s: int = 259_200  # an order ERP never decides is cancelled after this
    closed_order_days: int = 30  # closed orders leave the API's mirror after this (0: at once)
    # memory of each dead-letter index (API process, `dlq list`): the newest letters that fit
    dead_letter_index_kib: int = 32 * 1024
    timezone: str = "UTC"  # IANA name: where "today" is for promise dates
    agent_processes: int = 1
    max_long_polls: int = 1000  # per API process: `wait_for` reads held at once
    max_syncs: int = 256  # per API process: read-your-writes barriers (each asks Kafka) at once
    http_body_timeout_s: float = 10.0  # to send a request's body once its headers are in
    # To send a request's headers (an idle keep-alive connection too): longer than clients'
    # own keep-alive (aiohttp's 15 s), so the server is never the one to close first.
    http_idle_timeout_s: float = 75.0
    flow_slas_spec: str = ""  # `flow=seconds,...` over the defaults (agents.runtime.flows)
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str = "PLAIN"
    kafka_username: str = ""
    kafka_password: str = field(default="", repr=False)
    kafka_ca_file: Path | None = None
    kafka_cert_file: Path | None = None
    kafka_key_file: Path | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Read DISTGATE_* variables, falling back to the contract's defaults."""
        env = os.environ if environ is None else environ
        fields: dict[str, Any] = {}
        for name, (variable, parse) in _VARIABLES.items():
            raw = _secret_file(env, variable) if name in _SECRETS else None
            raw = env.get(variable) if raw is None else raw
            if raw is not None and raw != "":
                fields[name] = _parse(variable, raw, parse)
        cache = env.get("XDG_CACHE_HOME")
        if "cache_dir" not in fields and cache:
            fields["cache_dir"] = Path(cache) / "distgate"
        return cls(**fields).validated()

    def with_overrides(self, **changes: Any) -> "Settings":
        """Return a copy with command-line flags applied."""
        given = {key: value for key, value in changes.items() if value is not None}
        return replace(self, **given).validated()

    def validated(self) -> "Settings":
        """Check cross-field rules; raise ConfigurationError with a clear message."""
        if not 0 < self.http_port < 65536:
            raise ConfigurationError(f"HTTP port {self.http_port} is outside 1..65535")
        if self.erp_confirmation not in ("required", "auto"):
            raise ConfigurationError(
                f"DISTGATE_ERP_CONFIRMATION must be 'required' or 'auto', "
                f"not {self.erp_confirmation!r}"
            )
        if not 1 <= self.dedupe_days <= 3650:
            raise ConfigurationError(
                f"DISTGATE_DEDUPE_DAYS must be 1..3650, not {self.dedupe_days}"
            )
        if self.decision_timeout_s < 1:
            raise ConfigurationError(
                f"DISTGATE_DECISION_TIMEOUT_S must be at least 1, not {self.decision_timeout_s}"
            )
        if not 0 <= self.closed_order_days <= 3650:
            raise ConfigurationError(
                f"DISTGATE_CLOSED_ORDER_DAYS must be 0..3650, not {self.closed_order_days}"
            )
        if not 64 <= self.dead_letter_index_kib <= MAX_DEAD_LETTER_INDEX_KIB:
            raise ConfigurationError(
                f"DISTGATE_DEAD_LETTER_INDEX_KIB must be 64..{MAX_DEAD_LETTER_INDEX_KIB}, "
                f"not {self.dead_letter_index_kib}"
            )
        _ = self.zone  # a bad name is refused at start, not at the first promise date
        if not 1 <= self.partitions <= 256:
            raise ConfigurationError(f"partitions must be 1..256, not {self.partitions}")
        if not 1 <= self.agent_processes <= MAX_AGENT_PROCESSES:
            raise ConfigurationError(
                f"DISTGATE_AGENT_PROCESSES (--agents) must be 1..{MAX_AGENT_PROCESSES}, "
                f"not {self.agent_processes}"
            )
        if self.max_long_polls < 1 or self.max_syncs < 1:
            raise ConfigurationError(
                "DISTGATE_MAX_LONG_POLLS and DISTGATE_MAX_SYNCS must be at least 1"
            )
        for variable, seconds in (
            ("DISTGATE_HTTP_BODY_TIMEOUT_S", self.http_body_timeout_s),
            ("DISTGATE_HTTP_IDLE_TIMEOUT_S", self.http_idle_timeout_s),
        ):
            if not 0 < seconds <= 3600:
                raise ConfigurationError(f"{variable} must be in (0, 3600], not {seconds}")
        if self.log_format not in LOG_FORMATS:
            raise ConfigurationError(
                f"DISTGATE_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, "
                f"not {self.log_format!r}"
            )
        if self.log_level not in LOG_LEVELS:
            raise ConfigurationError(
                f"log level must be one of {LOG_LEVELS}, not {self.log_level!r}"
            )
        for server in self.kafka_bootstrap.split(","):
            host, colon, port = server.rpartition(":") if ":" in server else (server, "", "")
            if not host or (colon and not port.isdigit()):
                raise ConfigurationError(
                    f"DISTGATE_KAFKA_URL {self.kafka_url!r}: {server!r} is not host:port "
                    "(several brokers: kafka://host1:9092;host2:9092)"
                )
        try:
            parse_failpoints(self.failpoints)
            parse_slas(self.flow_slas_spec)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from exc
        self._validated_kafka()
        return self

    def _validated_kafka(self) -> None:
        if self.kafka_security_protocol not in SECURITY_PROTOCOLS:
            raise ConfigurationError(
                f"DISTGATE_KAFKA_SECURITY_PROTOCOL must be one of {', '.join(SECURITY_PROTOCOLS)}, "
                f"not {self.kafka_security_protocol!r}"
            )
        if self.kafka_sasl_mechanism not in SASL_MECHANISMS:
            raise ConfigurationError(
                f"DISTGATE_KAFKA_SASL_MECHANISM must be one of {', '.join(SASL_MECHANISMS)}, "
                f"not {self.kafka_sasl_mechanism!r}"
            )
        access = self.kafka
        if access.uses_sasl and not (self.kafka_username and self.kafka_password):
            raise ConfigurationError(
                f"DISTGATE_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "DISTGATE_KAFKA_USERNAME and DISTGATE_KAFKA_PASSWORD (or its _FILE)"
            )
        files = {
            "DISTGATE_KAFKA_CA_FILE": self.kafka_ca_file,
            "DISTGATE_KAFKA_CERT_FILE": self.kafka_cert_file,
            "DISTGATE_KAFKA_KEY_FILE": self.kafka_key_file,
        }
        given = [name for name, path in files.items() if path is not None]
        if given and not access.uses_tls:
            raise ConfigurationError(
                f"{', '.join(given)} set, but DISTGATE_KAFKA_SECURITY_PROTOCOL="
                f"{self.kafka_security_protocol} does not use TLS (SSL or SASL_SSL)"
            )
        if (self.kafka_cert_file is None) != (self.kafka_key_file is None):
            raise ConfigurationError(
                "DISTGATE_KAFKA_CERT_FILE and DISTGATE_KAFKA_KEY_FILE go together (mutual TLS)"
            )
        for name, path in files.items():
            if path is not None and not path.is_file():
                raise ConfigurationError(f"{name}={str(path)!r}: no such file")

    @property
    def zone(self) -> dt.tzinfo:
        """The business day's time zone (`DISTGATE_TIMEZONE`)."""
        if self.timezone == "UTC":
            return dt.UTC  # needs no time zone database
        try:
            return zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ConfigurationError(
                f"DISTGATE_TIMEZONE={self.timezone!r} is not an IANA time zone name "
                "(e.g. UTC, Europe/Berlin, America/Chicago)"
            ) from exc

    @property
    def kafka(self) -> KafkaAccess:
        """How every Kafka client of this process reaches the cluster."""
        return KafkaAccess(
            self.kafka_bootstrap,
            protocol=self.kafka_security_protocol,  # type: ignore[arg-type]  # validated
            mechanism=self.kafka_sasl_mechanism,  # type: ignore[arg-type]
            username=self.kafka_username,
            password=self.kafka_password,
            tls=TlsFiles(self.kafka_ca_file, self.kafka_cert_file, self.kafka_key_file),
        )

    @property
    def kafka_bootstrap(self) -> str:
        """The bootstrap servers as aiokafka wants them (host:port,...)."""
        hosts = self.kafka_url.split("://", 1)[-1]
        return ",".join(part.strip("/") for part in hosts.split(";"))

    @property
    def topics(self) -> Topics:
        """The Kafka topics of this deployment, its own named from the app id."""
        return Topics.for_app(self.app_id)

    @property
    def wms_queues(self) -> WmsQueues:
        """The AMQP queues and dead-letter exchange of this deployment, named from the app id."""
        return WmsQueues.for_app(self.app_id)

    @property
    def http_host_is_loopback(self) -> bool:
        """True when the API listens only on this machine."""
        if self.http_host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.http_host).is_loopback
        except ValueError:
            return False

    @property
    def flow_slas(self) -> dict[Flow, float]:
        """Each flow's SLA in seconds: the defaults, with DISTGATE_FLOW_SLAS over them."""
        return parse_slas(self.flow_slas_spec)

    def worker_logging(self, process: str) -> dict[str, Any]:
        """The logging arguments of a process's mode Worker: level, and JSON lines if asked."""
        return {
            "loglevel": self.log_level,
            "logging_config": logging_config(self.log_format, self.log_level, process),
        }

    @property
    def dev_home(self) -> Path:
        """Where the local dev stack keeps its data, logs and pid files."""
        return self.data_dir / "dev"


def _secret_file(env: Mapping[str, str], variable: str) -> str | None:
    """A secret's value from the file `<variable>_FILE` names (mounted as Kubernetes does)."""
    path = env.get(f"{variable}_FILE")
    if not path:
        return None
    if env.get(variable):
        raise ConfigurationError(f"set {variable} or {variable}_FILE, not both")
    try:
        return Path(path).read_text().rstrip("\r\n")
    except OSError as exc:
        raise ConfigurationError(f"{variable}_FILE={path!r}: {exc.strerror}") from exc


def _parse(variable: str, raw: str, parse: type) -> Any:
    try:
        return parse(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{variable}={raw!r} is not a valid {parse.__name__}") from exc


_VARIABLES: dict[str, tuple[str, type]] = {
    "kafka_url": ("DISTGATE_KAFKA_URL", str),
    "amqp_url": ("DISTGATE_AMQP_URL", str),
    "http_host": ("DISTGATE_HTTP_HOST", str),
    "http_port": ("DISTGATE_HTTP_PORT", int),
    "data_dir": ("DISTGATE_DATA_DIR", Path),
    "app_id": ("DISTGATE_APP_ID", str),
    "erp_confirmation": ("DISTGATE_ERP_CONFIRMATION", str),
    "api_tokens_file": ("DISTGATE_API_TOKENS_FILE", Path),
    "partitions": ("DISTGATE_PARTITIONS", int),
    "replication_factor": ("DISTGATE_REPLICATION_FACTOR", int),
    "log_level": ("DISTGATE_LOG_LEVEL", str),
    "log_format": ("DISTGATE_LOG_FORMAT", str),
    "cache_dir": ("DISTGATE_CACHE_DIR", Path),
    "failpoints": ("DISTGATE_FAILPOINTS", str),
    "dedupe_days": ("DISTGATE_DEDUPE_DAYS", int),
    "decision_timeout_s": ("DISTGATE_DECISION_TIMEOUT_S", int),
    "closed_order_days": ("DISTGATE_CLOSED_ORDER_DAYS", int),
    "dead_letter_index_kib": ("DISTGATE_DEAD_LETTER_INDEX_KIB", int),
    "timezone": ("DISTGATE_TIMEZONE", str),
    "agent_processes": ("DISTGATE_AGENT_PROCESSES", int),
    "max_long_polls": ("DISTGATE_MAX_LONG_POLLS", int),
    "max_syncs": ("DISTGATE_MAX_SYNCS", int),
    "http_body_timeout_s": ("DISTGATE_HTTP_BODY_TIMEOUT_S", float),
    "http_idle_timeout_s": ("DISTGATE_HTTP_IDLE_TIMEOUT_S", float),
    "flow_slas_spec": ("DISTGATE_FLOW_SLAS", str),
    "kafka_security_protocol": ("DISTGATE_KAFKA_SECURITY_PROTOCOL", str),
    "kafka_sasl_mechanism": ("DISTGATE_KAFKA_SASL_MECHANISM", str),
    "kafka_username": ("DISTGATE_KAFKA_USERNAME", str),
    "kafka_password": ("DISTGATE_KAFKA_PASSWORD", str),
    "kafka_ca_file": ("DISTGATE_KAFKA_CA_FILE", Path),
    "kafka_cert_file": ("DISTGATE_KAFKA_CERT_FILE", Path),
    "kafka_key_file": ("DISTGATE_KAFKA_KEY_FILE", Path),
}
# Readable from a file named by `<variable>_FILE` instead (mounted secrets).
_SECRETS = frozenset({"kafka_url", "amqp_url", "kafka_username", "kafka_password"})
