"""`python -m bench.bridge`: the WMS bridge's throughput and latency on the dev brokers.

1. Throughput, at least once (each message acked only after Kafka acknowledged it): equal
   backlogs of N receipts drained by a bare aio-pika consume-and-ack loop over a queue of
   the same type and arguments with the same prefetch (the baseline), by the bridge
   alone in its own process, and by a whole worker (bridge plus the stock agent
   projecting what it bridges, in one process), all in the same run. Goal: >= 0.5.
2. Latency: receipts published at 1,000/s; every Nth one is a probe of a new SKU, timed
   from its publish to its first 200 from `GET /v1/atp`. Goal: p99 <= 100 ms.

Each is repeated (default 3 times) and summarised by its median. Each measurement runs a
deployment of its own, with its own queue bound to `wms.events`.
"""

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.wms_bridge import PREFETCH
from app.dev.deployments import remove_deployment
from app.dev.workers import WorkerProcess, current_env, worker_env
from app.settings import Settings
from bench.bridge import load
from bench.common.deployment import declare_deployment
from bench.common.stats import latency_summary, ratio, spread

FORWARDED = 'distgate_bridge_messages_total{outcome="forwarded"}'


def main(argv: Sequence[str] | None = None) -> int:
    """Run both measurements; print a summary and the JSON report."""
    args = _parser().parse_args(argv)
    report = asyncio.run(run(args))
    text = json.dumps(report, indent=2)
    if args.out is not None:
        args.out.write_text(text + "\n")
    print(text)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.bridge", description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000, help="backlog per throughput run")
    parser.add_argument("--rate", type=float, default=1000.0, help="messages/s in latency runs")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of a latency run")
    parser.add_argument("--probe-every", type=int, default=50, help="every Nth message probes")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--only", choices=["throughput", "latency"], help="one measurement")
    parser.add_argument("--out", type=Path, help="also write the JSON report here")
    return parser


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Both measurements, with everything the run started stopped at the end."""
    settings, tag = Settings.from_env(), uuid.uuid4().hex[:6]
    bench = _Bench(settings, tag, Path(tempfile.mkdtemp(prefix="distgate-bench-bridge-")))
    await declare_deployment(bench.app_id)
    try:
        report: dict[str, Any] = {}
        if args.only in (None, "throughput"):
            report["throughput"] = await bench.throughput(args.messages, args.repetitions)
        if args.only in (None, "latency"):
            report["latency"] = await bench.latency(args)
        return report
    finally:
        bench.stop()
        await load.delete_queue(settings.amqp_url, bench.raw_queue)
        for app_id in bench.app_ids:
            await remove_deployment(settings.kafka_bootstrap, settings.amqp_url, app_id)
        shutil.rmtree(bench.workdir, ignore_errors=True)


class _Bench:
    """One run: its app id, warehouse code, raw queue and worker."""

    def __init__(self, settings: Settings, tag: str, workdir: Path) -> None:
        self.settings, self.tag, self.workdir = settings, tag, workdir
        self.app_id = f"distgate-bench-bridge-{tag}"
        self.app_ids = [self.app_id]
        self.warehouse = f"BENCH{tag.upper()}"
        self.raw_queue = f"distgate-bench.raw-{tag}"
        self.worker: WorkerProcess | None = None

    async def throughput(self, count: int, repetitions: int) -> dict[str, Any]:
        """Drain equal backlogs with the raw loop and the bridge, alternately."""
        url = self.settings.amqp_url
        await load.declare_raw_queue(url, self.raw_queue)
        runs: dict[str, list[float]] = {"raw": [], "bridge_alone": [], "worker": []}
        for rep in range(repetitions):
            await load.publish_all(url, self._batch("r", rep, count), queue=self.raw_queue)
            argv = [self.settings.amqp_url, self.raw_queue, str(count), str(PREFETCH)]
            runs["raw"].append(self._child("bench.bridge.raw", argv)["per_s"])
            await load.publish_all(url, self._batch("b", rep, count))
            runs["bridge_alone"].append(self._child("bench.bridge.alone", [str(count)])["per_s"])
            await load.publish_all(url, self._batch("w", rep, count))
            runs["worker"].append(await self._bridge(count))
            print(f"rep {rep}: " + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in runs.items()))
        medians = {name: spread(values).median for name, values in runs.items()}
        return {
            "messages": count,
            "prefetch": PREFETCH,
            "per_s": runs,
            "median_per_s": medians,
            "ratio_bridge_alone": ratio(medians["bridge_alone"], medians["raw"]),
            "ratio_worker": ratio(medians["worker"], medians["raw"]),
            "goal_ratio": 0.5,
        }

    def _batch(self, kind: str, rep: int, count: int) -> list[load.Message]:
        """`count` receipts no earlier batch of this run used."""
        return list(load.receipts(self.warehouse, f"{self.tag}{kind}{rep}", count, 1000, rep))

    def _child(self, module: str, argv: list[str]) -> dict[str, float]:
        """Run a bench helper process to completion; its last stdout line is JSON."""
        result = subprocess.run(
            [sys.executable, "-m", module, *argv], env=self._env(),
            capture_output=True, text=True, timeout=600, check=True,
        )  # fmt: skip
        figures: dict[str, float] = json.loads(result.stdout.splitlines()[-1])
        return figures

    async def _bridge(self, count: int) -> float:
        """Start a worker on the backlog; its forwarded count over time gives the rate."""
        worker = self._start_worker()
        first: tuple[float, float] | None = None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            forwarded = await load.metric(worker.url, FORWARDED)
            now = time.perf_counter()
            if forwarded and first is None:
                first = (now, forwarded)
            if forwarded >= count and first is not None:
                self.stop()
                return (forwarded - first[1]) / (now - first[0])
            await asyncio.sleep(0.02)
        raise TimeoutError(f"the bridge did not forward {count} messages in time")

    async def latency(self, args: argparse.Namespace) -> dict[str, Any]:
        """Paced receipts with probes; publish -> visible in ATP, per probe."""
        self.app_id = f"{self.app_id}-latency"  # a deployment of its own: no backlog above
        self.app_ids.append(self.app_id)
        await declare_deployment(self.app_id)
        worker = self._start_worker()
        await worker.wait_ready()
        count, runs = int(args.rate * args.seconds), []
        for rep in range(args.repetitions):
            messages = list(load.receipts(self.warehouse, f"{self.tag}l{rep}", count, 1000, rep))
            probes = {n: f"BP{self.tag}-{rep}-{n}" for n in range(0, count, args.probe_every)}
            for n, sku in probes.items():
                messages[n] = load.receipt(self.warehouse, f"{self.tag}p{rep}-{n}", sku, 1)
            latencies = await load.paced_with_probes(
                self.settings.amqp_url, worker.url, messages, probes, args.rate
            )
            runs.append(latency_summary(latencies))
            print(f"rep {rep}: p50 {runs[-1]['p50']:.1f} ms, p99 {runs[-1]['p99']:.1f} ms")
        return {
            "rate_per_s": args.rate,
            "seconds": args.seconds,
            "probes_per_run": len(range(0, count, args.probe_every)),
            "runs_ms": runs,
            "p50_ms_median": spread([r["p50"] for r in runs]).median,
            "p99_ms_median": spread([r["p99"] for r in runs]).median,
            "goal_p99_ms": 100.0,
        }

    def _env(self) -> dict[str, str]:
        brokers = {
            "DISTGATE_KAFKA_URL": self.settings.kafka_url,
            "DISTGATE_AMQP_URL": self.settings.amqp_url,
            "DISTGATE_LOG_LEVEL": "warn",
        }
        return worker_env(current_env(), self.workdir / self.app_id, self.app_id, **brokers)

    def _start_worker(self) -> WorkerProcess:
        self.worker = WorkerProcess("w1", self._env(), self.workdir / f"{self.app_id}.log")
        self.worker.start()
        return self.worker

    def stop(self) -> None:
        """Stop the worker, if one runs."""
        if self.worker is not None:
            self.worker.terminate()
            self.worker = None


if __name__ == "__main__":
    sys.exit(main())
