"""The bench's workload: a SKU catalogue over three warehouses and canonical stock events."""

import datetime as dt
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

import msgspec

from bench.common.stats import zipf_exponent_for, zipf_weights
from protocols.inventory import StockReceived
from tables.stock.value import Position, SkuStock

WAREHOUSES = ("DC-EAST", "DC-WEST", "DC-SOUTH")
OCCURRED_AT = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)

_encoder = msgspec.json.Encoder()

KeyedValue = tuple[bytes, bytes]


@dataclass(frozen=True)
class Catalogue:
    """SKUs (hottest first) and the warehouses each is stocked in."""

    tag: str
    skus: tuple[str, ...]
    stocked_in: tuple[tuple[str, ...], ...]

    @property
    def positions(self) -> int:
        """Number of SKU-warehouse positions."""
        return sum(len(warehouses) for warehouses in self.stocked_in)


def catalogue(
    tag: str, count: int, seed: int = 7, warehouses: tuple[str, ...] = WAREHOUSES
) -> Catalogue:
    """`count` SKUs named after the run's tag, each stocked in 1-3 of the warehouses."""
    rng = random.Random(seed)
    skus = tuple(sku_name(tag, index) for index in range(count))
    most = min(3, len(warehouses))
    stocked_in = tuple(tuple(sorted(rng.sample(warehouses, rng.randint(1, most)))) for _ in skus)
    return Catalogue(tag=tag, skus=skus, stocked_in=stocked_in)


def warehouse_names(count: int) -> tuple[str, ...]:
    """The workload's three warehouses, then DC-04, DC-05... when more are asked for."""
    if count < 1:
        raise ValueError("at least one warehouse")
    extra = tuple(f"DC-{number:02d}" for number in range(len(WAREHOUSES) + 1, count + 1))
    return (WAREHOUSES + extra)[:count]


def order_prefix(tag: str) -> str:
    """What every order id of the run tagged `tag` starts with: its simulators answer those."""
    return f"BO{tag}-"


def sku_name(tag: str, index: int) -> str:
    """The bench's SKU number `index` of a run (unique per run, valid per the SKU pattern)."""
    return f"BENCH-{tag}-{index:07d}"


def received(event_id: str, sku: str, warehouse: str, qty: int) -> KeyedValue:
    """A canonical StockReceived as (key, JSON value) for the stock inbox."""
    event = StockReceived(
        event_id=event_id, sku=sku, warehouse=warehouse, occurred_at=OCCURRED_AT, qty=qty
    )
    return sku.encode(), _encoder.encode(event)


def initial_receipts(cat: Catalogue) -> Iterator[KeyedValue]:
    """One receipt per position; the quantity is derived from the index so ATP is checkable."""
    for index, (sku, warehouses) in enumerate(zip(cat.skus, cat.stocked_in, strict=True)):
        for warehouse in warehouses:
            yield received(f"{cat.tag}-init-{sku}-{warehouse}", sku, warehouse, expected_qty(index))


def expected_qty(index: int) -> int:
    """The quantity the initial load receives for SKU number `index` in each of its warehouses."""
    return 10 + index % 90


def skewed_indices(count: int, draws: int, seed: int) -> list[int]:
    """SKU indices drawn Zipf-like so the hottest 20% take about 80% of the draws."""
    weights = zipf_weights(count, zipf_exponent_for(count))
    cumulative = list(itertools.accumulate(weights))
    rng = random.Random(seed)
    return rng.choices(range(count), cum_weights=cumulative, k=draws)


def random_receipts(cat: Catalogue, count: int, seed: int, prefix: str) -> Iterator[KeyedValue]:
    """`count` receipts of 1-5 units on Zipf-skewed SKUs of the catalogue."""
    rng = random.Random(seed)
    for number, index in enumerate(skewed_indices(len(cat.skus), count, seed)):
        warehouse = rng.choice(cat.stocked_in[index])
        event_id = f"{cat.tag}-{prefix}-{number}"
        yield received(event_id, cat.skus[index], warehouse, rng.randint(1, 5))


def restored_value(sku: str, index: int) -> SkuStock:
    """A changelog value with a position in each warehouse."""
    qty = expected_qty(index)
    positions = tuple(Position(warehouse=w, on_hand=qty, blocked=index % 3) for w in WAREHOUSES)
    return SkuStock(
        sku=sku,
        positions=tuple(sorted(positions, key=lambda p: p.warehouse)),
        last_offset=index,
        version=1,
    )
