"""Text from outside is printed with its control characters escaped, everywhere."""

import datetime as dt
import io
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from agents.deadletters import note_dead_letter
from agents.runtime.metrics import AgentMetrics
from app.dlq_cli import _print, _show
from app.read.deadletter_index import preview_of
from protocols.deadletters import DeadLetter
from protocols.printable import printable

HOSTILE = "bad\nINFO forged line\x1b[2J\x1b]0;title\x07\r\x85\u2028end"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, é and 漢字", "plain text, é and 漢字"),
        ("a\nb", "a\\nb"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("nul\x00 del\x7f c1\x9b", "nul\\x00 del\\x7f c1\\x9b"),
        ("line\u2028sep", "line\\u2028sep"),
    ],
)
def test_control_characters_are_shown_as_escapes(text: str, shown: str) -> None:
    assert printable(text) == shown


@given(st.text())
def test_nothing_printable_returns_holds_a_control_character(text: str) -> None:
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in printable(text))


def letter() -> DeadLetter:
    return DeadLetter(
        id="0" * 20, source="kafka", origin="erp.order-decisions", reason="invalid\nreason",
        error=HOSTILE, at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC), payload=HOSTILE.encode(),
        key=b"k\x1b", headers=(("h\n", b"v\x1b"),),
    )  # fmt: skip


def test_the_dlq_listing_and_show_print_no_control_character() -> None:
    # Given a dead letter whose every field holds newlines and escape sequences
    # When listed and shown as text
    out = io.StringIO()
    _print([preview_of(letter(), 0, 7)], False, out)
    _show(letter().view(), False, out)
    # Then no line is forged and no escape sequence reaches the terminal
    text = out.getvalue()
    assert "\x1b" not in text
    assert "\r" not in text
    assert all(not line.startswith("INFO forged") for line in text.splitlines())
    assert len(text.splitlines()[0].split("  ")) == 6


def test_a_dead_letter_log_line_is_one_line(caplog: pytest.LogCaptureFixture) -> None:
    # Given a dead letter with a hostile error, When it is logged
    with caplog.at_level(logging.WARNING):
        note_dead_letter(AgentMetrics(CollectorRegistry()), letter())
    # Then its log record renders as one line without escape sequences
    message = caplog.records[-1].getMessage()
    assert "\n" not in message
    assert "\x1b" not in message
