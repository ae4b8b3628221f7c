"""`distgate reconcile` reads the projected stock from Kafka and reports the differences."""

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.settings import Settings
from protocols.inventory import StockHoldChanged, StockReceived
from tables.stock.table import encode_stock, stock_changelog
from tables.stock.value import Position, SkuStock
from tests.conftest import SpawnWorker
from tests.support.kafka import create_topic, produce, unique
from tests.support.polling import eventually

pytestmark = pytest.mark.brokers

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def run_reconcile(brokers: Settings, app_id: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISTGATE_")}
    return subprocess.run(
        [sys.executable, "-m", "app", "reconcile", *args],
        env={
            **env,
            "DISTGATE_APP_ID": app_id,
            "DISTGATE_KAFKA_URL": brokers.kafka_url,
            "DISTGATE_PARTITIONS": str(brokers.partitions),
        },
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
    assert "in step: 3 book rows, no differences in on_hand" in agreed.stdout
    # When the same book comes as Windows-1252, with an accented description
    book.write_bytes("sku,warehouse,qty,description\nSKU-A,DC-EAST,47,café\n".encode("cp1252"))
    guessed = run_reconcile(brokers, app_id, str(book))
    # Then it is read, with a note on stderr saying how (SKU-B is 0 in ERP now)
    assert guessed.returncode == 1, guessed.stderr
    assert "is not UTF-8; read as Windows-1252" in guessed.stderr
    assert "2 differences and 0 bad rows; 1 book row compared on on_hand" in guessed.stdout
    # When ERP's book differs on one line and lacks another
    book.write_text("sku,warehouse,qty\nSKU-A,DC-EAST,50\nSKU-B,DC-EAST,3\n")
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


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        (b"", "no header: the file has no rows"),
        (b"SKU-A,DC-EAST,1\n", "line 1: no header naming sku, warehouse and qty"),
    ],
)
def test_a_missing_file_or_one_without_a_header_exits_2(
    brokers: Settings, tmp_path: Path, content: bytes | None, message: str
) -> None:
    # Given no file, an empty one, or one without a header
    book = tmp_path / "book.csv"
    if content is not None:
        book.write_bytes(content)
    # When reconciled
    result = run_reconcile(brokers, "unused", str(book), "--json")
    # Then it exits 2 saying why, with nothing on stdout
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def stock_messages(sku: str) -> list[tuple[bytes, StockReceived | StockHoldChanged]]:
    """The WMS receives 12 in the east (2 of them held for QC) and 5 in the west."""

    def received(warehouse: str, qty: int) -> StockReceived:
        return StockReceived(
            event_id=unique("rcv"), sku=sku, warehouse=warehouse, occurred_at=NOW, qty=qty
        )

    hold = StockHoldChanged(
        event_id=unique("h"), sku=sku, warehouse="DC-EAST", occurred_at=NOW, delta=2, reason="QC"
    )
    return [(sku.encode(), m) for m in (received("DC-EAST", 12), hold, received("DC-WEST", 5))]


async def atp(url: str, sku: str) -> Any:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/v1/atp/{sku}") as response:
        return await response.json(content_type=None)


async def test_reconcile_json_against_a_real_worker(
    spawn_worker: SpawnWorker, deployment: Settings, tmp_path: Path
) -> None:
    # Given a worker that projected 12 on hand (2 blocked) in the east and 5 in the west
    worker = spawn_worker()
    await worker.wait_ready()
    sku = unique("SKU")
    await produce(
        deployment.kafka_bootstrap, deployment.topics.stock_inbox.name, stock_messages(sku)
    )
    await eventually(lambda: atp(worker.url, sku), lambda a: a.get("atp") == 15, within=60)
    book = tmp_path / "book.csv"
    # When ERP's Excel file agrees: BOM, `;`, its own header case, an extra column, "12.0"
    rows = [
        "SKU;Warehouse;Qty;Description;Blocked",
        f"{sku};DC-EAST;12.0;Schraube, groß;2",
        f"{sku};DC-WEST;5;;",
    ]
    book.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode())
    agreed = run_reconcile(deployment, deployment.app_id, str(book), "--json")
    # Then the JSON says in step and the exit code is 0
    assert agreed.returncode == 0, agreed.stderr
    assert json.loads(agreed.stdout) == {
        "version": 1,
        "in_step": True,
        "compared": ["on_hand", "blocked"],
        "book": {"rows": 2, "bad_rows": 0, "encoding": "utf-8", "separator": ";"},
        "differences": [],
        "bad_rows": [],
    }
    # When ERP books 1 blocked in the east, lacks the west, and has a row that is no number
    rows = [rows[0], f"{sku};DC-EAST;12;;1", f"{sku};DC-NORTH;5.5;;"]
    book.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode())
    differs = run_reconcile(deployment, deployment.app_id, str(book), "--json")
    # Then the blocked difference, the missing row and the bad row are reported; exit 1
    assert differs.returncode == 1, differs.stderr
    report = json.loads(differs.stdout)
    assert (report["in_step"], report["book"]["rows"]) == (False, 1)
    assert [(d["warehouse"], d["finding"]) for d in report["differences"]] == [
        ("DC-EAST", "mismatch"),
        ("DC-WEST", "missing_in_erp"),
    ]
    east, west = report["differences"]
    assert (east["difference"], east["erp_blocked"], east["blocked_difference"]) == (0, 1, 1)
    assert (west["erp_qty"], west["distgate_on_hand"], west["difference"]) == (None, 5, 5)
    assert report["bad_rows"] == [{"line": 3, "reason": "qty '5.5' is not a whole number >= 0"}]
