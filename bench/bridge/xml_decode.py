"""`python -m bench.bridge.xml_decode`: what the XML bounds cost the bridge's decode step.

The bounded tree builder (`protocols/xml_bounds.py`) calls Python for every element,
where defusedxml's own builder stays in C. This times, in interleaved rounds on one
process, the parse with bounds and without, and the whole `decode_wms`, on the bridge
bench's messages (one-line receipts) and on 500-line receipts. `decode_ratio` is the
decode step with bounds over the same step with defusedxml's plain parse (1.0: no cost).
One CPU-bound step, so its ratio holds on a busy machine better than end-to-end figures.
"""

import argparse
import json
import time
from collections.abc import Callable
from statistics import median

from defusedxml.ElementTree import fromstring

from bench.bridge.load import receipt, receipt_of
from protocols.orders import MAX_ORDER_LINES
from protocols.wms_xml import MAX_XML_DEPTH, MAX_XML_ELEMENTS, decode_wms
from protocols.xml_bounds import FORBID, parse_bounded

Body = tuple[str, bytes]


def main() -> None:
    """Print one JSON line: microseconds per message of each step, and the ratios."""
    parser = argparse.ArgumentParser(prog="python -m bench.bridge.xml_decode", description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000, help="one-line receipts a round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    small = [receipt("W1", f"R-{n}", f"SKU-{n % 1000}", 1 + n % 9) for n in range(args.messages)]
    lines = [(f"SKU-{n}", 1) for n in range(MAX_ORDER_LINES)]
    large = [receipt_of("W1", f"L-{n}", lines) for n in range(max(1, args.messages // 200))]
    report = {"one_line": _compare(small, args.rounds), "500_lines": _compare(large, args.rounds)}
    print(json.dumps(report))


def _compare(bodies: list[Body], rounds: int) -> dict[str, float]:
    steps: dict[str, Callable[[str, bytes], object]] = {
        "decode": decode_wms,
        "bounded_parse": lambda _key, body: parse_bounded(body, MAX_XML_DEPTH, MAX_XML_ELEMENTS),
        "plain_parse": lambda _key, body: fromstring(body, **FORBID),
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            times[name].append(_per_message(step, bodies))
    us = {name: median(values) * 1e6 for name, values in times.items()}
    without = us["decode"] - us["bounded_parse"] + us["plain_parse"]
    return {
        **{f"{name}_us": value for name, value in us.items()},
        "parse_ratio": us["bounded_parse"] / us["plain_parse"],
        "decode_ratio": us["decode"] / without,
    }


def _per_message(step: Callable[[str, bytes], object], bodies: list[Body]) -> float:
    started = time.perf_counter()
    for key, body in bodies:
        step(key, body)
    return (time.perf_counter() - started) / len(bodies)


if __name__ == "__main__":
    main()
