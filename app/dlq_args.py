"""The `distgate dlq` command line: its arguments, checked, as one `Request`."""

import argparse
import datetime as dt

from app.dlq_select import Listing, Request, parse_since

SOURCES = ("amqp", "kafka", "http")


def add_dlq_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """`dlq list|show|replay` under `commands`."""
    dlq = commands.add_parser("dlq", help="look at dead letters and replay them")
    actions = dlq.add_subparsers(dest="action", required=True)
    listing = actions.add_parser(
        "list",
        help="the newest dead letters first",
        description="The newest dead letters first, of those the index holds: it keeps the "
        "newest that fit DISTGATE_DEAD_LETTER_INDEX_KIB (32 MiB by default).",
    )
    listing.add_argument("--limit", type=_limit, default=100, help="1..100 (default 100)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    _add_filters(listing)
    show = actions.add_parser("show", help="one dead letter whole (list shows previews)")
    show.add_argument("id", help="the reference `dlq list` shows (id@partition:offset), or the id")
    show.add_argument("--json", action="store_true", help="as one JSON object")
    replay = actions.add_parser(
        "replay",
        help="send a dead letter's message again, or with --all every one of a reason",
        description="Send a dead letter's original message back where it came from. With "
        "--all, every letter of --reason in the whole dead-letter topic (not only those "
        "`dlq list` holds), oldest first, each once: the topic is read up to its end as of "
        "the start, so letters dead-lettered during the run wait for the next one. "
        "Progress goes to stderr, the count to stdout; exit 1 if any letter could not be "
        "replayed.",
    )
    replay.add_argument(
        "id", nargs="?", help="the reference `dlq list` shows (id@partition:offset), or the id"
    )
    replay.add_argument(
        "--all",
        action="store_true",
        help="every letter of --reason (and --source, --since) in the whole topic, each once",
    )
    _add_filters(replay)


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", choices=SOURCES, help="only from there")
    parser.add_argument("--reason", help="only with this reason (e.g. malformed_xml)")
    parser.add_argument(
        "--since", help="only those dead-lettered since: an ISO time (UTC unless it says), or 2h"
    )


def dlq_request(args: argparse.Namespace, now: dt.datetime) -> Request:
    """The request the arguments make; ValueError saying what does not fit together."""
    since = parse_since(args.since, now) if getattr(args, "since", None) else None
    source, reason = getattr(args, "source", None), getattr(args, "reason", None)
    listing = Listing(getattr(args, "limit", 100), source, reason, since)
    every = getattr(args, "all", False)
    if args.action == "replay":
        _check_replay(args.id, every, listing)
    return Request(args.action, listing, args.id if args.action != "list" else None, every,
                   getattr(args, "json", False))  # fmt: skip


def _check_replay(letter: str | None, every: bool, listing: Listing) -> None:
    """One letter, or --all of one reason; filters only with --all."""
    if every and letter is not None:
        raise ValueError("dlq replay takes a dead letter's id or --all, not both")
    if every and listing.reason is None:
        raise ValueError("dlq replay --all needs --reason (and may narrow with --source, --since)")
    if not every and letter is None:
        raise ValueError("dlq replay needs a dead letter's id, or --all --reason R")
    if not every and (listing.source or listing.reason or listing.since):
        raise ValueError("--reason, --source and --since choose letters for --all only")


def _limit(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError("must be 1..100")
    return value
