"""What an agents process tells the API process: a small JSON file it replaces every half second.

The file lives in the agents process's own data dir. It carries the process's readiness
report, the partitions it is assigned, and a snapshot of its Prometheus counters, so
the API process serves `/readyz` and `/metrics` for the whole worker without a socket
between them. The API process trusts a file only while it is fresh and its pid lives.
"""

import os
from pathlib import Path

import msgspec
from prometheus_client import CollectorRegistry

from app.readiness import Progress

STATUS_FILE = "status.json"
REPORT_EVERY = 0.5  # seconds between two writes
STALE_AFTER = 5.0  # seconds without a write after which the API stops trusting a file


class Sample(msgspec.Struct, frozen=True):
    """One Prometheus sample: its full name (with `_total`, `_bucket`...), labels and value."""

    name: str
    labels: dict[str, str]
    value: float


class MetricFamily(msgspec.Struct, frozen=True):
    """One instrument of an agents process's registry, as exposed."""

    name: str
    documentation: str
    type: str
    samples: list[Sample]


class AgentsStatus(msgspec.Struct, frozen=True):
    """One agents process's last report."""

    pid: int
    at: float  # time.time() of the write
    progress: list[Progress]
    assigned: list[str]  # "topic/partition" this process consumes now
    metrics: list[MetricFamily]


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AgentsStatus)


def agents_dir(data_dir: Path, index: int) -> Path:
    """Agents process `index`'s own data dir (RocksDB locks are per directory)."""
    return data_dir / f"agents-{index}"


def bridge_status_path(data_dir: Path) -> Path:
    """Where the bridge process reports, under the worker's data dir."""
    return data_dir / "bridge" / STATUS_FILE


def status_path(data_dir: Path, index: int) -> Path:
    """Where agents process `index` reports, under the worker's data dir."""
    return agents_dir(data_dir, index) / STATUS_FILE


def write_status(path: Path, status: AgentsStatus) -> None:
    """Replace the file atomically: a reader sees the old report or the new one, never half."""
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_bytes(_encoder.encode(status))
    partial.replace(path)


def read_status(path: Path) -> AgentsStatus | None:
    """The last report, or None when there is none (yet) or it cannot be read."""
    try:
        return _decoder.decode(path.read_bytes())
    except (OSError, msgspec.DecodeError):
        return None


def snapshot(registry: CollectorRegistry) -> list[MetricFamily]:
    """The registry's samples, without `_created` (a sum of creation times means nothing)."""
    return [
        MetricFamily(
            family.name,
            family.documentation,
            family.type,
            [
                Sample(sample.name, dict(sample.labels), sample.value)
                for sample in family.samples
                if not sample.name.endswith("_created")
            ],
        )
        for family in registry.collect()
    ]
