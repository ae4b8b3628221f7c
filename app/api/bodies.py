"""Reading request bodies and path/query parameters into typed values, or 415/422."""

import asyncio
import re
from typing import Any, TypeVar

import msgspec
from aiohttp import web

from app.api.keys import LIMITS
from app.errors import RequestTimeout, Unprocessable, UnsupportedMediaType
from protocols.http import FieldError, field_error

T = TypeVar("T")

JSON_TYPES = frozenset({"application/json", "application/problem+json"})


async def read_json(request: web.Request, decoder: msgspec.json.Decoder[T]) -> T:
    """Decode a JSON body with `decoder`: 415 for non-JSON, 422 for contract violations."""
    if request.content_type not in JSON_TYPES:
        raise UnsupportedMediaType(
            f"send the body as application/json, not {request.content_type or 'nothing'}"
        )
    body = await _read_body(request)
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise Unprocessable("the body breaks the contract", [field_error(exc)]) from exc
    except msgspec.DecodeError as exc:
        raise UnsupportedMediaType(f"the body is not valid JSON: {exc}") from exc
    except UnicodeDecodeError as exc:  # invalid UTF-8 inside a JSON string
        raise UnsupportedMediaType(f"the body is not valid UTF-8: {exc.reason}") from exc


async def _read_body(request: web.Request) -> bytes:
    """The whole body, or 408 when it does not arrive in time (a slow sender holds a task)."""
    within = request.app[LIMITS].body_timeout_s
    try:
        async with asyncio.timeout(within):
            return await request.read()
    except TimeoutError:
        raise RequestTimeout(f"the request body did not arrive within {within:g} s") from None


def checked(value: str, pattern: re.Pattern[str], loc: tuple[str | int, ...], what: str) -> str:
    """Return `value` if it matches the identifier pattern, else raise 422 at `loc`."""
    if not pattern.match(value):
        raise Unprocessable(
            f"invalid {what}",
            [FieldError(loc=loc, msg=f"{what} must match {pattern.pattern}")],
        )
    return value


def json_response(payload: Any, encoder: msgspec.json.Encoder, status: int = 200) -> web.Response:
    """A JSON response encoded by msgspec."""
    return web.Response(
        status=status, body=encoder.encode(payload), content_type="application/json"
    )
