"""A warehouse as the stock rules' tests see it: a physical shelf that only ships what it was sent.

It takes distgate's Release and Cancel commands, picks what the shelf physically holds
(short when a count or adjustment found less than was released), ships what it picked,
and keeps the figures the gateway's stock side must end up with: on hand and blocked
per SKU and warehouse, from the WMS's own messages in the order it sent them.
"""

from dataclasses import dataclass, field

from protocols.wms_events import CancelAtWarehouse, ReleaseToWarehouse, WmsCommandMessage

Place = tuple[str, str]
"""(SKU, warehouse)."""


@dataclass
class Release:
    """One Release the warehouse got: its lines (line no -> SKU, qty), picked, shipped."""

    order_id: str
    warehouse: str
    lines: dict[int, tuple[str, int]]
    picked: dict[int, int] | None = None
    shipped: bool = False
    cancelled: bool = False

    @property
    def pickable(self) -> bool:
        """Released, not cancelled, not yet picked."""
        return self.picked is None and not self.cancelled

    @property
    def shippable(self) -> bool:
        """Picked, not cancelled, not yet shipped."""
        return self.picked is not None and not self.shipped and not self.cancelled


@dataclass
class Shelf:
    """The physical warehouses: what is on the shelf, on hold, picked and waiting to ship."""

    on_hand: dict[Place, int] = field(default_factory=dict)
    blocked: dict[Place, int] = field(default_factory=dict)
    staged: dict[Place, int] = field(default_factory=dict)  # picked, on the shelf until shipped
    releases: list[Release] = field(default_factory=list)
    commands: set[str] = field(default_factory=set)  # command ids taken (a re-send is ignored)

    def free(self, place: Place) -> int:
        """Units a picker can take: on the shelf, neither on hold nor picked already."""
        return self.on_hand.get(place, 0) - self.blocked.get(place, 0) - self.staged.get(place, 0)

    def take(self, command: WmsCommandMessage) -> None:
        """Apply one command from distgate once."""
        if command.event_id in self.commands:
            return
        self.commands.add(command.event_id)
        if isinstance(command, ReleaseToWarehouse):
            lines = {line.no: (line.sku, line.qty) for line in command.lines}
            self.releases.append(Release(command.order_id, command.warehouse, lines))
        elif isinstance(command, CancelAtWarehouse):
            for release in self.releases:
                if (release.order_id, release.warehouse) == (command.order_id, command.warehouse):
                    self._cancel(release)

    def _cancel(self, release: Release) -> None:
        """Stop a release not yet shipped; what it picked goes back to the shelf."""
        if release.shipped or release.cancelled:
            return
        release.cancelled = True
        for no, qty in (release.picked or {}).items():
            place = (release.lines[no][0], release.warehouse)
            self.staged[place] -= qty

    def next_to_pick(self) -> list[Release]:
        """Each order's oldest release not picked yet at each warehouse (picked in order)."""
        first: dict[tuple[str, str], Release] = {}
        for release in self.releases:
            if release.pickable:
                first.setdefault((release.order_id, release.warehouse), release)
        return list(first.values())

    def pick(self, release: Release) -> dict[int, int]:
        """Pick every line of `release` as far as the shelf holds it: line no -> picked."""
        picked = {}
        for no, (sku, qty) in release.lines.items():
            place = (sku, release.warehouse)
            picked[no] = max(0, min(qty, self.free(place)))
            self.staged[place] = self.staged.get(place, 0) + picked[no]
        release.picked = picked
        return picked

    def ship(self, release: Release) -> dict[int, int]:
        """Ship what `release` picked: line no -> shipped (lines picked wholly short omitted)."""
        assert release.picked is not None
        shipped = {no: qty for no, qty in release.picked.items() if qty}
        for no, qty in shipped.items():
            place = (release.lines[no][0], release.warehouse)
            self.staged[place] -= qty
            self.on_hand[place] -= qty
        release.shipped = True
        return shipped

    def set_on_hand(self, place: Place, on_hand: int) -> None:
        """A receipt, adjustment or count left `on_hand`; a hold never exceeds the shelf."""
        self.on_hand[place] = on_hand
        self.blocked[place] = min(self.blocked.get(place, 0), on_hand)
