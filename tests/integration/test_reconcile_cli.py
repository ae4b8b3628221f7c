"""`distgate reconcile` reads the projected stock from Kafka and reports discrepancies."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.settings import Settings
from tables.stock import Position, SkuStock
from tables.stock_table import encode_stock, stock_changelog
from tests.support.kafka import create_topic, produce, unique

pytestmark = pytest.mark.brokers


def run_reconcile(brokers: Settings, app_id: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISTGATE_")}
    return subprocess.run(
        [sys.executable, "-m", "app", "reconcile", *args],
        env={**env, "DISTGATE_APP_ID": app_id, "DISTGATE_KAFKA_URL": brokers.kafka_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_reconcile_reports_discrepancies_and_exit_codes(
    brokers: Settings, tmp_path: Path
) -> None:
    # Given a projection (the stock changelog) holding two SKUs
    app_id = unique("reconcile")
    spec = stock_changelog(app_id)
    await create_topic(brokers.kafka_bootstrap, spec.name, brokers.partitions, compacted=True)
    stocks = [
        SkuStock("SKU-A", (Position("DC-EAST", on_hand=47),)),
        SkuStock("SKU-B", (Position("DC-EAST", on_hand=3), Position("DC-WEST", on_hand=9))),
    ]
    await produce(
        brokers.kafka_bootstrap, spec.name, [(s.sku.encode(), encode_stock(s)) for s in stocks]
    )
    book = tmp_path / "book.csv"
    # When ERP's book agrees
    book.write_text("sku,warehouse,qty\nSKU-A,DC-EAST,47\nSKU-B,DC-EAST,3\nSKU-B,DC-WEST,9\n")
    agreed = run_reconcile(brokers, app_id, str(book))
    # Then reconcile says so and exits 0
    assert agreed.returncode == 0, agreed.stderr
    assert "in step: 3 book lines" in agreed.stdout
    # When ERP's book differs on one line and lacks another
    book.write_text("SKU-A,DC-EAST,50\nSKU-B,DC-EAST,3\n")
    report = tmp_path / "report.csv"
    differs = run_reconcile(brokers, app_id, str(book), "--out", str(report))
    # Then both discrepancies are printed and written, and the exit code is 1
    assert differs.returncode == 1, differs.stderr
    assert "SKU-A  DC-EAST    50       47                -3          mismatch" in differs.stdout
    assert report.read_text().splitlines() == [
        "sku,warehouse,erp_qty,distgate_on_hand,difference,finding",
        "SKU-A,DC-EAST,50,47,-3,mismatch",
        "SKU-B,DC-WEST,-,9,+9,missing_in_erp",
    ]


def test_reconcile_rejects_a_bad_file_with_the_line(brokers: Settings, tmp_path: Path) -> None:
    # Given a book with a bad quantity on line 2
    book = tmp_path / "book.csv"
    book.write_text("SKU-A,DC-EAST,1\nSKU-B,DC-EAST,many\n")
    # When reconciled
    result = run_reconcile(brokers, "unused", str(book))
    # Then it exits 2 and names the line
    assert result.returncode == 2
    assert "line 2: qty 'many' is not a whole number" in result.stderr
