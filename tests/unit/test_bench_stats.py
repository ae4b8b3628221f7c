"""The bench's statistics: percentiles, medians of repetitions, ratios and the Zipf skew."""

import math

import pytest

from bench.common.stats import (
    head_share,
    latency_summary,
    percentile,
    ratio,
    spread,
    zipf_exponent_for,
    zipf_weights,
)
from bench.common.workload import catalogue, skewed_indices


def test_percentile_interpolates_between_neighbours() -> None:
    # Given 0..100 in order
    values = [float(v) for v in range(101)]
    # Then the percentiles are the values themselves, and between points they interpolate
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([1.0, 2.0], 0.5) == 1.5
    assert percentile([7.0], 0.99) == 7.0
    assert math.isnan(percentile([], 0.5))


def test_percentile_refuses_a_fraction_outside_0_1() -> None:
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], 99)


def test_latency_summary_reports_milliseconds() -> None:
    # Given 1000 latencies of 1 ms and one of 50 ms
    latencies = [0.001] * 1000 + [0.050]
    # When summarised
    summary = latency_summary(latencies)
    # Then p50 and p99 are 1 ms and the max is the outlier
    assert summary["p50"] == pytest.approx(1.0)
    assert summary["p99"] == pytest.approx(1.0)
    assert summary["max"] == pytest.approx(50.0)


def test_spread_takes_the_median_of_an_odd_number_of_runs() -> None:
    # Given three runs, one of them disturbed
    result = spread([100.0, 40.0, 110.0])
    # Then the median ignores the disturbed run, and the range shows it
    assert result.median == 100.0
    assert (result.low, result.high) == (40.0, 110.0)
    assert result.relative_range == pytest.approx(0.7)


def test_spread_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no measurements"):
        spread([])


def test_ratio_is_nan_without_a_baseline() -> None:
    assert ratio(7.0, 10.0) == pytest.approx(0.7)
    assert math.isnan(ratio(7.0, 0.0))


def test_zipf_exponent_puts_80_percent_of_draws_on_the_hottest_20_percent() -> None:
    # Given the default catalogue size
    exponent = zipf_exponent_for(20_000)
    # Then its top fifth holds 80% of the weight
    assert head_share(zipf_weights(20_000, exponent), 0.2) == pytest.approx(0.8, abs=1e-6)


def test_skewed_draws_follow_the_80_20_rule() -> None:
    # When drawing 50,000 SKU indices out of 5,000
    draws = skewed_indices(5_000, 50_000, seed=3)
    # Then about 80% land on the first 1,000 (the hottest fifth)
    hot = sum(1 for index in draws if index < 1_000) / len(draws)
    assert hot == pytest.approx(0.8, abs=0.02)


def test_catalogue_stocks_each_sku_in_one_to_three_warehouses() -> None:
    cat = catalogue("t", 500)
    assert all(1 <= len(warehouses) <= 3 for warehouses in cat.stocked_in)
    assert len(set(cat.skus)) == 500
    assert cat.positions == sum(len(w) for w in cat.stocked_in)
