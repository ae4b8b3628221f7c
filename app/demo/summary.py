"""The demo's closing summary: what happened in the day, and whether the gateway agreed."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from app.demo.check import Finding
from protocols.orders import OrderStatus

SHOWN = 40  # findings (and errors) listed; the rest are counted
PASSED = "PASS: every order status and stock figure matches the simulators' truth"
WMS_KINDS = {
    "receipt": "receipt",
    "count": "count",
    "hold": "hold",
    "adjust": "adjustment",
    "pick": "pick",
    "ship": "shipment",
}
ERP_KINDS = {
    "OrderConfirmed": "confirmation",
    "OrderCreditHold": "credit hold",
    "OrderCreditReleased": "hold release",
    "OrderRejected": "rejection",
    "OrderInvoiced": "invoice",
}


@dataclass(frozen=True)
class DayReport:
    """What the summary says: the day's figures and the check's findings."""

    run: str
    seconds: float
    statuses: Mapping[str, int]  # final status counts, as the gateway answers
    cancels: Mapping[str, int]  # order id -> the API's answer to its cancel
    skipped: int  # cancels not asked: the order never reached the status to cancel in
    wms: Mapping[str, int]  # message kind -> count sent, and "short" lines
    erp: Mapping[str, int]  # decision type -> count sent
    looks: int = 0
    checks: int = 0
    positions: int = 0
    undecided: int = 0  # orders ERP saw wait for its decision and never decided
    timeout_s: int = 0  # the worker's decision timeout
    remainders: int = 0  # unshipped remainders the shop cancelled (202)
    closed: int = 0  # orders whose lines and cancel event were checked too
    findings: Sequence[Finding] = ()
    errors: Sequence[str] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        """Nothing disagreed and nothing went wrong."""
        return not self.findings and not self.errors


def summary(r: DayReport) -> list[str]:
    """The closing lines, findings (if any) before the verdict."""
    orders = sum(r.statuses.values())
    accepted = sum(1 for answer in r.cancels.values() if answer == 202)
    return [
        "",
        f"Summary of run {r.run}: played and checked in {_minutes(r.seconds)}",
        f"  orders      {orders} placed: {_statuses(r.statuses)}",
        f"  cancels     {len(r.cancels)} asked: {accepted} accepted (202), "
        f"{len(r.cancels) - accepted} refused (409)" + _skipped(r.skipped),
        f"  shop        {r.looks} ATP looks, {r.checks} basket checks",
        f"  fates       {_many(r.undecided, 'order')} ERP never decided (decision timeout "
        f"{r.timeout_s} s), {_many(r.remainders, 'unshipped remainder')} cancelled "
        "after a partial shipment",
        f"  warehouses  {_wms(r.wms)}",
        f"  ERP         {_erp(r.erp)}",
        f"  checked     {orders} order statuses ({r.closed} with their lines and cancel event), "
        f"{r.positions} stock positions (on_hand, blocked, atp, reserved, allocated)",
        *_capped([f"  ERROR       {error}" for error in r.errors], "errors"),
        *_capped([_finding(finding) for finding in r.findings], "findings"),
        f"  result      {PASSED if r.passed else _failed(r)}",
    ]


def _capped(lines: Sequence[str], what: str) -> list[str]:
    """At most SHOWN lines, and how many more there were."""
    if len(lines) <= SHOWN:
        return list(lines)
    return [*lines[:SHOWN], f"  ...         and {len(lines) - SHOWN} more {what}"]


def _minutes(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def _skipped(skipped: int) -> str:
    return f"; {skipped} not asked (never reached the status)" if skipped else ""


def _statuses(statuses: Mapping[str, int]) -> str:
    counts = [f"{status} {statuses[status]}" for status in OrderStatus if statuses.get(status)]
    return ", ".join(counts) or "none"


def _wms(counts: Mapping[str, int]) -> str:
    parts = [_many(counts.get(kind, 0), name) for kind, name in WMS_KINDS.items()]
    return f"{', '.join(parts)} ({_many(counts.get('short', 0), 'line')} picked short)"


def _erp(counts: Mapping[str, int]) -> str:
    return ", ".join(_many(counts.get(tag, 0), name) for tag, name in ERP_KINDS.items())


def _many(count: int, thing: str, things: str = "") -> str:
    return f"{count} {thing}" if count == 1 else f"{count} {things or thing + 's'}"


def _finding(finding: Finding) -> str:
    label = "NOT SETTLED" if finding.moving else "MISMATCH   "
    return f"  {label} {finding}"


def _failed(r: DayReport) -> str:
    moving = sum(1 for finding in r.findings if finding.moving)
    wrong = len(r.findings) - moving
    parts = [_many(wrong, "mismatch", "mismatches")] if wrong else []
    parts += [f"{moving} not settled by the deadline"] if moving else []
    parts += [_many(len(r.errors), "error")] if r.errors else []
    return "FAIL: " + ", ".join(parts)
