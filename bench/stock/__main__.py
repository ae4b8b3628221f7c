"""`python -m bench.stock [--quick] [--out DIR]`: the stock path's figures vs raw baselines.

Phases: ATP GET throughput and latency vs a bare aiohttp server; projection events/s vs a
raw aiokafka consume-and-decode loop; restore time and memory of a large changelog; stock
events on a hot SKU with 5,000 open order lines against events on cold SKUs.
"""

import argparse
import asyncio
import dataclasses
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common.machine import background_load, describe
from bench.common.params import QUICK, Context, Params
from bench.common.session import bench_session
from bench.report.results import default_out_dir, summary_lines, write_report
from bench.stock.atp import measure_atp
from bench.stock.hotsku import measure_hot_sku
from bench.stock.projection import measure_projection
from bench.stock.restore import measure_restore

Phase = Callable[[Context, Params], Awaitable[dict[str, Any]]]
PHASES: dict[str, Phase] = {
    "atp": measure_atp,
    "projection": measure_projection,
    "restore": measure_restore,
    "hot_sku": measure_hot_sku,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.stock", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small smoke run (< 60 s)")
    parser.add_argument("--out", type=Path, help="report folder (default: ./bench-report-<time>)")
    parser.add_argument("--phases", default=",".join(PHASES), help="comma-separated subset")
    parser.add_argument(
        "--pin", action="store_true", help="pin servers to the first CPU, load to the others"
    )
    parser.add_argument(
        "--keep-inbox", action="store_true", help="do not trim what the bench wrote"
    )
    sizes = ("skus", "repetitions", "backlog", "restore_skus", "restore_event_ids")
    for name in (*sizes, "hot_lines", "hot_events"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, dest=name)
    return parser


def _params(args: argparse.Namespace) -> Params:
    """Quick or full defaults, with any size given on the command line."""
    base = QUICK if args.quick else Params()
    given = {
        field.name: getattr(args, field.name)
        for field in dataclasses.fields(Params)
        if getattr(args, field.name, None) is not None
    }
    return dataclasses.replace(base, **given)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen phases, print the table, write report.json; 1 if a phase failed."""
    args = _parser().parse_args(argv)
    phases = [name.strip() for name in args.phases.split(",") if name.strip()]
    unknown = set(phases) - set(PHASES)
    if unknown:
        print(f"unknown phases {sorted(unknown)}; choose from {list(PHASES)}", file=sys.stderr)
        return 2
    out_dir = args.out or default_out_dir()
    report = asyncio.run(_run(_params(args), phases, args, out_dir))
    for line in summary_lines(report):
        print(line)
    path = write_report(out_dir, report)
    print(f"\nreport: {path}")
    return 1 if report["errors"] else 0


async def _run(
    params: Params, phases: list[str], args: argparse.Namespace, out_dir: Path
) -> dict[str, Any]:
    """Every phase inside one session that stops and deletes whatever it started."""
    started = time.perf_counter()
    report: dict[str, Any] = {"params": dataclasses.asdict(params), "machine": describe()}
    report["errors"] = {}
    session = bench_session(
        pin=args.pin,
        trim_shared=bool(phases) and not args.keep_inbox,
        logs_to=out_dir / "logs",
        say=_say,
    )
    async with session as ctx:
        report["cpu_placement"] = {"server": ctx.server_cpus, "load": ctx.load_cpus}
        report["noise_before"] = await background_load(params.noise_sample_s)
        _say(f"machine before: {report['noise_before']}")
        for name in phases:
            phase_started = time.perf_counter()
            try:
                report[name] = await PHASES[name](ctx, params)
            except Exception as exc:
                traceback.print_exc()
                report["errors"][name] = f"{type(exc).__name__}: {exc}"[-4000:]
            _say(f"{name}: {time.perf_counter() - phase_started:.0f} s")
        report["noise_after"] = await background_load(params.noise_sample_s)
        _say(f"machine after: {report['noise_after']}")
    report["total_s"] = time.perf_counter() - started
    return report


def _say(message: str) -> None:
    print(message, flush=True)


if __name__ == "__main__":
    sys.exit(main())
