"""`distgate bench`'s knobs: every figure of the workload is a flag with the workload's default."""

import argparse
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from bench.chaos.kinds import KINDS


@dataclass(frozen=True)
class PeakParams:
    """One peak run. Rates are the steady baseline; the burst multiplies all of them."""

    duration: float = 60.0
    skus: int = 20_000
    warehouses: int = 3
    workers: int = 1
    order_rate: float = 10.0
    atp_rate: float = 500.0  # the workload's 50 reads per order placed
    atp_check_rate: float = 50.0  # and 5 checks per order
    wms_rate: float = 50.0
    backorder_rate: float = 2.0
    refill_rate: float = 1.0
    scarce_skus: int = 3
    probe_every: int = 20
    concurrency: int = 32
    burst_factor: float = 5.0
    burst_seconds: float = 10.0
    capacity_seconds: float = 5.0
    order_capacity_seconds: float = 5.0
    order_in_flight: int = 64
    late_ms: float = 10.0
    lines_per_receipt: int = 1
    settle_timeout: float = 120.0
    seed: int = 1
    out: Path | None = None
    chaos: tuple[str, ...] = ()
    chaos_every: float = 30.0
    wms_outage_s: float = 60.0

    def report_config(self) -> dict[str, Any]:
        """The parameters as the report's config table shows them."""
        config = asdict(self)
        config["out"] = str(self.out) if self.out else None
        return config

    @property
    def burst_window(self) -> tuple[float, float]:
        """(from, to) seconds of the burst: centred in the run, never longer than a third."""
        length = min(self.burst_seconds, self.duration / 3) if self.burst_factor > 1 else 0.0
        start = (self.duration - length) / 2
        return start, start + length


HELP = {
    "duration": "seconds of peak load (default 60)",
    "skus": "catalogue size, Zipf-skewed demand (default 20000)",
    "warehouses": "warehouses the catalogue is spread over (default 3)",
    "workers": "distgate workers sharing the load (default 1; 3 with --chaos)",
    "order_rate": "orders/s placed (default 10)",
    "atp_rate": "ATP GETs/s (default 500)",
    "atp_check_rate": "ATP checks/s (default 50)",
    "wms_rate": "WMS receipts/s over AMQP (default 50)",
    "backorder_rate": "orders/s with backorder allowed on the scarce SKUs (default 2)",
    "refill_rate": "receipts/s refilling the scarce SKUs (default 1)",
    "scarce_skus": "SKUs that start with 2 units a warehouse, ordered to backorder (default 3)",
    "probe_every": "every Nth receipt is a probe timed to ATP visibility (default 20)",
    "concurrency": "connections of the capacity loops (default 32)",
    "burst_factor": "rates times this during the burst; 1 for none (default 5)",
    "burst_seconds": "length of the burst in the middle of the run (default 10)",
    "capacity_seconds": "length of each closed-loop capacity run (default 5)",
    "order_capacity_seconds": "length of the closed-loop order capacity run (default 5)",
    "order_in_flight": "orders in flight in the order capacity run (default 64)",
    "late_ms": "an open-loop request sent later than this after its time is late (default 10)",
    "lines_per_receipt": "lines per seed receipt message (default 1: one per position)",
    "settle_timeout": "seconds the final checks wait for state to settle (default 120)",
    "seed": "random seed of the workload (default 1)",
    "out": "report folder (default: a new bench-report-<time> folder here)",
    "chaos": f"faults to inject, comma-separated, each repeatable: {', '.join(KINDS)}",
    "chaos_every": "seconds from one fault to the next (default 30)",
    "wms_outage_s": "seconds a warehouse's WMS is away in a wms-outage fault (default 60)",
}
CHAOS_WORKERS = 3  # --workers when --chaos is given without it: one can die, two carry on


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One --flag per parameter, typed like its default."""
    defaults = PeakParams()
    for spec in fields(PeakParams):
        flag = "--" + spec.name.replace("_", "-")
        kind = Path if spec.name == "out" else type(getattr(defaults, spec.name))
        parser.add_argument(
            flag,
            type=parse_kinds if spec.name == "chaos" else _positive(kind),
            # None: not given, so that --chaos can pick its own worker count
            default=None if spec.name == "workers" else getattr(defaults, spec.name),
            help=HELP[spec.name],
            dest=spec.name,
        )


def from_args(args: argparse.Namespace) -> PeakParams:
    """The parameters parsed by `add_arguments`; --chaos alone runs on three workers."""
    values = {spec.name: getattr(args, spec.name) for spec in fields(PeakParams)}
    if values["workers"] is None:
        values["workers"] = CHAOS_WORKERS if values["chaos"] else PeakParams.workers
    return PeakParams(**values)


def parse_kinds(text: str) -> tuple[str, ...]:
    """`kill-worker,poison,kill-worker` as a tuple of known fault kinds, in that order."""
    kinds = tuple(kind.strip() for kind in text.split(",") if kind.strip())
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(
            f"unknown fault kinds {', '.join(unknown) or '(none)'}; known: {', '.join(KINDS)}"
        )
    return kinds


def _positive(kind: type) -> Any:
    if kind is Path:
        return Path

    def parse(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, not {text}")
        return value

    parse.__name__ = kind.__name__
    return parse
