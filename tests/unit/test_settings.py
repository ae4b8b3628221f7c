"""Settings come from DISTGATE_* variables only, with clear errors for bad values."""

import datetime as dt
import zoneinfo

import pytest

from app.errors import ConfigurationError
from app.faust_app import create_faust_app
from app.settings import Settings


def test_defaults_are_the_contracts() -> None:
    settings = Settings.from_env({})
    assert settings.kafka_url == "kafka://127.0.0.1:9092"
    assert settings.amqp_url == "amqp://guest:guest@127.0.0.1:5672/"
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)
    assert settings.app_id == "distgate"
    assert settings.erp_confirmation == "required"
    assert settings.api_tokens_file is None
    assert settings.http_host_is_loopback
    assert settings.decision_timeout_s == 259_200
    assert Settings.from_env({"DISTGATE_DECISION_TIMEOUT_S": "60"}).decision_timeout_s == 60
    assert settings.dead_letter_index_kib == 32 * 1024
    assert Settings.from_env({"DISTGATE_DEAD_LETTER_INDEX_KIB": "64"}).dead_letter_index_kib == 64


def test_closed_orders_and_the_business_day_have_the_contracts_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.closed_order_days, settings.timezone, settings.zone) == (30, "UTC", dt.UTC)
    chicago = Settings.from_env({"DISTGATE_TIMEZONE": "America/Chicago"}).zone
    assert chicago == zoneinfo.ZoneInfo("America/Chicago")
    assert Settings.from_env({"DISTGATE_CLOSED_ORDER_DAYS": "0"}).closed_order_days == 0


def test_the_bounds_on_cost_have_sane_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.max_long_polls, settings.max_syncs) == (1000, 256)
    assert (settings.http_body_timeout_s, settings.http_idle_timeout_s) == (10.0, 75.0)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DISTGATE_HTTP_PORT", "eighty", "DISTGATE_HTTP_PORT='eighty' is not a valid int"),
        ("DISTGATE_HTTP_PORT", "70000", "outside 1..65535"),
        ("DISTGATE_ERP_CONFIRMATION", "sometimes", "must be 'required' or 'auto'"),
        ("DISTGATE_PARTITIONS", "0", "partitions must be 1..256"),
        ("DISTGATE_LOG_LEVEL", "loud", "log level must be one of"),
        ("DISTGATE_MAX_LONG_POLLS", "0", "must be at least 1"),
        ("DISTGATE_MAX_SYNCS", "-1", "must be at least 1"),
        ("DISTGATE_HTTP_BODY_TIMEOUT_S", "0", "DISTGATE_HTTP_BODY_TIMEOUT_S must be in"),
        ("DISTGATE_HTTP_IDLE_TIMEOUT_S", "soon", "is not a valid float"),
        ("DISTGATE_KAFKA_URL", "kafka://k1:9092;:9093", "':9093' is not host:port"),
        ("DISTGATE_KAFKA_URL", "kafka://k1:90x2", "'k1:90x2' is not host:port"),
        ("DISTGATE_DECISION_TIMEOUT_S", "0", "DISTGATE_DECISION_TIMEOUT_S must be at least 1"),
        ("DISTGATE_CLOSED_ORDER_DAYS", "-1", "DISTGATE_CLOSED_ORDER_DAYS must be 0..3650"),
        ("DISTGATE_CLOSED_ORDER_DAYS", "a month", "is not a valid int"),
        ("DISTGATE_DEAD_LETTER_INDEX_KIB", "63", "DISTGATE_DEAD_LETTER_INDEX_KIB must be 64.."),
        ("DISTGATE_TIMEZONE", "Europe/Berlinn", "'Europe/Berlinn' is not an IANA time zone"),
        ("DISTGATE_TIMEZONE", "CET+1", "is not an IANA time zone"),
        ("DISTGATE_TIMEZONE", "Europe", "is not an IANA time zone"),
        ("DISTGATE_TIMEZONE", "../../etc/passwd", "is not an IANA time zone"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env({variable: value})


def test_a_public_host_is_not_loopback() -> None:
    assert not Settings.from_env({"DISTGATE_HTTP_HOST": "0.0.0.0"}).http_host_is_loopback
    assert Settings.from_env({"DISTGATE_HTTP_HOST": "::1"}).http_host_is_loopback


def test_faust_reads_nothing_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given variables Faust would otherwise pick up on its own
    monkeypatch.setenv("PROCESSING_GUARANTEE", "exactly_once")
    monkeypatch.setenv("BROKER", "kafka://elsewhere:9092")
    # When the app is built from our settings
    app = create_faust_app(Settings.from_env({}))
    # Then only our settings count
    assert str(app.conf.processing_guarantee.value) == "at_least_once"
    assert [str(url) for url in app.conf.broker] == ["kafka://127.0.0.1:9092"]
