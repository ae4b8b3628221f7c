"""The scarce SKUs' load: new SKUs of the run in two warehouses, ordered with backorders allowed."""

from bench.common.workload import order_prefix, warehouse_names
from bench.peak.scarce import MAX_LINE_QTY, ScarceShop, scarce_skus


def test_scarce_skus_are_the_runs_own_each_in_two_distinct_warehouses() -> None:
    stocked_in = scarce_skus("a1b2c3", 3, warehouse_names(3), seed=1)
    assert list(stocked_in) == ["BENCH-a1b2c3-S000", "BENCH-a1b2c3-S001", "BENCH-a1b2c3-S002"]
    for warehouses in stocked_in.values():
        assert len(set(warehouses)) == 2
        assert set(warehouses) <= set(warehouse_names(3))
    assert list(scarce_skus("a1b2c3", 1, ("DC-EAST",), seed=1).values()) == [("DC-EAST",)]


def test_every_scarce_order_allows_backorders_on_scarce_skus_only() -> None:
    skus = ["S-1", "S-2", "S-3"]
    prefix = order_prefix("a1b2c3")
    shop = ScarceShop(["http://x"], skus, [1.0] * 3, None, None, 3, prefix)  # type: ignore[arg-type]
    bodies = [shop._order_body(number) for number in range(50)]
    assert {body["backorder"] for body in bodies} == {"allow"}
    lines = [line for body in bodies for line in body["lines"]]
    assert {line["sku"] for line in lines} == set(skus)
    assert all(1 <= line["qty"] <= MAX_LINE_QTY for line in lines)
    assert len({body["order_id"] for body in bodies}) == 50
