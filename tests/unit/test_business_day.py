""" "Today" for promise dates is the date where the business runs, not in UTC."""

import datetime as dt
import zoneinfo
from pathlib import Path
from typing import Any

from tables.business_day import business_day
from tables.stock.atp import promise_date
from tables.stock.value import Position, SkuStock
from tests.support.api import MemoryStock, api

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
KIRITIMATI = zoneinfo.ZoneInfo("Pacific/Kiritimati")
PAGO_PAGO = zoneinfo.ZoneInfo("Pacific/Pago_Pago")
LATE_EVENING_UTC = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)


def test_the_business_day_is_the_date_in_the_deployments_zone() -> None:
    # Given 23:30 UTC on 1 March
    # Then it is already 2 March in Berlin, still 1 March in UTC and in Chicago
    assert business_day(LATE_EVENING_UTC, dt.UTC) == dt.date(2026, 3, 1)
    assert business_day(LATE_EVENING_UTC, BERLIN) == dt.date(2026, 3, 2)
    assert business_day(LATE_EVENING_UTC, CHICAGO) == dt.date(2026, 3, 1)
    # and at 03:00 UTC on 2 March it is still 1 March in Chicago
    early = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)
    assert business_day(early, CHICAGO) == dt.date(2026, 3, 1)


def test_a_line_covered_now_is_promised_for_the_local_today() -> None:
    # Given stock on hand at a Berlin warehouse, asked at 23:30 UTC
    position = Position(warehouse="DC-A", on_hand=5)
    # Then the promise is Berlin's date, the day after UTC's
    today = business_day(LATE_EVENING_UTC, BERLIN)
    assert promise_date(position, 5, today) == dt.date(2026, 3, 2)


async def test_the_atp_check_promises_for_the_deployments_today(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    # Given an API whose business day is in a zone whose date differs from UTC's right now
    # (UTC+14 from 10:00 UTC on, UTC-11 before 11:00 UTC)
    now = dt.datetime.now(dt.UTC)
    zone = next(z for z in (KIRITIMATI, PAGO_PAGO) if business_day(now, z) != now.date())
    stock = MemoryStock(SkuStock("SKU-1", (Position(warehouse="DC-A", on_hand=5),)))
    client = await aiohttp_client(api(tmp_path, stock=stock, zone=zone))
    # When a shop checks a line that is covered now
    response = await client.post("/v1/atp/check", json={"lines": [{"sku": "SKU-1", "qty": 2}]})
    # Then it is promised for today there, not for UTC's today
    (line,) = (await response.json())["lines"]
    assert line["promise_date"] == business_day(now, zone).isoformat()
