"""The scripted day: who orders what and when, the stock the warehouses move, the cancels.

A pure function of the spec and ERP's fate function: one seed gives one day (SKU and order
names carry the run, so runs never share state). Demand is skewed (a few hot SKUs); opening
stock is a little short of the day's demand and replenishments arrive during the day, so some
orders are rejected or backordered. Cancels are aimed where their outcome is well defined:
right after submitting (backorders allowed), on credit hold, after release, after shipping
(refused), and on orders resting wholly backordered. QC holds and the count with
discrepancies touch slow movers; hot SKUs are counted too while they are being picked and
shipped (`recount`: what the warehouse's own messages leave on the shelf, sometimes one
found more), which the gateway applies in the order the warehouse sent it. None finds fewer
than is there: the simulated warehouse ships what it was released without a shelf of its
own, so it could not pick short what a count found missing.

Two fates close orders before they are done. A few customers order a limited item in bulk,
more than is in stock, accept backorders and cancel the unshipped remainder once the part
in stock shipped. A few orders ERP never decides: the worker runs with a short decision
timeout, which cancels them within the day.
"""

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from app.demo.catalogue import WAREHOUSES, Catalogue, make_catalogue, with_limited
from app.sim.shop import BACKORDERED, REMAINDER, Visit

StockKind = Literal["receipt", "adjust", "hold", "count", "recount"]
Fate = Callable[[str], str]  # order id -> "confirm", "hold" or "reject" (ERP's own rule)

B2B_SHARE = 0.15
ALLOW_SHARE = 0.10
BURST_SHARE = 0.25  # of the orders arrive in a burst around the lunchtime peak
BURST_AT, BURST_WIDTH = 0.55, 0.08
REMAINDER_EVERY = 60  # orders per bulk order whose unshipped remainder is cancelled (2 at least)
BULK_QTY = (6, 12)  # units of a bulk order: its limited item has less (see _supply)
UNDECIDED_EVERY = 100  # orders per order ERP never decides (1 at least)
MIN_DECISION_TIMEOUT_S = 10  # well beyond ERP's slowest decision, a credit hold and its release


@dataclass(frozen=True)
class DaySpec:
    """The sizes of a day (the command's flags)."""

    run: str
    orders: int = 200
    skus: int = 48
    seed: int = 7
    duration: float = 45.0
    warehouses: tuple[str, ...] = WAREHOUSES
    looks: int = 3


@dataclass(frozen=True)
class StockMove:
    """A WMS message to send at `at` seconds into the day."""

    at: float
    kind: StockKind
    warehouse: str
    lines: tuple[tuple[str, int], ...]
    po: str | None = None
    reason: Literal["CYCLE_COUNT", "DAMAGED", "QC"] | None = None


@dataclass(frozen=True)
class Arrival:
    """A shopper arriving at `at` seconds into the day."""

    at: float
    visit: Visit


@dataclass(frozen=True)
class Day:
    """Everything that happens in the day, in time order."""

    spec: DaySpec
    catalogue: Catalogue
    opening: tuple[StockMove, ...]  # before the shop opens
    moves: tuple[StockMove, ...]
    arrivals: tuple[Arrival, ...]
    undecided: frozenset[str] = frozenset()  # order ids ERP never decides


def decision_timeout_s(spec: DaySpec) -> int:
    """The worker's decision timeout: a third of the day (10 s at least).

    The orders ERP never decides arrive in the first third (on a day with too few there, the
    earliest), so they are cancelled before the day ends, give or take the worker's deadline
    clock (it looks every 10 s).
    """
    return max(MIN_DECISION_TIMEOUT_S, round(spec.duration / 3))


def order_prefix(run: str) -> str:
    """How every order id of a run begins."""
    return f"SO-{run}-"


def plan_day(spec: DaySpec, fate: Fate) -> Day:
    """The day for this spec; ERP's fate tells which orders can be cancelled unambiguously."""
    rng = random.Random(spec.seed)
    catalogue = make_catalogue(spec.run, spec.skus, spec.warehouses, rng)
    arrivals = [Arrival(at, _visit(spec, catalogue, rng, n)) for n, at in _times(spec, rng)]
    arrivals = _with_cancels(arrivals, fate, rng, spec.duration)
    fates = random.Random(f"{spec.seed}:fates")  # the day before these fates stays as it was
    arrivals, undecided = _with_undecided(spec, arrivals, fate, fates)
    catalogue, arrivals = _with_remainders(spec, catalogue, arrivals, fate, undecided, fates)
    demand = _demand(arrivals)
    opening, replenish = _supply(spec, catalogue, demand, rng)
    counts = _counts_in_use(spec, catalogue, rng)
    moves = sorted([*replenish, *_slow_movers(spec, catalogue, opening, rng), *counts], key=_at)
    return Day(spec, catalogue, tuple(opening), tuple(moves), tuple(arrivals), undecided)


def _at(move: StockMove) -> float:
    return move.at


