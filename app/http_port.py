"""Whether the worker's HTTP port can be listened on, asked before any child starts."""

import socket

from app.errors import ConfigurationError


def check_http_port(host: str, port: int) -> None:
    """Bind and let go of `host:port` as the API will; a clear error if something holds it.

    The API binds with SO_REUSEADDR as aiohttp does, so a port in TIME_WAIT is free here
    too; only a listener (another worker, another program) makes it fail.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot listen on {host}:{port}: {exc.strerror} (another worker or program "
                "holds it; choose another with DISTGATE_HTTP_PORT or --http-port)"
            ) from exc
