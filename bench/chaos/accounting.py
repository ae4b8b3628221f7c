"""What the faults cost, counted against the simulators' truth once the gateway settled.

lost: accepted orders never decided, positions holding fewer units than the warehouses
reported (or than the orders hold reserved or allocated), hostile messages neither
dead-lettered nor refused. duplicated: positions holding more than that truth, i.e. an
effect applied twice. A receipt whose publish confirm was lost with a broker may or may
not have arrived: its units are `uncertain` and excuse that much excess, no more.
oversold: positions where reserved + allocated + blocked exceed on hand.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from bench.chaos.poison_send import PoisonSent
from bench.peak.oracle import Position

Figures = Mapping[Position, Mapping[str, int]]
SHOWN = 10


def held(orders: Mapping[str, Any], field: str) -> Counter[Position]:
    """Units the orders' lines say they hold in `field` (reserved, allocated), per position.

    A line may be filled from several warehouses: each fill says what it holds where.
    """
    units: Counter[Position] = Counter()
    for order in orders.values():
        if isinstance(order, dict):
            for line in order.get("lines", ()):
                for fill in line.get("fills", ()):
                    units[(line["sku"], fill["warehouse"])] += fill.get(field, 0)
    return units


def undecided(orders: Mapping[str, Any]) -> int:
    """Accepted orders unreadable or still SUBMITTED."""
    return sum(
        1
        for order in orders.values()
        if not isinstance(order, dict) or order["status"] == "SUBMITTED"
    )


def stock_errors(
    figures: Figures, on_hand: Mapping[Position, int], uncertain: Mapping[Position, int]
) -> tuple[int, int]:
    """(lost, duplicated) positions of on hand against what the warehouses reported."""
    lost = duplicated = 0
    for position in set(on_hand) | set(figures):
        seen = figures.get(position, {}).get("on_hand", 0)
        expected = on_hand.get(position, 0)
        if seen < expected:
            lost += 1
        elif seen > expected + uncertain.get(position, 0):
            duplicated += 1
    return lost, duplicated


def stock_mismatches(
    figures: Figures, on_hand: Mapping[Position, int], uncertain: Mapping[Position, int]
) -> list[str]:
    """The first positions whose on hand is not what the warehouses reported, for a reader."""
    found = [
        f"{sku}@{warehouse}: {seen} != {expected} (uncertain {uncertain.get((sku, warehouse), 0)})"
        for (sku, warehouse) in sorted(set(on_hand) | set(figures))
        if (seen := figures.get((sku, warehouse), {}).get("on_hand", 0))
        != (expected := on_hand.get((sku, warehouse), 0))
    ]
    return found[:SHOWN]


def holding_errors(figures: Figures, orders: Mapping[str, Any]) -> tuple[int, int]:
    """(lost, duplicated) positions whose reserved or allocated differ from the orders'."""
    lost = duplicated = 0
    for field in ("reserved", "allocated"):
        units = held(orders, field)
        for position in set(units) | set(figures):
            seen = figures.get(position, {}).get(field, 0)
            lost += seen < units.get(position, 0)
            duplicated += seen > units.get(position, 0)
    return lost, duplicated


def oversold(figures: Figures) -> int:
    """Positions committing more than they hold."""
    return sum(
        1
        for position in figures.values()
        if position.get("reserved", 0) + position.get("allocated", 0) + position.get("blocked", 0)
        > position.get("on_hand", 0)
    )


def poison_lost(poisoned: Sequence[PoisonSent], dead: set[str]) -> int:
    """Hostile messages not dead-lettered, and hostile HTTP bodies not refused with a 4xx."""
    missing = sum(1 for sent in poisoned for p in sent.to_dead_letter if p.marker not in dead)
    accepted = sum(
        n for sent in poisoned for status, n in sent.http_statuses.items() if status < 400
    )
    return missing + accepted


def http_errors(counts: Counter[str], poisoned: Sequence[PoisonSent]) -> dict[str, int]:
    """5xx answers of the load and the poison; 503s, and those 503s that said Retry-After."""
    poison_5xx = sum(
        n for sent in poisoned for status, n in sent.http_statuses.items() if status >= 500
    )
    return {
        "5xx": counts["5xx"] + poison_5xx,
        "503": counts["503"],
        "503_retry_after": counts["503_retry_after"],
    }


def correct(chaos: Mapping[str, Any]) -> bool:
    """Nothing lost, duplicated or oversold, 5xx only as 503 + Retry-After, every fault over."""
    errors = chaos["http_errors"]
    return (
        chaos["lost"] == chaos["duplicated"] == chaos["oversold"] == 0
        and errors["5xx"] == errors["503"] == errors["503_retry_after"]
        and all(
            fault["recovered_s"] is not None and "error" not in fault for fault in chaos["faults"]
        )
    )