def _times(spec: DaySpec, rng: random.Random) -> Iterator[tuple[int, float]]:
    """Arrival times: spread over the day, a quarter of them in a lunchtime burst."""
    times = []
    for _ in range(spec.orders):
        if rng.random() < BURST_SHARE:
            share = min(0.99, max(0.0, rng.gauss(BURST_AT, BURST_WIDTH)))
        else:
            share = rng.random()
        times.append(round(share * spec.duration, 3))
    return enumerate(sorted(times), 1)


def _visit(spec: DaySpec, catalogue: Catalogue, rng: random.Random, number: int) -> Visit:
    b2b = rng.random() < B2B_SHARE
    count, qty, customer = (
        (rng.randint(5, 20), (2, 8), f"B2B-{rng.randint(1, 8):02d}")
        if b2b
        else (rng.randint(1, 3), (1, 3), f"WEB-{rng.randint(1, 80):03d}")
    )
    skus = catalogue.draw(rng, count)
    browsing = catalogue.draw(rng, spec.looks)
    if catalogue.slow and rng.random() < 0.2:
        browsing[-1:] = [rng.choice(catalogue.slow)]
    return Visit(
        order_id=f"{order_prefix(spec.run)}{number:05d}",
        customer_id=customer,
        channel="b2b" if b2b else "web",
        lines=tuple((sku, rng.randint(*qty)) for sku in skus),
        backorder="allow" if rng.random() < ALLOW_SHARE else "reject",
        looks=tuple(browsing[: spec.looks]),
    )


