"""`distgate reconcile FILE.csv`: ERP book stock against the projected on_hand."""

import asyncio
import csv
import sys
from pathlib import Path
from typing import TextIO

from aiokafka.errors import KafkaError

from app.errors import ConfigurationError
from app.read.replica import ChangelogReplica
from app.settings import Settings
from protocols.book_stock import BookStockError, parse_book_stock
from tables.reconcile import Discrepancy, reconcile
from tables.stock import SkuStock
from tables.stock_table import decode_stock, stock_changelog

COLUMNS = ("sku", "warehouse", "erp_qty", "distgate_on_hand", "difference", "finding")
LOAD_TIMEOUT = 300.0


def run_reconcile(settings: Settings, book_path: Path, out: Path | None) -> int:
    """Print (and optionally write) the discrepancy report; 0 when in step, 1 when not."""
    try:
        book = parse_book_stock(book_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"cannot read {book_path}: {exc.strerror}") from exc
    except BookStockError as exc:
        raise ConfigurationError(f"{book_path}: {exc}") from exc
    projected = asyncio.run(_projected_stock(settings))
    found = reconcile(book, projected)
    _print_table(found, len(book), sys.stdout)
    if out is not None:
        _write_csv(found, out)
        print(f"report written to {out}")
    return 1 if found else 0


async def _projected_stock(settings: Settings) -> list[SkuStock]:
    """Read the stock table's changelog to its end: the same state every worker serves."""
    spec = stock_changelog(settings.app_id)
    replica = ChangelogReplica(
        "stock", spec.name, settings.partitions, settings.kafka, decode_stock
    )
    await replica.start()
    try:
        await asyncio.wait_for(replica.wait_caught_up(), LOAD_TIMEOUT)
        return list(replica.values())
    except TimeoutError as exc:
        raise ConfigurationError(f"could not read {spec.name} within {LOAD_TIMEOUT:.0f}s") from exc
    except KafkaError as exc:
        raise ConfigurationError(f"cannot read {spec.name} from Kafka: {exc}") from exc
    finally:
        await replica.stop()


def _print_table(found: list[Discrepancy], book_lines: int, stream: TextIO) -> None:
    if not found:
        print(f"in step: {book_lines} book lines match the projected on_hand", file=stream)
        return
    rows = [COLUMNS, *(_row(d) for d in found)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip(), file=stream)
    print(f"{len(found)} discrepancies over {book_lines} book lines", file=stream)


def _row(d: Discrepancy) -> tuple[str, ...]:
    def shown(value: int | None) -> str:
        return "-" if value is None else str(value)

    return (
        d.sku,
        d.warehouse,
        shown(d.erp_qty),
        shown(d.distgate_on_hand),
        f"{d.difference:+d}",
        d.finding,
    )


def _write_csv(found: list[Discrepancy], out: Path) -> None:
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(_row(d) for d in found)
