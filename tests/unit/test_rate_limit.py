"""A token's rate limit: a bucket of N, refilled N a second; beyond it 429 with Retry-After."""

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from app.api.auth import load_tokens
from app.api.ratelimit import RateLimiter, TokenBucket
from app.errors import ConfigurationError, TooManyRequests
from tests.support.api import api

LIMITED = "limited-token-0123456789"
FREE = "unlimited-token-0123456789"


def test_a_full_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    # Given a bucket of 3 refilled at 3 a second
    bucket = TokenBucket(rate=3, burst=3, now=0.0)
    # When 3 requests arrive at once, Then all pass and the 4th waits a third of a second
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(1 / 3)
    # When a third of a second passes, Then one more passes, and no more
    assert bucket.take(1 / 3) == 0.0
    assert bucket.take(1 / 3) > 0
    # And an idle minute refills it to the burst, not beyond
    assert [bucket.take(60.0) for _ in range(4)].count(0.0) == 3


def test_a_refused_request_takes_nothing_from_the_bucket() -> None:
    # Given an empty bucket of 1 a second
    bucket = TokenBucket(rate=1, burst=1, now=0.0)
    bucket.take(0.0)
    # When refused many times within the second, Then it still refills on time
    for _ in range(100):
        assert bucket.take(0.5) > 0
    assert bucket.take(1.0) == 0.0


def test_the_limiter_keeps_one_bucket_per_token_and_says_when_to_retry() -> None:
    # Given a limiter on a stopped clock
    limiter = RateLimiter(clock=lambda: 100.0)
    # When token a spends its 2, Then its third is 429 with Retry-After 1, and b is untouched
    limiter.check(b"a", 2)
    limiter.check(b"a", 2)
    with pytest.raises(TooManyRequests) as refused:
        limiter.check(b"a", 2)
    assert refused.value.headers == {"Retry-After": "1"}
    limiter.check(b"b", 2)


async def test_a_token_over_its_rate_gets_429_problem_json(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    # Given a token limited to 2 requests a second and one without a limit
    tokens = [
        {"token": LIMITED, "scopes": ["orders:read"], "rate_limit_per_s": 2},
        {"token": FREE, "scopes": ["orders:read"]},
    ]
    client: TestClient = await aiohttp_client(api(tmp_path, tokens))
    # When each sends 5 requests at once
    limited = [await client.get("/v1/orders/SO-1", headers=_bearer(LIMITED)) for _ in range(5)]
    free = [await client.get("/v1/orders/SO-1", headers=_bearer(FREE)) for _ in range(5)]
    # Then the limited token's first 2 are served and the rest are 429 with Retry-After
    assert [r.status for r in limited] == [404, 404, 429, 429, 429]
    refused = limited[-1]
    assert refused.content_type == "application/problem+json"
    assert int(refused.headers["Retry-After"]) >= 1
    assert (await refused.json(content_type=None))["status"] == 429
    # And the unlimited token is not slowed
    assert {r.status for r in free} == {404}


def test_a_rate_limit_below_one_is_refused_at_start(tmp_path: Path) -> None:
    # Given a tokens file with a zero rate, When loaded, Then the worker refuses to start
    path = tmp_path / "tokens.json"
    path.write_text(f'[{{"token": "{FREE}", "scopes": ["admin"], "rate_limit_per_s": 0}}]')
    with pytest.raises(ConfigurationError, match="rate_limit_per_s"):
        load_tokens(path)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
