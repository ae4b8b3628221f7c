"""`distgate reconcile FILE.csv`: read the book, read the projection, print the differences."""

import asyncio
import sys
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from app.errors import ConfigurationError
from app.read.replica import ChangelogReplica
from app.reconcile.progress import Progress
from app.reconcile.report import Report, build_report, write_csv, write_json, write_text
from app.settings import Settings
from protocols.book_stock import (
    BookStock,
    BookStockError,
    Encoding,
    decode_book,
    parse_book_stock,
    shown,
)
from tables.stock.reconcile import reconcile
from tables.stock.table import decode_stock, stock_changelog
from tables.stock.value import SkuStock

LOAD_TIMEOUT = 300.0


def run_reconcile(settings: Settings, book_path: Path, out: Path | None, as_json: bool) -> int:
    """Print (and optionally write) the report: 0 in step, 1 differences or bad rows."""
    progress = Progress(sys.stderr)
    try:
        book, encoding = _read_book(book_path, progress)
        projected = asyncio.run(_projected_stock(settings, progress))
    finally:
        progress.done()  # an error message must not land on the progress line
    found = reconcile(book.lines, projected, blocked=book.states_blocked)
    report = build_report(book, encoding, found)
    if out is not None:
        _write_csv(report, out)
    (write_json if as_json else write_text)(report, sys.stdout)
    return 0 if report.in_step else 1


def _write_csv(report: Report, out: Path) -> None:
    try:
        write_csv(report, out)
    except OSError as exc:
        raise ConfigurationError(f"cannot write {shown(str(out))}: {exc.strerror}") from exc
    print(f"report written to {out}", file=sys.stderr)


def _read_book(path: Path, progress: Progress) -> tuple[BookStock, Encoding]:
    """The parsed book; a file that cannot be read, or has no header, is a usage error."""
    try:
        text, encoding = decode_book(path.read_bytes())
    except OSError as exc:
        raise ConfigurationError(f"cannot read {shown(str(path))}: {exc.strerror}") from exc
    if encoding == "windows-1252":  # a guess, so say it
        print(f"note: {shown(str(path))} is not UTF-8; read as Windows-1252", file=sys.stderr)
    total = text.count("\n")
    try:
        book = parse_book_stock(text, lambda line: progress.show(f"book line {line}/{total}"))
    except BookStockError as exc:
        raise ConfigurationError(f"{shown(str(path))}: {exc}") from exc
    return book, encoding


async def _projected_stock(settings: Settings, progress: Progress) -> list[SkuStock]:
    """Read the stock table's changelog to its end: the same state every worker serves."""
    spec = stock_changelog(settings.app_id)
    partitions = await _partitions(settings, spec.name)
    replica = ChangelogReplica("stock", spec.name, partitions, settings.kafka, decode_stock)
    await replica.start()
    try:
        await asyncio.wait_for(_caught_up(replica, progress), LOAD_TIMEOUT)
        return list(replica.values())
    except TimeoutError as exc:
        raise ConfigurationError(f"could not read {spec.name} within {LOAD_TIMEOUT:.0f}s") from exc
    except KafkaError as exc:
        raise ConfigurationError(f"cannot read {spec.name} from Kafka: {exc}") from exc
    finally:
        await replica.stop()


async def _partitions(settings: Settings, topic: str) -> int:
    """The changelog's partition count; a missing changelog is a wrong app id, said at once."""
    admin = AIOKafkaAdminClient(**settings.kafka.client_options())
    try:
        await admin.start()
        # Listing first: asking a broker that auto-creates topics about one would create it.
        exists = topic in await admin.list_topics()
        described = await admin.describe_topics([topic]) if exists else []
    except KafkaError as exc:
        raise ConfigurationError(
            f"cannot reach Kafka at {settings.kafka_bootstrap}: {exc}"
        ) from exc
    finally:
        await admin.close()
    if not described:
        raise ConfigurationError(
            f"Kafka has no topic {topic}: no worker of {settings.app_id} has run "
            "(is DISTGATE_APP_ID right?)"
        )
    return len(described[0]["partitions"])


async def _caught_up(replica: ChangelogReplica[SkuStock], progress: Progress) -> None:
    waiting = asyncio.ensure_future(replica.wait_caught_up())
    try:
        while not waiting.done():
            await asyncio.wait({waiting}, timeout=0.2)
            left = sum(p.remaining for p in replica.progress())
            progress.show(f"distgate's stock: {len(replica)} SKUs read, {left} records left")
        await waiting
    finally:
        waiting.cancel()  # when the timeout cancels this wait
