"""The one faust.App, built from Settings; agents and tables are registered on it here."""

from collections import defaultdict

import faust

from agents.runtime.durable_app import DurableApp
from app.readiness import Progress
from app.settings import CONSUMER_SESSION_TIMEOUT_S, Settings


def create_faust_app(settings: Settings) -> DurableApp:
    """Build the Faust app: RocksDB tables, at-least-once, our HTTP server instead of Faust's."""
    return DurableApp(
        settings.app_id,
        env={},  # Faust would read unprefixed variables (BROKER, PROCESSING_GUARANTEE...)
        broker=settings.kafka_url,
        broker_credentials=settings.kafka.faust_credentials(),
        store="rocksdb://",
        datadir=str(settings.data_dir / "faust"),
        autodiscover=False,
        web_enabled=False,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        processing_guarantee="at_least_once",
        producer_acks=-1,
        # Batch agents send closed record batches, which do not linger; what others
        # produce (relays, dead letters) shares a request with what comes in the next 10 ms.
        producer_linger=0.01,
        # A batch agent sends one record batch per partition per batch: room for a few
        # hundred records each, where the 16 KiB default split every hot partition's batch.
        producer_max_batch_size=256 * 1024,
        # Kafka's default message.max.bytes (1 MiB + 12): a full request is never refused.
        producer_max_request_size=1024 * 1024,
        # No cap on records per fetch: a batch agent takes what a fetch brings (a cap of
        # 500 cost Faust users 20x when a partition had a backlog).
        broker_max_poll_records=None,
        consumer_auto_offset_reset="earliest",
        table_standby_replicas=0,
        broker_session_timeout=CONSUMER_SESSION_TIMEOUT_S,
        broker_heartbeat_interval=2.0,
    )


def faust_progress(app: faust.App) -> list[Progress]:
    """Per-table restore progress of the partitions this worker is assigned."""
    recovery = app.tables.recovery  # type: ignore[attr-defined]
    remaining: dict[str, dict[str, int]] = defaultdict(dict)
    for tp, count in recovery.active_remaining().items():
        table = recovery.tp_to_table.get(tp)
        name = table.name if table is not None else tp.topic
        remaining[name][f"{tp.topic}/{tp.partition}"] = max(0, count)
    restoring = app.rebalancing or recovery.in_recovery or not recovery.completed.is_set()
    progress = [
        Progress(
            name=name,
            ready=not restoring,
            remaining=sum(parts.values()),
            partitions=parts,
            detail="restoring" if restoring else "consuming",
        )
        for name, parts in sorted(remaining.items())
    ]
    if not progress:
        detail = "rebalancing or restoring" if restoring else "consuming"
        progress.append(Progress("streams", ready=not restoring, detail=detail))
    return progress
