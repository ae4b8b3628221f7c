"""Reaching a managed Kafka: security protocol, SASL and TLS from settings; secrets from files."""

import ssl
from pathlib import Path

import faust
import pytest

from app.errors import ConfigurationError
from app.settings import Settings

SASL_SSL = {
    "DISTGATE_KAFKA_URL": "kafka://broker-1.example:9096;broker-2.example:9096",
    "DISTGATE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "DISTGATE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "DISTGATE_KAFKA_USERNAME": "distgate",
    "DISTGATE_KAFKA_PASSWORD": "s3cret",
}


def test_plaintext_is_the_default_and_adds_nothing() -> None:
    options = Settings.from_env({}).kafka.client_options()
    assert options == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}
    assert Settings.from_env({}).kafka.faust_credentials() is None


def test_sasl_ssl_gives_every_client_the_same_options() -> None:
    access = Settings.from_env(SASL_SSL).kafka
    options = access.client_options()
    assert options["bootstrap_servers"] == "broker-1.example:9096,broker-2.example:9096"
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "distgate",
        "s3cret",
    )
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert options["ssl_context"].verify_mode == ssl.CERT_REQUIRED
    assert options["ssl_context"].check_hostname
    credentials = access.faust_credentials()
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol.value == "SASL_SSL"
    assert credentials.mechanism.value == "SCRAM-SHA-512"


def test_the_password_is_not_in_the_settings_repr() -> None:
    settings = Settings.from_env(SASL_SSL | {"DISTGATE_AMQP_URL": "amqps://u:amqp-pw@mq:5671/"})
    assert "s3cret" not in repr(settings)
    assert "amqp-pw" not in repr(settings)
    assert "s3cret" not in repr(settings.kafka)


def test_secrets_are_read_from_files(tmp_path: Path) -> None:
    # Given the password and the AMQP URL mounted as files, with a trailing newline
    (tmp_path / "password").write_text("from-a-file\n")
    (tmp_path / "amqp").write_text("amqps://u:p@mq.example:5671/?cafile=/etc/ca.pem\n")
    env = {key: value for key, value in SASL_SSL.items() if key != "DISTGATE_KAFKA_PASSWORD"}
    env |= {
        "DISTGATE_KAFKA_PASSWORD_FILE": str(tmp_path / "password"),
        "DISTGATE_AMQP_URL_FILE": str(tmp_path / "amqp"),
    }
    settings = Settings.from_env(env)
    assert settings.kafka_password == "from-a-file"
    assert settings.amqp_url == "amqps://u:p@mq.example:5671/?cafile=/etc/ca.pem"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DISTGATE_KAFKA_SECURITY_PROTOCOL": "TLS"}, "must be one of PLAINTEXT, SSL"),
        (SASL_SSL | {"DISTGATE_KAFKA_SASL_MECHANISM": "GSSAPI"}, "must be one of PLAIN, SCRAM"),
        (SASL_SSL | {"DISTGATE_KAFKA_PASSWORD": ""}, "SASL_SSL needs DISTGATE_KAFKA_USERNAME"),
        (
            {"DISTGATE_KAFKA_CA_FILE": "/etc/ca.pem"},
            "DISTGATE_KAFKA_CA_FILE set, but DISTGATE_KAFKA_SECURITY_PROTOCOL=PLAINTEXT",
        ),
        (
            SASL_SSL | {"DISTGATE_KAFKA_CA_FILE": "/nonexistent/ca.pem"},
            "DISTGATE_KAFKA_CA_FILE='/nonexistent/ca.pem': no such file",
        ),
        (
            SASL_SSL | {"DISTGATE_KAFKA_CERT_FILE": "/nonexistent/c.pem"},
            "DISTGATE_KAFKA_CERT_FILE and DISTGATE_KAFKA_KEY_FILE go together",
        ),
        (
            SASL_SSL | {"DISTGATE_KAFKA_PASSWORD_FILE": "/nonexistent/pw"},
            "set DISTGATE_KAFKA_PASSWORD or DISTGATE_KAFKA_PASSWORD_FILE, not both",
        ),
        (
            {"DISTGATE_KAFKA_PASSWORD_FILE": "/nonexistent/pw"},
            "DISTGATE_KAFKA_PASSWORD_FILE='/nonexistent/pw': No such file",
        ),
    ],
)
def test_a_wrong_security_setting_names_what_to_fix(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env(env)
