"""`distgate dlq replay --all`: every dead letter of a reason sent again, oldest first.

The letters are read from the dead-letter topic itself (`app.dlq_stream`), not from the
index `dlq list` shows, which keeps only the newest that fit its memory: every letter
in the topic when the run starts is seen, each sent once, where it came from, as
`dlq replay <id>` does, through one consumer, one producer and one AMQP channel held
for the whole run. Letters dead-lettered during the run wait for the next one. Progress
goes to stderr, one line per letter with how much of the topic was read, and the count
to stdout. Event ids make a letter already applied change nothing when it arrives
again, so a run interrupted or repeated applies each letter once. One that cannot be
replayed (cut short, from a topic distgate no longer reads) is reported and skipped.
"""

from typing import TextIO

from app.dlq import DeadLetterAdmin
from app.dlq_select import Listing
from app.dlq_stream import FoundLetter, LetterStream
from app.errors import DistgateError
from protocols.printable import printable


async def replay_all(admin: DeadLetterAdmin, listing: Listing, out: TextIO, err: TextIO) -> int:
    """Replay every letter `listing` selects, oldest first; 0 when each one was sent again."""
    settings = admin.settings
    topic = settings.topics.dead_letters.name
    stream = LetterStream(settings.kafka, topic, settings.partitions, listing.selects)
    replayed = failed = 0
    async with stream.opened(), admin.holding_clients():
        print(f"reading the {stream.records} records of {topic}", file=err, flush=True)
        async for found in stream.letters():
            number = replayed + failed + 1
            if await _replay_one(admin, found, f"[{number}]", stream, err):
                replayed += 1
            else:
                failed += 1
    total = replayed + failed
    summary = f"replayed {replayed} of {total} dead letters"
    if stream.skipped:
        summary += f"; {stream.skipped} record(s) of {topic} were no dead letter"
    print(summary + (f"; {failed} could not be replayed" if failed else ""), file=out)
    return 1 if failed else 0


async def _replay_one(
    admin: DeadLetterAdmin, found: FoundLetter, number: str, stream: LetterStream, err: TextIO
) -> bool:
    """Replay one letter, saying how far the run got; False when it could not be."""
    read = f"({stream.read} of {stream.records} records read)"
    try:
        accepted = await admin.replay_letter(found.letter)
    except DistgateError as exc:
        print(f"{number} {found.ref} not replayed: {printable(str(exc))} {read}", file=err)
        return False
    print(f"{number} {found.ref} to {printable(accepted.target)} {read}", file=err, flush=True)
    return True
