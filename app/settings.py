"""The one frozen Settings object, built from the environment; nothing else reads env vars."""

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from yarl import URL

from agents.runtime.failpoints import parse_failpoints
from app.errors import ConfigurationError
from protocols.amqp import WmsQueues
from protocols.topics import Topics

ErpConfirmation = Literal["required", "auto"]
LOG_LEVELS = ("crit", "error", "warn", "info", "debug")
MAX_AGENT_PROCESSES = 64
# A worker killed with -9 holds its partitions until its session expires: keep it short.
CONSUMER_SESSION_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Settings:
    """Everything a distgate process is configured with (CONTRACT 1)."""

    kafka_url: str = "kafka://127.0.0.1:9092"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    data_dir: Path = Path("./var")
    app_id: str = "distgate"
    erp_confirmation: ErpConfirmation = "required"
    api_tokens_file: Path | None = None
    partitions: int = 8
    replication_factor: int = 1
    log_level: str = "info"
    cache_dir: Path = Path.home() / ".cache" / "distgate"
    failpoints: str = ""  # crash-test aid, see agents.runtime.failpoints
    dedupe_days: int = 7  # how long applied upstream ids are remembered (exact dedupe)
    agent_processes: int = 1

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Read DISTGATE_* variables, falling back to the contract's defaults."""
        env = os.environ if environ is None else environ
        fields: dict[str, Any] = {}
        for name, (variable, parse) in _VARIABLES.items():
            raw = env.get(variable)
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
        if not 1 <= self.partitions <= 256:
            raise ConfigurationError(f"partitions must be 1..256, not {self.partitions}")
        if not 1 <= self.agent_processes <= MAX_AGENT_PROCESSES:
            raise ConfigurationError(
                f"DISTGATE_AGENT_PROCESSES (--agents) must be 1..{MAX_AGENT_PROCESSES}, "
                f"not {self.agent_processes}"
            )
        if self.log_level not in LOG_LEVELS:
            raise ConfigurationError(
                f"log level must be one of {LOG_LEVELS}, not {self.log_level!r}"
            )
        if not URL(self.kafka_url).host:
            raise ConfigurationError(f"DISTGATE_KAFKA_URL {self.kafka_url!r} names no host")
        try:
            parse_failpoints(self.failpoints)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from exc
        return self

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
    def dev_home(self) -> Path:
        """Where the local dev stack keeps its data, logs and pid files."""
        return self.data_dir / "dev"


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
    "cache_dir": ("DISTGATE_CACHE_DIR", Path),
    "failpoints": ("DISTGATE_FAILPOINTS", str),
    "dedupe_days": ("DISTGATE_DEDUPE_DAYS", int),
    "agent_processes": ("DISTGATE_AGENT_PROCESSES", int),
}
