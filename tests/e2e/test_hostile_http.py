"""The HTTP API under fuzzing: schemathesis against a real worker's own /openapi.json.

OWASP API Security Top 10 is the checklist: every operation is called with requests that
fit the document and requests that break it (API8: misconfiguration, unvalidated input)
as an admin, a shop-wide token, two customer-bound ones (API1: object-level
authorisation), an unknown and no token (API2: authentication); a hand-made corpus adds
what the document does not describe, oversize and malformed bodies (API4: resource
consumption). No answer may be a 5xx, and each must be one the document declares, with
its content type, headers and body schema.
"""

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, strategies
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from yarl import URL

from app.dev.workers import WorkerProcess
from tests.conftest import SpawnWorker
from tests.support.hostile import HostileRequest, hostile_row, http_corpus
from tests.support.kafka import unique
from tests.support.polling import eventually
from tests.support.shop import call, receive

pytestmark = pytest.mark.brokers

CUSTOMER = "fuzz-customer-0123456789"
OTHER_CUSTOMER = "fuzz-other-customer-0123456789"
UNKNOWN = "fuzz-unknown-0123456789"
TOKENS = [
    {
        "token": "fuzz-admin-0123456789",
        "scopes": ["atp:read", "orders:read", "orders:write", "admin"],
    },
    {"token": "fuzz-shop-0123456789", "scopes": ["atp:read", "orders:read", "orders:write"]},
    {
        "token": CUSTOMER,
        "scopes": ["atp:read", "orders:read", "orders:write"],
        "customer_id": "C-42",
    },
    {
        "token": OTHER_CUSTOMER,
        "scopes": ["atp:read", "orders:read", "orders:write"],
        "customer_id": "C-7",
    },
]
# Every token of the file, one it does not hold, and none at all.
CALLERS = [*(entry["token"] for entry in TOKENS), UNKNOWN, None]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_MODE = 40
PROBLEM = "application/problem+json"


@dataclass
class Tally:
    """What the fuzzing sent and what came back wrong, for the README's table."""

    sent: int = 0
    server_errors: int = 0
    anonymous_answers: set[int] = field(default_factory=set)  # no known token, not open
    failures: set[str] = field(default_factory=set)


async def test_no_fuzzed_request_gets_a_5xx_or_an_undeclared_answer(
    spawn_worker: SpawnWorker, tmp_path: Path
) -> None:
    # Given a ready worker with an admin, a shop-wide and two customer-bound tokens
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps(TOKENS))
    worker = spawn_worker(DISTGATE_API_TOKENS_FILE=str(tokens))
    await worker.wait_ready()
    # And a SKU in stock and an order of the bound customer, so reads also find something
    known = await _known_sku_and_order(worker)
    schema = schemathesis.openapi.from_url(f"{worker.url}/openapi.json")
    tally = Tally()
    # When every operation gets requests that fit the document and requests that break it
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                with contextlib.suppress(Unsatisfiable):  # nothing to break: no inputs
                    _fuzzer(operation, mode, known, session, tally)()
    print(hostile_row("HTTP, fuzzed from `/openapi.json`", tally.sent, tally.server_errors, None))
    # Then not one answer was a 5xx or broke the document
    assert not tally.failures, "\n\n".join(sorted(tally.failures))
    assert tally.server_errors == 0
    # And without a known token nothing but the open operations answered anything but 401
    assert tally.anonymous_answers == {401}
    # And another customer's token still cannot see or cancel the bound customer's order
    assert await _status(worker, "GET", "/v1/orders/FUZZ-1", OTHER_CUSTOMER) == 404
    assert await _status(worker, "POST", "/v1/orders/FUZZ-1/cancel", OTHER_CUSTOMER) == 404
    # When requests beyond the document's schemas come: size, encoding, nesting, injection
    corpus = http_corpus(known["sku"])
    answers = {case.name: await _answer(worker, case) for case in corpus}
    server_errors = sum(status >= 500 for status, _ in answers.values())
    print(hostile_row("HTTP, hand-made corpus", len(corpus), server_errors, None))
    # Then each gets the problem+json status the contract gives it
    expected = {case.name: (case.status, PROBLEM) for case in corpus}
    assert answers == expected
    # And the worker still serves
    assert (await call(worker.url, "GET", "/readyz"))[0] == 200


async def _status(worker: WorkerProcess, method: str, path: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return (await call(worker.url, method, path, headers=headers))[0]


async def _answer(worker: WorkerProcess, case: HostileRequest) -> tuple[int, str]:
    """The status and content type a worker answers one hand-made request with."""
    url = URL(worker.url + case.path, encoded=True)
    headers = {"Authorization": f"Bearer {TOKENS[0]['token']}", "Content-Type": case.content_type}
    async with (
        aiohttp.ClientSession() as http,
        http.request(case.method, url, data=case.body, headers=headers) as response,
    ):
        return response.status, response.content_type


async def _known_sku_and_order(worker: WorkerProcess) -> dict[str, str]:
    """Stock of a new SKU and an order of customer C-42 for it: path values that exist."""
    sku = unique("SKU")
    await receive(worker, sku, "DC-EAST", 1000)
    bound = {"Authorization": f"Bearer {CUSTOMER}"}
    await eventually(
        lambda: call(worker.url, "GET", f"/v1/atp/{sku}", headers=bound), lambda r: r[0] == 200
    )
    order = {"order_id": "FUZZ-1", "customer_id": "C-42", "channel": "web"}
    lines = [{"line_no": 1, "sku": sku, "qty": 1}]
    status, _ = await call(
        worker.url, "POST", "/v1/orders", json=order | {"lines": lines}, headers=bound
    )
    assert status == 202
    return {"sku": sku, "order_id": "FUZZ-1"}


def _cases(operation: Any, mode: GenerationMode, known: dict[str, str]) -> Any:
    """Generated requests, and as many again whose path names the known SKU or order."""
    named = {name: value for name, value in known.items() if f"{{{name}}}" in operation.path}
    if not named:
        return operation.as_strategy(mode)
    return strategies.one_of(
        operation.as_strategy(mode), operation.as_strategy(mode, path_parameters=named)
    )


def _fuzzer(
    operation: Any,
    mode: GenerationMode,
    known: dict[str, str],
    session: requests.Session,
    tally: Tally,
) -> Callable[[], None]:
    """A hypothesis test of one operation in one mode that tallies each failure, then goes on."""

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.generate],
    )
    @hypothesis.given(case=_cases(operation, mode, known), caller=strategies.sampled_from(CALLERS))
    def fuzz(case: Any, caller: str | None) -> None:
        headers = {} if caller is None else {"Authorization": f"Bearer {caller}"}
        response = case.call(session=session, headers=headers)
        tally.sent += 1
        tally.server_errors += response.status_code >= 500
        if caller in (None, UNKNOWN) and operation.definition.raw.get("security") != []:
            tally.anonymous_answers.add(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                tally.failures.add(
                    f"{operation.label} ({mode}): {failure.title}: {failure.message}"
                )

    return fuzz
