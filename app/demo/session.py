"""One demo session against a ready worker: the live view, the day, settling, the summary."""

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

import aiohttp

from app.demo.check import Finding
from app.demo.day import Day, decision_timeout_s
from app.demo.display import LiveView, Snapshot
from app.demo.play import DayClock, open_stock, play
from app.demo.settle import Verdict, settle, truth_of
from app.demo.summary import DayReport, summary
from app.demo.watch import Throughput, Watcher
from app.sim.erp import ErpSimulator
from app.sim.shop import WebShop
from app.sim.wms import KINDS, WmsSimulator
from protocols.wms import WmsPickConfirm

SAMPLE_EVERY = 1.0  # seconds between reads of the worker's /metrics


@dataclass(frozen=True)
class Peers:
    """The simulated systems around the gateway, and the watcher of its output."""

    wms: WmsSimulator
    erp: ErpSimulator
    watcher: Watcher


@dataclass
class Progress:
    """Where the session is, for the live view."""

    phase: str = "opening stock"
    note: str = ""

    def noted(self, note: str) -> None:
        """Show `note` under the frame."""
        self.note = note


@dataclass
class Session:
    """Everything one session plays with."""

    day: Day
    shop: WebShop
    peers: Peers
    clock: DayClock
    throughput: Throughput
    progress: Progress
    started: float

    def snapshot(self) -> Snapshot:
        """What the live view shows now."""
        peers, shop = self.peers, self.shop
        return Snapshot(
            run=self.day.spec.run,
            phase=self.progress.phase,
            day=self.clock.share,
            elapsed=time.monotonic() - self.started,
            planned=len(self.day.arrivals),
            placed=len(shop.placed),
            looks=shop.looks,
            checks=shop.checks,
            cancels=len(shop.cancels),
            statuses=peers.watcher.by_status(),
            stock=peers.watcher.by_warehouse(),
            rate=self.throughput.rate,
            wms_sent=len(peers.wms.sent),
            erp_sent=sum(len(tags) for tags in peers.erp.decisions.values()),
            note=self.progress.note,
        )


async def play_session(
    day: Day,
    url: str,
    http: aiohttp.ClientSession,
    peers: Peers,
    settle_within: float,
    out: TextIO,
    tty: bool,
) -> int:
    """Play and check the day with the live view on; print the summary; 0 if all matched."""
    session = Session(
        day=day,
        shop=WebShop(url, http),
        peers=peers,
        clock=DayClock(day.spec.duration),
        throughput=Throughput(url),
        progress=Progress(),
        started=time.monotonic(),
    )
    view = LiveView(out, tty, session.snapshot)
    background = [asyncio.create_task(view.run()), asyncio.create_task(_sample(session, http))]
    try:
        report = await _play(session, settle_within)
    finally:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        view.close()
    print("\n".join(summary(report)), file=out, flush=True)
    return 0 if report.passed else 1


async def _play(session: Session, settle_within: float) -> DayReport:
    """Opening stock, the trading day, then settling and the check."""
    shop, peers, day = session.shop, session.peers, session.day
    opening = await open_stock(day, shop, peers.wms)
    if opening:
        return _report(session, None, opening, ["the opening stock did not show at the gateway"])
    session.progress.phase = "trading"
    errors = await play(day, shop, peers.wms, session.clock)
    session.progress.phase = "settling"
    verdict = await settle(
        shop,
        lambda: truth_of(shop, peers.wms, peers.erp),
        day.catalogue.skus,
        peers.watcher.closings,
        settle_within,
        session.progress.noted,
    )
    session.progress.phase, session.progress.note = "checked", ""
    return _report(session, verdict, verdict.findings, errors)


def _report(
    session: Session, verdict: Verdict | None, findings: Sequence[Finding], errors: Sequence[str]
) -> DayReport:
    wms, erp = session.peers.wms, session.peers.erp
    sent: Counter[str] = Counter(KINDS[type(s.message)] for s in wms.sent)
    sent["short"] = sum(
        1
        for s in wms.sent
        if isinstance(s.message, WmsPickConfirm)
        for line in s.message.lines
        if line.picked < line.requested
    )
    orders = verdict.orders.values() if verdict else ()
    return DayReport(
        run=session.day.spec.run,
        seconds=time.monotonic() - session.started,
        statuses=Counter(order["status"] for order in orders if order),
        cancels=dict(session.shop.cancels),
        skipped=len(session.shop.skipped_cancels),
        wms=sent,
        erp=Counter(tag for tags in erp.decisions.values() for tag in tags),
        looks=session.shop.looks,
        checks=session.shop.checks,
        positions=len(verdict.truth.stock.positions) if verdict else 0,
        undecided=len(erp.undecided),
        timeout_s=decision_timeout_s(session.day.spec),
        remainders=sum(1 for i in session.shop.remainders if session.shop.cancels.get(i) == 202),
        closed=sum(1 for e in verdict.truth.orders.values() if e.event) if verdict else 0,
        findings=tuple(findings),
        errors=tuple(errors),
    )


async def _sample(session: Session, http: aiohttp.ClientSession) -> None:
    while True:
        await session.throughput.sample(http)
        await asyncio.sleep(SAMPLE_EVERY)
