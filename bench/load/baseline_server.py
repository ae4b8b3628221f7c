"""The ATP baseline: a bare aiohttp app serving the worker's exact answer bytes from a dict.

Run as `python -m bench.load.baseline_server PORT BODIES_FILE` (BODIES_FILE: msgpack {sku: bytes}).
Same route shape as the worker, no middlewares, no replica, no encoding per request; a
check decodes its body and answers the first line's SKU's bytes (no sourcing rules).
"""

import sys
from pathlib import Path

import msgspec
from aiohttp import web

BODIES = web.AppKey("bodies", dict[str, bytes])


async def get_atp(request: web.Request) -> web.Response:
    """Answer the stored bytes for the SKU, or 404."""
    body = request.app[BODIES].get(request.match_info["sku"])
    if body is None:
        raise web.HTTPNotFound()
    return web.Response(body=body, content_type="application/json")


class _Line(msgspec.Struct):
    sku: str
    qty: int


class _Check(msgspec.Struct):
    lines: list[_Line]


_check = msgspec.json.Decoder(_Check)


async def post_check(request: web.Request) -> web.Response:
    """Decode the check and answer the stored bytes of its first line's SKU, or 404."""
    check = _check.decode(await request.read())
    body = request.app[BODIES].get(check.lines[0].sku) if check.lines else None
    if body is None:
        raise web.HTTPNotFound()
    return web.Response(body=body, content_type="application/json")


def create_app(bodies: dict[str, bytes]) -> web.Application:
    """The baseline app over `bodies`."""
    app = web.Application()
    app[BODIES] = bodies
    app.router.add_get("/v1/atp/{sku:.+}", get_atp)
    app.router.add_post("/v1/atp/check", post_check)
    return app


def main(argv: list[str]) -> int:
    """Serve on 127.0.0.1:PORT until SIGTERM."""
    port, bodies_file = int(argv[0]), Path(argv[1])
    bodies = msgspec.msgpack.decode(bodies_file.read_bytes(), type=dict[str, bytes])
    web.run_app(create_app(bodies), host="127.0.0.1", port=port, access_log=None, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
