"""The final comparison: the gateway's orders and stock against the simulators' truth, exactly."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.sim.truth import DECISION_TIMEOUT, RESTING, Expected, LineEnd, Position, StockFigures

Json = Mapping[str, Any]
FIGURES = ("on_hand", "blocked", "atp")
COMMITTED = ("reserved", "allocated")  # zero once every order has come to rest
HELD = ("reserved", "allocated", "backordered")  # nothing of a closed order's line


@dataclass(frozen=True)
class Finding:
    """One disagreement: `moving` when the gateway or a simulator was not done yet."""

    subject: str
    detail: str
    moving: bool = False

    def __str__(self) -> str:
        return f"{self.subject}: {self.detail}"


def agrees(order: Json | None, want: Expected) -> bool:
    """Whether the gateway shows the order where the simulators say it ends, and it ended."""
    return order is not None and order["status"] == want.status and want.final


def check_orders(
    seen: Mapping[str, Json | None], expected: Mapping[str, Expected]
) -> list[Finding]:
    """Every order's status at the gateway against where the simulators say it must end."""
    findings = []
    for order_id, want in sorted(expected.items()):
        order = seen.get(order_id)
        if order is None:
            findings.append(Finding(f"order {order_id}", "the gateway does not know it (404)"))
            continue
        if agrees(order, want):
            continue
        status = order["status"]
        moving = status not in RESTING or not want.final
        detail = f"is {status}; the simulators say {want.status}: {want.why}"
        findings.append(Finding(f"order {order_id}", detail, moving))
    return findings


def check_closings(
    seen: Mapping[str, Json | None],
    closings: Mapping[str, tuple[str, str]],
    expected: Mapping[str, Expected],
) -> list[Finding]:
    """The orders whose status agrees, further: where their end is known in full, each line's
    shipped and cancelled units with nothing held, and the cancel event on orders.events with
    its reason; and no order ERP decided cancelled for want of a decision.

    `closings` holds the cancel event type and reason per order id, as orders.events said.
    """
    findings = []
    for order_id, want in sorted(expected.items()):
        order, closing = seen.get(order_id), closings.get(order_id)
        subject = f"order {order_id}"
        if order is None or not agrees(order, want):
            continue  # check_orders names it
        if closing and closing[1] == DECISION_TIMEOUT and want.reason != DECISION_TIMEOUT:
            detail = f"cancelled for {DECISION_TIMEOUT}; the simulators say {want.why}"
            findings.append(Finding(subject, detail))
        if want.lines is not None:
            findings += [Finding(subject, d) for d in _line_ends(order["lines"], want.lines)]
        if want.event is not None:
            finding = _closing(subject, closing, want)
            findings += [finding] if finding else []
    return findings


def _line_ends(lines: Sequence[Json], want: Sequence[LineEnd]) -> list[str]:
    """Where the gateway's lines differ from their ends: shipped, cancelled, nothing held."""
    got = {line["line_no"]: line for line in lines}
    details = []
    for end in want:
        line = got.get(end.line_no)
        if line is None:
            details.append(f"line {end.line_no} is missing")
            continue
        wrong = [
            f"{name} {line[name]} (simulators: {value})"
            for name, value in (("shipped", end.shipped), ("cancelled", end.cancelled))
            if line[name] != value
        ]
        wrong += [f"still {name} {line[name]}" for name in HELD if line[name]]
        wrong += [
            f"still {name} {fill[name]} in {fill['warehouse']}"
            for fill in line["fills"]
            for name in COMMITTED
            if fill[name]
        ]
        if wrong:
            details.append(f"line {end.line_no}: {', '.join(wrong)}")
    return details


def _closing(subject: str, closing: tuple[str, str] | None, want: Expected) -> Finding | None:
    """The cancel event orders.events carried for the order, against the one it must carry."""
    if closing is None:
        return Finding(subject, f"orders.events has not carried its {want.event} yet", True)
    event, reason = closing
    if event == want.event and want.reason in (None, reason):
        return None
    wanted = f"{want.event} ({want.reason})" if want.reason else want.event
    detail = f"orders.events carried {event} ({reason}); the simulators say {wanted}"
    return Finding(subject, detail)


def check_stock(
    seen: Mapping[str, Json | None], truth: Mapping[Position, StockFigures]
) -> list[Finding]:
    """Every position of every SKU in `seen` (GET /v1/atp answers, None for 404) against truth."""
    findings = []
    for sku, answer in sorted(seen.items()):
        at_gateway = {p["warehouse"]: p for p in (answer or {}).get("warehouses", [])}
        known = {warehouse for (of, warehouse) in truth if of == sku}
        for warehouse in sorted(known | set(at_gateway)):
            want = truth.get((sku, warehouse), StockFigures())
            finding = _position(f"{sku} in {warehouse}", at_gateway.get(warehouse), want)
            if finding is not None:
                findings.append(finding)
    return findings


def _position(subject: str, got: Json | None, want: StockFigures) -> Finding | None:
    figures = {"on_hand": want.on_hand, "blocked": want.blocked, "atp": want.atp}
    if got is None:
        if not any(figures.values()):
            return None
        return Finding(subject, f"the gateway has no position; the WMS says {_show(figures)}")
    wrong = {name: got[name] for name in FIGURES if got[name] != figures[name]}
    busy = {name: got[name] for name in COMMITTED if got[name]}
    if not wrong and not busy:
        return None
    parts = [f"{name} {value} (WMS: {figures[name]})" for name, value in wrong.items()]
    parts += [f"still {name} {value}" for name, value in busy.items()]
    return Finding(subject, ", ".join(parts), moving=bool(busy))


def _show(figures: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {value}" for name, value in figures.items())


def overdrawn(notes: Iterable[str]) -> list[Finding]:
    """Where the WMS gave out stock it did not have: the gateway promised more than was there."""
    return [
        Finding(note, "oversold: the warehouse had to ship stock it did not have") for note in notes
    ]
