"""The demo's catalogue: SKUs over the warehouses, a few hot ones, slow movers nobody orders,
and limited items, each ordered once in bulk."""

import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

WAREHOUSES = ("DC-EAST", "DC-WEST", "DC-SOUTH")
ZIPF_EXPONENT = 1.3  # about 20% of the sellers take 70-80% of the demand
SLOW_SHARE = 8  # one SKU in 8 is a slow mover


@dataclass(frozen=True)
class Catalogue:
    """Sellers (hottest first) with their demand weights, slow movers, and where each is kept."""

    sellers: tuple[str, ...]
    weights: tuple[float, ...]
    slow: tuple[str, ...]  # looked at, counted and held in the day, never ordered
    stocked_in: Mapping[str, tuple[str, ...]]
    # kept in one warehouse, short of the one order for each, never restocked or counted
    limited: tuple[str, ...] = ()

    @property
    def skus(self) -> tuple[str, ...]:
        """Every SKU of the run."""
        return self.sellers + self.slow + self.limited

    @property
    def hot(self) -> tuple[str, ...]:
        """The hottest fifth of the sellers."""
        return self.sellers[: max(1, len(self.sellers) // 5)]

    def draw(self, rng: random.Random, count: int) -> list[str]:
        """`count` distinct sellers, drawn by demand."""
        count = min(count, len(self.sellers))
        chosen: list[str] = []
        cumulative = list(itertools.accumulate(self.weights))
        while len(chosen) < count:
            (sku,) = rng.choices(self.sellers, cum_weights=cumulative)
            if sku not in chosen:
                chosen.append(sku)
        return chosen


def sku_prefix(run: str) -> str:
    """How every SKU of a run begins: runs never see each other's stock."""
    return f"DEMO-{run}-"


def sku_name(run: str, index: int) -> str:
    """SKU number `index` of a run."""
    return f"{sku_prefix(run)}{index:04d}"


def make_catalogue(
    run: str, count: int, warehouses: Sequence[str], rng: random.Random
) -> Catalogue:
    """`count` SKUs, each stocked in 1 to all of the warehouses; the last eighth move slowly."""
    skus = [sku_name(run, index) for index in range(1, count + 1)]
    slow = max(1, count // SLOW_SHARE) if count > 2 else 0
    sellers = tuple(skus[: count - slow])
    raw = [1 / (rank + 1) ** ZIPF_EXPONENT for rank in range(len(sellers))]
    stocked_in = {
        sku: tuple(sorted(rng.sample(list(warehouses), rng.randint(1, len(warehouses)))))
        for sku in skus
    }
    return Catalogue(
        sellers=sellers,
        weights=tuple(weight / sum(raw) for weight in raw),
        slow=tuple(skus[count - slow :]),
        stocked_in=stocked_in,
    )


def with_limited(catalogue: Catalogue, run: str, count: int) -> Catalogue:
    """The catalogue and `count` limited items after its SKUs, spread over its warehouses."""
    warehouses = sorted({w for kept in catalogue.stocked_in.values() for w in kept})
    first = len(catalogue.skus) + 1
    limited = tuple(sku_name(run, index) for index in range(first, first + count))
    stocked_in = {sku: (warehouses[n % len(warehouses)],) for n, sku in enumerate(limited)}
    return replace(catalogue, limited=limited, stocked_in={**catalogue.stocked_in, **stocked_in})
