"""Text from outside made safe to print: no newline, ESC or other control character survives.

A WMS, ERP or HTTP caller chooses the bytes of an error, a reason or a payload; printed
raw, a newline forges a log line and an ESC sequence rewrites an operator's terminal.
"""

import re

# C0 (newline, ESC, ...), DEL, C1, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """`text` with every control character shown as its escape (`\\n`, `\\x1b`, `\\u2028`)."""
    return _CONTROL.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")
