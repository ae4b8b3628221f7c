"""`GET /ops` (scope `admin`): the operations console, a page, a stylesheet and a script.

A browser cannot send a bearer token when it opens a page, so the console also accepts
HTTP Basic with the token as the password: a 401 here asks the browser for it, and the
browser sends it again with every request the page makes (`app.api.auth`).
"""

from importlib import resources

from aiohttp import web

from app.api.keys import TOKENS
from app.errors import Unauthorized

_FILES = resources.files("app.api").joinpath("console")
_ASSETS = {
    "/ops": ("ops.html", "text/html"),
    "/ops/ops.js": ("ops.js", "text/javascript"),
    "/ops/ops.css": ("ops.css", "text/css"),
}
_BODIES = {path: _FILES.joinpath(name).read_bytes() for path, (name, _) in _ASSETS.items()}
# Only this worker's own files and API: no inline script, no other origin, no framing.
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


async def console_file(request: web.Request) -> web.Response:
    """One of the console's three files, to a caller holding the admin scope."""
    try:
        request.app[TOKENS].authorize(request.headers.get("Authorization"), "admin")
    except Unauthorized as exc:
        exc.headers["WWW-Authenticate"] = 'Basic realm="distgate operations", charset="UTF-8"'
        raise
    path = request.match_info.route.resource.canonical  # type: ignore[union-attr]
    return web.Response(
        body=_BODIES[path], content_type=_ASSETS[path][1], charset="utf-8", headers=_HEADERS
    )


def add_routes(app: web.Application) -> None:
    """Mount the console's files."""
    for path in _ASSETS:
        app.router.add_get(path, console_file)
