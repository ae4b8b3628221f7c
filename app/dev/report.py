"""What `distgate dev` prints about the stack: a line per service, or one JSON document."""

import dataclasses
import json
from collections.abc import Sequence

from app.dev.service import ServiceStatus


def render(statuses: Sequence[ServiceStatus], as_json: bool) -> str:
    """The services' state for a person (a line each) or for a script (`{"up", "services"}`)."""
    if as_json:
        services = [dataclasses.asdict(status) for status in statuses]
        return json.dumps({"up": all_running(statuses), "services": services})
    return "\n".join(f"{s.name:<9} {s.address:<16} {s.detail}" for s in statuses)


def all_running(statuses: Sequence[ServiceStatus]) -> bool:
    """Whether every service of the stack runs."""
    return all(status.running for status in statuses)
