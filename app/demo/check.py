"""The final comparison: the gateway's orders and stock against the simulators' truth, exactly."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.sim.truth import RESTING, Expected, Position, StockFigures

Json = Mapping[str, Any]
FIGURES = ("on_hand", "blocked", "atp")
COMMITTED = ("reserved", "allocated")  # zero once every order has come to rest


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
