"""Dead letters filtered by source and reason, so a flood of one reason hides no other."""

import datetime as dt
from pathlib import Path
from typing import Any

from aiokafka import ConsumerRecord

from app.read.deadletter_index import DeadLetterIndex
from protocols.deadletters import DeadLetter
from tests.support.api import api

T0 = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)


def _record(letter_id: str, minute: int, source: str, reason: str) -> ConsumerRecord:
    letter = DeadLetter(
        id=letter_id, source=source, origin="o", reason=reason, error="e",  # type: ignore[arg-type]
        at=T0 + dt.timedelta(minutes=minute), payload=b"x", headers=(),
    )  # fmt: skip
    return ConsumerRecord(
        "dl", 0, minute, 0, 0, None, b"x", None, 1, 0, letter.to_headers()
    )  # fmt: skip


def test_only_the_letters_of_that_source_and_reason_newest_first() -> None:
    index = DeadLetterIndex()
    index.add_record(_record("old-xml", 1, "amqp", "malformed_xml"))
    for minute in range(2, 300):  # a flood of one reason after it
        index.add_record(_record(f"flood-{minute}", minute, "kafka", "unknown_order"))
    index.add_record(_record("new-xml", 400, "amqp", "malformed_xml"))
    assert [e.letter.id for e in index.newest(10, "amqp", "malformed_xml")] == [
        "new-xml",
        "old-xml",
    ]
    assert len(index.newest(10, reason="unknown_order")) == 10
    assert index.newest(10, source="http") == []


async def test_a_bad_filter_is_a_422_naming_the_parameter(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    class Letters:
        ready = True

        def newest(self, *_: object) -> list[object]:
            return []

    client = await aiohttp_client(api(tmp_path, dead_letters=Letters()))
    for query, parameter in (("source=smtp", "source"), ("reason=Not%20a%20reason", "reason")):
        response = await client.get(f"/v1/admin/dead-letters?{query}")
        assert response.status == 422
        assert (await response.json())["errors"][0]["loc"] == ["query", parameter]
    assert (await client.get("/v1/admin/dead-letters?source=amqp&reason=too_deep")).status == 200
