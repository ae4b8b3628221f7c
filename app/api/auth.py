"""Bearer tokens with scopes, optionally bound to one customer and rate-limited (CONTRACT 2.1)."""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import msgspec

from app.api.ratelimit import RateLimiter
from app.errors import ConfigurationError, Forbidden, Unauthorized
from protocols.ids import CustomerId

Scope = str
SCOPES = frozenset({"atp:read", "orders:read", "orders:write", "admin"})


class TokenEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One entry of the tokens file."""

    token: str
    scopes: list[str]
    customer_id: CustomerId | None = None
    rate_limit_per_s: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] | None = None


@dataclass(frozen=True)
class Principal:
    """Who is calling: the scopes they hold and the customer they are bound to."""

    scopes: frozenset[Scope]
    customer_id: str | None = None
    rate_limit_per_s: int | None = None  # None: unlimited


OPEN_PRINCIPAL = Principal(scopes=SCOPES)


class TokenRegistry:
    """Looks up bearer tokens by their digest; `None` entries means the API is open."""

    def __init__(
        self, entries: Mapping[bytes, Principal] | None, limiter: RateLimiter | None = None
    ) -> None:
        self._entries = entries
        self._limiter = limiter or RateLimiter()

    @property
    def is_open(self) -> bool:
        """True when no tokens file is configured."""
        return self._entries is None

    def authorize(self, authorization: str | None, scope: Scope) -> Principal:
        """Return the caller for this Authorization header, or raise 401/429/403."""
        if self._entries is None:
            return OPEN_PRINCIPAL
        token = presented_token(authorization)
        if token is None:
            raise Unauthorized("send 'Authorization: Bearer <token>'")
        digest = _digest(token)
        principal = self._entries.get(digest)
        if principal is None:
            raise Unauthorized("unknown bearer token")
        if principal.rate_limit_per_s is not None:
            self._limiter.check(digest, principal.rate_limit_per_s)
        if scope not in principal.scopes:
            raise Forbidden(f"this token lacks the scope {scope!r}")
        return principal


def presented_token(authorization: str | None) -> str | None:
    """The token of `Bearer <token>`, or of HTTP Basic with the token as the password.

    Basic lets a browser open the operations console: it asks once, then sends the same
    credentials with every request the page makes.
    """
    scheme, _, value = (authorization or "").partition(" ")
    if scheme == "Bearer":
        return value.strip() or None
    if scheme == "Basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def load_tokens(path: Path | None) -> TokenRegistry:
    """Read the tokens file; a bad file stops the worker with a clear message."""
    if path is None:
        return TokenRegistry(None)
    try:
        entries = msgspec.json.decode(path.read_bytes(), type=list[TokenEntry])
    except OSError as exc:
        raise ConfigurationError(f"cannot read tokens file {path}: {exc.strerror}") from exc
    except msgspec.ValidationError as exc:
        raise ConfigurationError(f"tokens file {path} is invalid: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise ConfigurationError(f"tokens file {path} is not JSON: {exc}") from exc
    table: dict[bytes, Principal] = {}
    for index, entry in enumerate(entries):
        unknown = set(entry.scopes) - SCOPES
        if unknown:
            raise ConfigurationError(
                f"tokens file {path}: entry {index} has unknown scopes {sorted(unknown)}"
            )
        if len(entry.token) < 16:
            raise ConfigurationError(
                f"tokens file {path}: entry {index} has a token under 16 characters"
            )
        table[_digest(entry.token)] = Principal(
            frozenset(entry.scopes), entry.customer_id, entry.rate_limit_per_s
        )
    return TokenRegistry(table)


def _digest(token: str) -> bytes:
    # Dict lookup by a keyed digest keeps the comparison independent of the token's bytes.
    return hmac.digest(b"distgate-token", token.encode(), hashlib.sha256)