def _with_cancels(
    arrivals: list[Arrival], fate: Fate, rng: random.Random, duration: float
) -> list[Arrival]:
    """Mark the visits that cancel, and the status each cancels in."""
    by_fate: dict[str, list[int]] = {"confirm": [], "hold": [], "reject": []}
    for index, arrival in enumerate(arrivals):
        by_fate[fate(arrival.visit.order_id)].append(index)
    allow = [i for i in by_fate["confirm"] if arrivals[i].visit.backorder == "allow"]
    late = [i for i in allow if arrivals[i].at > duration / 2]
    plain = [i for i in by_fate["confirm"] if i not in allow]
    steps: dict[int, str] = {i: "CREDIT_HOLD" for i in by_fate["hold"][::2]}
    steps |= {i: "SUBMITTED" for i in _some(rng, [i for i in allow if i not in late], 1)}
    steps |= {i: BACKORDERED for i in _some(rng, late, 3)}
    released = _some(rng, plain, max(1, len(arrivals) // 60))
    steps |= {i: "RELEASED" for i in released}
    rest = [i for i in plain if i not in released]
    steps |= {i: "SHIPPED" for i in _some(rng, rest, max(1, len(arrivals) // 100))}
    return [
        Arrival(a.at, replace(a.visit, cancel_at=steps[i])) if i in steps else a
        for i, a in enumerate(arrivals)
    ]


def _with_remainders(
    spec: DaySpec,
    catalogue: Catalogue,
    arrivals: list[Arrival],
    fate: Fate,
    undecided: frozenset[str],
    rng: random.Random,
) -> tuple[Catalogue, list[Arrival]]:
    """Bulk orders of a limited item each, more than is in stock, backorders allowed; the
    customer cancels what did not ship. Placed before the last fifth of the day, so the part
    in stock ships within it; the item is never restocked, so the rest waits for the cancel.
    """
    free = [
        i
        for i in _free(arrivals, fate, before=spec.duration * 0.8)
        if arrivals[i].visit.order_id not in undecided
    ]
    chosen = _some(rng, free, max(2, len(arrivals) // REMAINDER_EVERY))
    catalogue = with_limited(catalogue, spec.run, len(chosen))
    bulk = {
        index: ((sku, rng.randint(*BULK_QTY)),)
        for index, sku in zip(chosen, catalogue.limited, strict=True)
    }
    return catalogue, [
        Arrival(a.at, replace(a.visit, lines=bulk[i], backorder="allow", cancel_at=REMAINDER))
        if i in bulk
        else a
        for i, a in enumerate(arrivals)
    ]


def _with_undecided(
    spec: DaySpec, arrivals: list[Arrival], fate: Fate, rng: random.Random
) -> tuple[list[Arrival], frozenset[str]]:
    """Orders ERP never decides, in the first third of the day (the earliest, when it has too
    few); they allow backorders, so they always wait for ERP (none is rejected for stock)."""
    free = _free(arrivals, fate, before=spec.duration)
    count = max(1, len(arrivals) // UNDECIDED_EVERY)
    early = [i for i in free if arrivals[i].at < spec.duration / 3]
    chosen = set(_some(rng, early if len(early) >= count else free[:count], count))
    arrivals = [
        Arrival(a.at, replace(a.visit, backorder="allow")) if i in chosen else a
        for i, a in enumerate(arrivals)
    ]
    return arrivals, frozenset(arrivals[i].visit.order_id for i in chosen)


def _free(arrivals: Sequence[Arrival], fate: Fate, before: float) -> list[int]:
    """The arrivals before `before` that ERP confirms and that cancel nothing."""
    return [
        index
        for index, arrival in enumerate(arrivals)
        if arrival.at < before
        and arrival.visit.cancel_at is None
        and fate(arrival.visit.order_id) == "confirm"
    ]


def _some(rng: random.Random, indices: Sequence[int], count: int) -> list[int]:
    return sorted(rng.sample(list(indices), min(count, len(indices))))


def _demand(arrivals: Sequence[Arrival]) -> dict[str, int]:
    demand: dict[str, int] = {}
    for arrival in arrivals:
        for sku, qty in arrival.visit.lines:
            demand[sku] = demand.get(sku, 0) + qty
    return demand


def _supply(
    spec: DaySpec, catalogue: Catalogue, demand: dict[str, int], rng: random.Random
) -> tuple[list[StockMove], list[StockMove]]:
    """Opening receipts a little short of the demand; hot SKUs replenished twice in the day."""
    opening: dict[str, dict[str, int]] = {}
    for sku in catalogue.skus:
        wanted = demand.get(sku, 0)
        total = max(4, round(wanted * rng.uniform(0.45, 0.85))) if wanted else rng.randint(20, 60)
        for warehouse, qty in _split(total, catalogue.stocked_in[sku], rng).items():
            opening.setdefault(warehouse, {})[sku] = qty
    receipts = _receipts(spec.run, 0.0, opening, "OPEN")
    replenish: list[StockMove] = []
    for round_no, at in enumerate((0.35, 0.7), 1):
        due: dict[str, dict[str, int]] = {}
        for sku in catalogue.hot:
            where = rng.choice(catalogue.stocked_in[sku])
            due.setdefault(where, {})[sku] = max(1, round(demand.get(sku, 0) * 0.2))
        replenish += _receipts(spec.run, round(at * spec.duration, 3), due, f"R{round_no}")
    return receipts, replenish


def _split(total: int, warehouses: Sequence[str], rng: random.Random) -> dict[str, int]:
    """`total` over the warehouses, unevenly, at least 1 each."""
    shares = [rng.uniform(0.3, 1.0) for _ in warehouses]
    counts = [max(1, round(total * share / sum(shares))) for share in shares]
    return dict(zip(warehouses, counts, strict=True))


def _receipts(run: str, at: float, lines: dict[str, dict[str, int]], tag: str) -> list[StockMove]:
    return [
        StockMove(at, "receipt", warehouse, tuple(sorted(qty.items())), po=f"PO-{run}-{tag}-{w}")
        for w, (warehouse, qty) in enumerate(sorted(lines.items()), 1)
    ]


def _counts_in_use(spec: DaySpec, catalogue: Catalogue, rng: random.Random) -> list[StockMove]:
    """Two hot SKUs counted while orders for them are picked and shipped.

    A `recount` line holds the units found beyond what the shelf holds (0 or 1): the
    figure is taken when the count is sent, from the warehouse's own messages.
    """
    moves = []
    for share in (0.5, 0.8):
        sku = rng.choice(catalogue.hot)
        warehouse = rng.choice(catalogue.stocked_in[sku])
        found = ((sku, rng.choice((0, 1))),)
        moves.append(StockMove(round(share * spec.duration, 3), "recount", warehouse, found))
    return moves


def _slow_movers(
    spec: DaySpec, catalogue: Catalogue, opening: Sequence[StockMove], rng: random.Random
) -> list[StockMove]:
    """A cycle count with discrepancies, a QC hold and its partial release, a damaged unit."""
    on_hand = {(sku, m.warehouse): qty for m in opening for sku, qty in m.lines}
    slow = [(sku, w) for sku in catalogue.slow for w in catalogue.stocked_in[sku]]
    if not slow:
        return []

    def at(share: float) -> float:
        return round(share * spec.duration, 3)

    counted_in = slow[0][1]
    counts = tuple(
        (sku, max(0, on_hand[(sku, w)] + rng.choice((-2, 0, 1))))
        for sku, w in slow
        if w == counted_in
    )
    on_hand |= {(sku, counted_in): qty for sku, qty in counts}
    moves = [StockMove(at(0.45), "count", counted_in, counts, reason="CYCLE_COUNT")]
    held_sku, held_in = slow[-1]
    if held := on_hand[(held_sku, held_in)] // 4:
        moves += [
            StockMove(at(0.5), "hold", held_in, ((held_sku, held),), reason="QC"),
            StockMove(at(0.85), "hold", held_in, ((held_sku, -(held // 2 or held)),), reason="QC"),
        ]
    damaged_sku, damaged_in = slow[0]
    if (damaged_sku, damaged_in) != (held_sku, held_in) and on_hand[(damaged_sku, damaged_in)]:
        moves.append(
            StockMove(at(0.6), "adjust", damaged_in, ((damaged_sku, -1),), reason="DAMAGED")
        )
    return moves
