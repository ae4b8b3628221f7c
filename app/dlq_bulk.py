"""`distgate dlq replay --all`: every dead letter of a reason sent again, oldest first.

Progress goes to stderr, one line per letter, and the count to stdout. Each letter is
read back from its own record and sent where it came from, as `dlq replay <id>` does,
through one consumer and one producer held for the whole run;
event ids make a letter already applied change nothing when it arrives again, so a run
interrupted or repeated applies each letter once. One that cannot be replayed (cut
short, from a topic distgate no longer reads) is reported and skipped.
"""

from typing import TextIO

from app.dlq import DeadLetterAdmin
from app.dlq_select import LetterRef, Listing
from app.errors import DistgateError
from app.read.deadletter_index import IndexedLetter
from protocols.printable import printable


async def replay_all(admin: DeadLetterAdmin, listing: Listing, out: TextIO, err: TextIO) -> int:
    """Replay every letter `listing` selects, oldest first; 0 when each one was sent again."""
    matching = admin.entries(len(admin.mirror.index), listing.source, listing.reason, listing.since)
    letters = matching[::-1]  # a key's letters go back in the order they failed
    total = len(letters)
    print(f"replaying {total} dead letter(s)", file=err, flush=True)
    async with admin.holding_clients():
        failed = await _replay_each(admin, letters, err)
    summary = f"replayed {total - failed} of {total} dead letters"
    print(summary + (f"; {failed} could not be replayed" if failed else ""), file=out)
    return 1 if failed else 0


async def _replay_each(admin: DeadLetterAdmin, letters: list[IndexedLetter], err: TextIO) -> int:
    """Replay each letter in turn, saying how far it got; the number that failed."""
    total, failed = len(letters), 0
    for number, entry in enumerate(letters, 1):
        ref = LetterRef(entry.letter.id, entry.partition, entry.offset)
        try:
            accepted = await admin.replay_at(ref)
        except DistgateError as exc:
            failed += 1
            print(f"[{number}/{total}] {ref} not replayed: {printable(str(exc))}", file=err)
            continue
        print(f"[{number}/{total}] {ref} to {printable(accepted.target)}", file=err, flush=True)
    return failed
