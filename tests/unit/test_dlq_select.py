"""`distgate dlq`: references to one letter's record, `--since`, and which arguments go together."""

import argparse
import datetime as dt

import pytest

from app.dlq_args import add_dlq_commands, dlq_request
from app.dlq_select import LetterRef, parse_ref, parse_since

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="distgate")
    add_dlq_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["dlq", *argv])


def test_a_reference_names_the_record_and_a_bare_id_is_no_reference() -> None:
    ref = LetterRef("5d41402abc4b2a76b971", 3, 1534)
    assert str(ref) == "5d41402abc4b2a76b971@3:1534"
    assert parse_ref(str(ref)) == ref
    assert parse_ref("5d41402abc4b2a76b971") is None
    assert parse_ref("5d41402abc4b2a76b971@3") is None
    assert parse_ref("5d41402abc4b2a76b971@x:1") is None


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        ("2h", NOW - dt.timedelta(hours=2)),
        ("90s", NOW - dt.timedelta(seconds=90)),
        ("1d12h", NOW - dt.timedelta(days=1, hours=12)),
        ("2026-03-01T08:00:00+01:00", dt.datetime(2026, 3, 1, 7, 0, tzinfo=dt.UTC)),
        ("2026-03-01T08:00:00Z", dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)),
        ("2026-03-01T08:00", dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)),  # UTC unless it says
        ("2026-03-01", dt.datetime(2026, 3, 1, tzinfo=dt.UTC)),
    ],
)
def test_since_is_an_iso_time_or_a_duration_back_from_now(
    since: str, expected: dt.datetime
) -> None:
    assert parse_since(since, NOW) == expected


@pytest.mark.parametrize("since", ["", "yesterday", "2 hours", "-2h", "2026-13-01"])
def test_a_since_that_is_neither_is_refused_with_both_forms_shown(since: str) -> None:
    with pytest.raises(ValueError, match=r"neither an ISO 8601 time .* nor a duration"):
        parse_since(since, NOW)


def test_list_since_selects_by_time() -> None:
    request = dlq_request(parse("list", "--reason", "malformed_xml", "--since", "15m"), NOW)
    assert request.action == "list"
    assert request.listing.reason == "malformed_xml"
    assert request.listing.since == NOW - dt.timedelta(minutes=15)


def test_replay_all_takes_a_reason_and_narrows_by_source_and_since() -> None:
    args = parse(
        "replay", "--all", "--reason", "unknown_order", "--source", "kafka", "--since", "2h"
    )
    request = dlq_request(args, NOW)
    assert (request.every, request.letter) == (True, None)
    assert (request.listing.reason, request.listing.source) == ("unknown_order", "kafka")
    assert request.listing.since == NOW - dt.timedelta(hours=2)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["replay", "--all"], "needs --reason"),
        (["replay", "abc", "--all", "--reason", "r"], "not both"),
        (["replay"], "needs a dead letter's id"),
        (["replay", "abc", "--reason", "r"], "for --all only"),
    ],
)
def test_replay_arguments_that_do_not_fit_together_are_refused(argv: list[str], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        dlq_request(parse(*argv), NOW)
