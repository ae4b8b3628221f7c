"""One error hierarchy for the gateway; mapped to HTTP or dead letters at the edge."""

from collections.abc import Sequence

from protocols.http import FieldError


class DistgateError(Exception):
    """Base of every error distgate raises on purpose."""


class ConfigurationError(DistgateError):
    """The environment or flags describe a setup distgate cannot run with."""


class ApiError(DistgateError):
    """An HTTP request that cannot be served; carries its problem+json fields."""

    status = 500
    title = "Internal Server Error"
    type_uri = "about:blank"
    close_connection = False  # True: the rest of the request cannot be trusted to follow

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class Unauthorized(ApiError):
    """No bearer token, or one the gateway does not know."""

    status = 401
    title = "Unauthorized"


class Forbidden(ApiError):
    """The token lacks the scope the endpoint needs."""

    status = 403
    title = "Forbidden"


class NotFound(ApiError):
    """The resource does not exist, or the token may not see it."""

    status = 404
    title = "Not Found"


class Conflict(ApiError):
    """The request conflicts with the resource's current state."""

    status = 409
    title = "Conflict"


class PayloadTooLarge(ApiError):
    """The request body exceeds the limit."""

    status = 413
    title = "Payload Too Large"


class UnsupportedMediaType(ApiError):
    """The request body is not JSON."""

    status = 415
    title = "Unsupported Media Type"


class Unprocessable(ApiError):
    """The JSON is well formed but breaks the contract's rules."""

    status = 422
    title = "Unprocessable Content"

    def __init__(self, detail: str, errors: Sequence[FieldError]) -> None:
        super().__init__(detail)
        self.errors = errors


class NotReady(ApiError):
    """The state this request needs is still being restored."""

    status = 503
    title = "Service Unavailable"

    def __init__(self, detail: str, retry_after: int = 2) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class BrokerUnavailable(ApiError):
    """Kafka or RabbitMQ did not take a command in time; nothing was accepted, a retry may be."""

    status = 503
    title = "Service Unavailable"

    def __init__(self, detail: str, retry_after: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class TooManyRequests(ApiError):
    """The token spent its rate limit; Retry-After says when a request is allowed again."""

    status = 429
    title = "Too Many Requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class Overloaded(ApiError):
    """This worker already holds as many waiting requests of this kind as it allows."""

    status = 503
    title = "Service Unavailable"

    def __init__(self, detail: str, retry_after: int = 1) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class RequestTimeout(ApiError):
    """The request body did not arrive in time; the connection is closed after the answer."""

    status = 408
    title = "Request Timeout"
    close_connection = True
