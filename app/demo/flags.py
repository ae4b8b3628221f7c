"""The flags of `distgate demo` and the options they make (light: the CLI imports it always)."""

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.demo.catalogue import WAREHOUSES
from protocols.ids import WAREHOUSE_PATTERN


@dataclass(frozen=True)
class DemoOptions:
    """How big and how rough the demo's day is."""

    orders: int = 200
    skus: int = 48
    seed: int = 7
    duration: float = 45.0  # seconds the shop is open
    settle: float = 120.0  # seconds the gateway may take to agree after the day
    warehouses: tuple[str, ...] = WAREHOUSES
    looks: int = 3  # ATP reads per order placed
    short_picks: float = 0.03
    credit_holds: float = 0.03
    rejects: float = 0.02
    plain: bool = False  # progress lines even on a terminal


def add_demo_flags(parser: argparse.ArgumentParser) -> None:
    """Add the demo's flags to its subcommand."""
    d = DemoOptions()
    add = parser.add_argument
    add("--orders", type=_count(1), default=d.orders, help="orders placed (default %(default)s)")
    add(
        "--skus", type=_count(4), default=d.skus, help="SKUs in the catalogue (default %(default)s)"
    )
    add("--seed", type=int, default=d.seed, help="seed of the day's script (default %(default)s)")
    add(
        "--duration",
        type=_seconds,
        default=d.duration,
        help="seconds of trading (default %(default)s)",
    )
    add(
        "--settle",
        type=_seconds,
        default=d.settle,
        help="seconds to settle after (default %(default)s)",
    )
    add("--warehouses", type=_warehouses, default=d.warehouses, help="comma-separated codes")
    add(
        "--looks", type=_count(0), default=d.looks, help="ATP reads per order (default %(default)s)"
    )
    add("--short-picks", type=_rate, default=d.short_picks, help="share of lines picked short")
    add("--credit-holds", type=_rate, default=d.credit_holds, help="share ERP holds for credit")
    add("--rejects", type=_rate, default=d.rejects, help="share of orders ERP rejects")
    add("--plain", action="store_true", help="progress lines instead of the live view")
    add("--data-dir", type=Path, help="overrides DISTGATE_DATA_DIR (the run goes under demo/)")


def demo_options(args: argparse.Namespace) -> DemoOptions:
    """The options the parsed flags say."""
    return DemoOptions(
        orders=args.orders,
        skus=args.skus,
        seed=args.seed,
        duration=args.duration,
        settle=args.settle,
        warehouses=args.warehouses,
        looks=args.looks,
        short_picks=args.short_picks,
        credit_holds=args.credit_holds,
        rejects=args.rejects,
        plain=args.plain,
    )


def _count(least: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}")
        return value

    return parse


def _seconds(text: str) -> float:
    value = float(text)
    if not 1 <= value <= 3600:
        raise argparse.ArgumentTypeError("must be 1..3600 seconds")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 0.5:
        raise argparse.ArgumentTypeError("must be a share between 0 and 0.5")
    return value


def _warehouses(text: str) -> tuple[str, ...]:
    codes = tuple(code.strip() for code in text.split(",") if code.strip())
    bad = [code for code in codes if not re.match(WAREHOUSE_PATTERN, code)]
    if not codes or bad:
        raise argparse.ArgumentTypeError(f"not warehouse codes: {', '.join(bad) or text!r}")
    return codes
