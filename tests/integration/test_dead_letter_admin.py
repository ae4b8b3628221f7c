"""Operators look at dead letters and send them again, over HTTP (scope admin) and the CLI."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.settings import Settings
from tests.conftest import SpawnWorker
from tests.support.kafka import unique
from tests.support.polling import eventually
from tests.support.wms import dead_letter_tap, positions, publish_xml, take, unique_warehouse

pytestmark = pytest.mark.brokers

ADMIN = "admin-token-0123456789"
READER = "reader-token-0123456789"


def tokens_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokens.json"
    path.write_text(
        json.dumps(
            [{"token": ADMIN, "scopes": ["admin"]}, {"token": READER, "scopes": ["atp:read"]}]
        )
    )
    return path


async def call(method: str, url: str, token: str | None = None) -> tuple[int, Any]:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http, http.request(method, url, headers=headers) as r:
        return r.status, await r.json(content_type=None)


def dlq(deployment: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISTGATE_")}
    env |= {"DISTGATE_KAFKA_URL": deployment.kafka_url, "DISTGATE_AMQP_URL": deployment.amqp_url}
    env |= {"DISTGATE_APP_ID": deployment.app_id}
    env |= {"DISTGATE_DEAD_LETTER_INDEX_KIB": str(deployment.dead_letter_index_kib)}
    command = [sys.executable, "-m", "app", "dlq", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


async def test_dead_letters_are_listed_and_replayed_after_a_fix(
    spawn_worker: SpawnWorker, deployment: Settings, tmp_path: Path
) -> None:
    # Given a worker with API tokens
    worker = spawn_worker(DISTGATE_API_TOKENS_FILE=str(tokens_file(tmp_path)))
    await worker.wait_ready()
    where, sku = unique_warehouse(), unique("SKU")
    listing = f"{worker.url}/v1/admin/dead-letters?limit=100"
    # Then the admin endpoints need the admin scope
    assert (await call("GET", listing))[0] == 401
    assert (await call("GET", listing, READER))[0] == 403
    assert (await call("GET", f"{worker.url}/v1/admin/dead-letters?limit=0", ADMIN))[0] == 422
    # When a WMS sends malformed XML, and a hold of stock it does not have yet
    broken = f'<Receipt txn="R-1" warehouse="{where}"><Line sku="{sku}"'.encode()
    hold = f'<Hold txn="H-1" warehouse="{where}"><Line sku="{sku}" delta="5"/></Hold>'.encode()
    async with dead_letter_tap(deployment, where) as dead:
        await publish_xml(
            deployment.amqp_url, [(f"{where}.receipt", broken), (f"{where}.hold", hold)]
        )

        # Then both are listed, newest first, with why
        # (by source and reason: a new deployment also dead-letters the old ERP decisions
        # a shared stack holds, and those may be the newest hundred)
        async def both() -> list[dict[str, Any]]:
            _, from_wms = await call("GET", f"{listing}&source=amqp", ADMIN)
            _, held = await call("GET", f"{listing}&reason=hold_exceeds_on_hand", ADMIN)
            return ours(from_wms, where, sku) + ours(held, where, sku)

        found = await eventually(both, lambda letters: len(letters) == 2)
        letters = {d["reason"]: d for d in found}
        assert set(letters) == {"malformed_xml", "hold_exceeds_on_hand"}
        malformed, held = letters["malformed_xml"], letters["hold_exceeds_on_hand"]
        assert (malformed["source"], malformed["payload"]) == ("amqp", broken.decode())
        inbox = deployment.topics.stock_inbox.name
        assert (held["source"], held["origin"]) == ("kafka", inbox)
        # When the malformed one is replayed over HTTP
        status, accepted = await call(
            "POST", f"{worker.url}/v1/admin/dead-letters/{malformed['id']}/replay", ADMIN
        )
        # Then it went back to wms.events with its routing key, through the bridge, and is
        # dead-lettered again (nothing fixed it)
        assert status == 202
        assert accepted == {
            "id": malformed["id"],
            "source": "amqp",
            "target": f"wms.events/{where}.receipt",
        }
        first, again = await take(dead, 2)
        assert first.body == again.body == broken
    # When stock arrives (the fix) and the hold is replayed with the CLI
    receipt = f'<Receipt txn="R-2" warehouse="{where}"><Line sku="{sku}" qty="10"/></Receipt>'
    await publish_xml(deployment.amqp_url, [(f"{where}.receipt", receipt.encode())])
    await eventually(lambda: positions(worker.url, sku, READER), lambda p: p is not None)
    listed = dlq(deployment, "list", "--json", "--reason", "hold_exceeds_on_hand")
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()].count(held["id"]) == 1
    shown = dlq(deployment, "show", held["id"])
    assert shown.returncode == 0, shown.stderr
    assert "reason: hold_exceeds_on_hand" in shown.stdout
    replayed = dlq(deployment, "replay", held["id"])
    # Then the hold applies
    assert replayed.returncode == 0, replayed.stderr
    assert f"replayed {held['id']} (kafka) to {inbox}" in replayed.stdout
    await eventually(
        lambda: positions(worker.url, sku, READER),
        lambda p: p is not None and p[where]["blocked"] == 5,
    )
    # And replayed a second time, it changes nothing: the hold was applied once
    assert dlq(deployment, "replay", held["id"]).returncode == 0
    before = await positions(worker.url, sku, READER)
    assert before is not None
    marker = f'<Receipt txn="R-3" warehouse="{where}"><Line sku="{sku}" qty="1"/></Receipt>'
    await publish_xml(deployment.amqp_url, [(f"{where}.receipt", marker.encode())])
    after = await eventually(
        lambda: positions(worker.url, sku, READER),
        lambda p: p is not None and p[where]["on_hand"] == before[where]["on_hand"] + 1,
    )
    assert after[where]["blocked"] == 5
    # And an unknown id is 404 over HTTP and an error in the CLI
    missing = f"{worker.url}/v1/admin/dead-letters/{'0' * 20}/replay"
    assert (await call("POST", missing, ADMIN))[0] == 404
    unknown = dlq(deployment, "replay", "0" * 20)
    assert unknown.returncode == 2
    assert "no dead letter" in unknown.stderr


def ours(body: Any, where: str, sku: str) -> list[dict[str, Any]]:
    """This test's dead letters: by the warehouse in the routing key or the SKU in the payload."""
    return [
        d
        for d in body["dead_letters"]
        if any(h["value"].startswith(f"{where}.") for h in d["headers"]) or sku in d["payload"]
    ]
