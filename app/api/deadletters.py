"""Dead-letter admin (scope `admin`): list previews, show one whole, replay one."""

import re
from typing import get_args

from aiohttp import web

from app.api.bodies import json_response
from app.api.keys import TOKENS
from app.dlq import DeadLetterAdmin
from app.errors import NotFound, NotReady, Unprocessable
from protocols.deadletters import DeadLetterList, Source
from protocols.http import ENCODER, FieldError

DEAD_LETTERS = web.AppKey("dead_letters", DeadLetterAdmin)
DEFAULT_LIMIT = 100
MAX_LIMIT = 100  # a listing of previews stays about 300 KiB at most
_LETTER_ID = re.compile(r"[0-9a-f]{20}")
_REASON = re.compile(r"[a-z0-9_]{1,64}")
SOURCES = frozenset(get_args(Source))


def _admin(request: web.Request) -> DeadLetterAdmin:
    request.app[TOKENS].authorize(request.headers.get("Authorization"), "admin")
    admin = request.app[DEAD_LETTERS]
    if not admin.ready:
        raise NotReady("the dead letters are still being read on this worker; retry shortly")
    return admin


async def list_dead_letters(request: web.Request) -> web.Response:
    """The newest dead letters first, each a preview, at most `limit` (1..100, default 100),
    of one `source` and `reason` if asked."""
    admin = _admin(request)
    raw = request.query.get("limit", str(DEFAULT_LIMIT))
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise Unprocessable(
            "invalid limit",
            [FieldError(loc=("query", "limit"), msg=f"limit must be an integer 1..{MAX_LIMIT}")],
        )
    source, reason = request.query.get("source"), request.query.get("reason")
    if source is not None and source not in SOURCES:
        raise Unprocessable(
            "invalid source",
            [FieldError(loc=("query", "source"), msg=f"source must be one of {sorted(SOURCES)}")],
        )
    if reason is not None and _REASON.fullmatch(reason) is None:
        raise Unprocessable(
            "invalid reason",
            [FieldError(loc=("query", "reason"), msg="reason must match [a-z0-9_]{1,64}")],
        )
    letters = admin.newest(int(raw), source, reason)
    return json_response(DeadLetterList(tuple(letters)), ENCODER)


async def show_dead_letter(request: web.Request) -> web.Response:
    """One dead letter whole: its full payload, error and headers, read back from Kafka."""
    admin = _admin(request)
    return json_response(await admin.whole(_letter_id(request)), ENCODER)


async def replay_dead_letter(request: web.Request) -> web.Response:
    """Send the dead letter's original message again, where it came from: 202."""
    admin = _admin(request)
    return json_response(await admin.replay(_letter_id(request)), ENCODER, status=202)


def _letter_id(request: web.Request) -> str:
    letter_id = request.match_info["id"]
    if _LETTER_ID.fullmatch(letter_id) is None:
        raise NotFound("no dead letter with that id")
    return letter_id


def add_routes(app: web.Application) -> None:
    """Mount the dead-letter admin endpoints."""
    app.router.add_get("/v1/admin/dead-letters", list_dead_letters)
    app.router.add_get("/v1/admin/dead-letters/{id}", show_dead_letter)
    app.router.add_post("/v1/admin/dead-letters/{id}/replay", replay_dead_letter)
