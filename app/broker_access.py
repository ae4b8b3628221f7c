"""How to reach the brokers: Kafka's security protocol, SASL and TLS, and AMQP's TLS.

Every Kafka client distgate opens (Faust's, the API's producer, the changelog mirrors,
the dead-letter tools, the bridge's producer, the admin clients) takes its options from
one `KafkaAccess`, so a managed Kafka (MSK, Confluent Cloud, Aiven) is one set of
variables, never a code change.
"""

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import faust
from aiokafka.helpers import create_ssl_context
from faust.types.auth import CredentialsT

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
SECURITY_PROTOCOLS: tuple[SecurityProtocol, ...] = (
    "PLAINTEXT",
    "SSL",
    "SASL_PLAINTEXT",
    "SASL_SSL",
)
SASL_MECHANISMS: tuple[SaslMechanism, ...] = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class TlsFiles:
    """A CA to trust (None: the system's) and, for mutual TLS, a client certificate and key."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    def context(self) -> ssl.SSLContext:
        """A client context that verifies the server's certificate and host name."""
        context: ssl.SSLContext = create_ssl_context(
            cafile=_text(self.ca_file),
            certfile=_text(self.cert_file),
            keyfile=_text(self.key_file),
        )
        return context


@dataclass(frozen=True)
class KafkaAccess:
    """The bootstrap servers and how to authenticate to them."""

    bootstrap: str
    protocol: SecurityProtocol = "PLAINTEXT"
    mechanism: SaslMechanism = "PLAIN"
    username: str = ""
    password: str = field(default="", repr=False)
    tls: TlsFiles = TlsFiles()

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (producer, consumer, admin)."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.protocol,
        }
        if self.uses_tls:
            options["ssl_context"] = self.tls.context()
        if self.uses_sasl:
            options |= {
                "sasl_mechanism": self.mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
            }
        return options

    def faust_credentials(self) -> CredentialsT | None:
        """The same, as Faust's `broker_credentials`."""
        context = self.tls.context() if self.uses_tls else None
        if self.uses_sasl:
            return faust.SASLCredentials(
                username=self.username,
                password=self.password,
                mechanism=self.mechanism,
                ssl_context=context,
            )
        if context is not None:
            return faust.SSLCredentials(context)
        return None


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)
