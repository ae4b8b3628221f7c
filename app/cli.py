"""The `distgate` command line."""

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from app.demo.flags import add_demo_flags
from app.dev import report, stack
from app.dlq_args import add_dlq_commands, dlq_request
from app.errors import ConfigurationError, DistgateError
from app.settings import Settings
from app.version import VERSION
from protocols.printable import printable


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `distgate` console script."""
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "bench":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.bench_args = rest
    try:
        settings = Settings.from_env().with_overrides(
            http_host=getattr(args, "http_host", None),
            http_port=getattr(args, "http_port", None),
            data_dir=getattr(args, "data_dir", None),
            agent_processes=getattr(args, "agents", None),
            failpoints="" if getattr(args, "no_failpoints", False) else None,
        )
        return int(args.run(settings, args))
    except (DistgateError, stack.DevStackError) as exc:
        print(f"distgate: error: {printable(str(exc))}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="distgate", description=__doc__)
    parser.add_argument("--version", action="version", version=f"distgate {VERSION}")
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser("worker", help="run one worker: agents, AMQP bridge, HTTP API")
    worker.add_argument("--http-host", help="overrides DISTGATE_HTTP_HOST")
    worker.add_argument("--http-port", type=int, help="overrides DISTGATE_HTTP_PORT")
    worker.add_argument("--data-dir", type=Path, help="overrides DISTGATE_DATA_DIR")
    worker.add_argument(
        "--agents", type=int, help="agents processes sharing the partitions; overrides "
        "DISTGATE_AGENT_PROCESSES",
    )  # fmt: skip
    # The supervisor starts its children as `distgate worker --role ...`: not for users.
    worker.add_argument("--role", choices=["agents", "bridge", "api"], help=argparse.SUPPRESS)
    worker.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    worker.add_argument("--no-failpoints", action="store_true", help=argparse.SUPPRESS)
    worker.set_defaults(run=_run_worker)
    dev = commands.add_parser("dev", help="a local single-node Kafka and RabbitMQ")
    dev.add_argument(
        "action", choices=["up", "down", "status", "reset"], help="reset: stop, delete the data"
    )
    dev.add_argument("--json", action="store_true", help="the services' state as one JSON object")
    dev.set_defaults(run=_run_dev)
    check = commands.add_parser(
        "reconcile", help="ERP book stock (CSV) against the projected on_hand and blocked"
    )
    check.add_argument(
        "book", type=Path, help="CSV with a header naming sku, warehouse, qty and maybe blocked"
    )
    check.add_argument("--out", type=Path, help="also write the differences as CSV here")
    check.add_argument("--json", action="store_true", help="the report as one JSON document")
    check.set_defaults(run=_run_reconcile)
    add_dlq_commands(commands)
    commands.choices["dlq"].set_defaults(run=_run_dlq)
    demo = commands.add_parser("demo", help="a compressed distribution day, checked at the end")
    add_demo_flags(demo)
    demo.set_defaults(run=_run_demo)
    # The bench's own flags are parsed when it runs: `distgate` imports nothing from bench/.
    bench = commands.add_parser(
        "bench", add_help=False, help="peak load against raw baselines, with a report (--help)"
    )
    bench.set_defaults(run=_run_bench)
    return parser


def _run_worker(settings: Settings, args: argparse.Namespace) -> int:
    if args.role is not None:
        from agents.runtime import spans

        process = f"agents-{args.index}" if args.role == "agents" else args.role
        spans.configure_from_env("distgate", process)
    if args.role == "agents":
        from app.worker import build_worker

        build_worker(settings, args.index).execute_from_commandline()
    if args.role == "bridge":
        from app.bridge_process import build_bridge_worker

        build_bridge_worker(settings).execute_from_commandline()
    if args.role == "api":
        from app.api_process import build_api_worker

        build_api_worker(settings).execute_from_commandline()
    from app.supervisor import run_supervisor

    return run_supervisor(settings)


def _run_reconcile(settings: Settings, args: argparse.Namespace) -> int:
    from app.reconcile.run import run_reconcile

    return run_reconcile(settings, args.book, args.out, args.json)


def _run_dlq(settings: Settings, args: argparse.Namespace) -> int:
    from app.dlq_cli import run_dlq

    try:
        request = dlq_request(args, dt.datetime.now(dt.UTC))
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from exc
    return run_dlq(settings, request)


def _run_demo(settings: Settings, args: argparse.Namespace) -> int:
    from app.demo.flags import demo_options
    from app.demo.run import run_demo

    return run_demo(settings, demo_options(args))


def _run_bench(settings: Settings, args: argparse.Namespace) -> int:
    from bench.peak.params import add_arguments, from_args
    from bench.peak.run import run_bench

    parser = argparse.ArgumentParser(prog="distgate bench", description=run_bench.__doc__)
    add_arguments(parser)
    return run_bench(from_args(parser.parse_args(args.bench_args)))


def _run_dev(settings: Settings, args: argparse.Namespace) -> int:
    ports = stack.ports_for(settings.kafka_bootstrap, settings.amqp_url)
    say = _to_stderr if args.json else print  # stdout holds the JSON document alone
    if args.action == "up":
        statuses = stack.up(settings.dev_home, settings.cache_dir, say, ports=ports)
    elif args.action == "down":
        statuses = stack.down(settings.dev_home, say, ports=ports)
    elif args.action == "reset":
        statuses = stack.reset(settings.dev_home, say, ports=ports)
    else:
        statuses = stack.status(settings.dev_home, ports=ports)
    print(report.render(statuses, args.json))
    if args.action in ("up", "status"):  # scripts and probes wait on the exit code
        return 0 if report.all_running(statuses) else 1
    return 0


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)
