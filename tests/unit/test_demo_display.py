"""The live view's renderer: a pure function of a snapshot."""

from app.demo.display import Snapshot, bar, clock, render, render_line


def snapshot(**changes: object) -> Snapshot:
    fields: dict[str, object] = {
        "run": "R1",
        "phase": "trading",
        "day": 0.5,
        "elapsed": 75.0,
        "planned": 200,
        "placed": 97,
        "looks": 291,
        "checks": 97,
        "cancels": 3,
        "statuses": {"INVOICED": 80, "RELEASED": 5, "REJECTED": 9},
        "stock": {"DC-WEST": (695, 80), "DC-EAST": (1234, 456)},
        "rate": 412.4,
        "wms_sent": 230,
        "erp_sent": 98,
    }
    fields.update(changes)
    return Snapshot(**fields)  # type: ignore[arg-type]


def test_the_day_runs_from_eight_to_six() -> None:
    assert [clock(0), clock(0.5), clock(1), clock(2)] == ["08:00", "13:00", "18:00", "18:00"]


def test_the_bar_fills_with_the_day() -> None:
    assert bar(0, 10) == "░" * 10
    assert bar(0.5, 10) == "█" * 5 + "░" * 5
    assert bar(1.5, 10) == "█" * 10


def test_the_frame_shows_progress_statuses_and_stock_by_warehouse() -> None:
    # Given a snapshot half way through the day; When rendered
    frame = render(snapshot())
    text = "\n".join(frame)
    # Then it shows the run, the bar and the clock, the shop's and the gateway's figures
    assert frame[0].startswith("distgate demo  run R1  trading  1:15 elapsed")
    assert "█" * 18 + "░" * 18 in frame[1]
    assert "50%" in frame[1]
    assert "13:00" in frame[1]
    assert "97/200 orders placed, 291 ATP looks, 97 checks, 3 cancels" in text
    assert "412 msgs/s" in text
    # And every status in lifecycle order, with the warehouses beside it, sorted
    rows = [line.split() for line in frame[6:]]
    assert [row[0] for row in rows] == [
        "SUBMITTED", "RESERVED", "BACKORDERED", "REJECTED", "CREDIT_HOLD", "CONFIRMED",
        "RELEASED", "PICKED", "PARTIALLY_SHIPPED", "SHIPPED", "INVOICED", "CANCELLED",
    ]  # fmt: skip
    assert rows[0] == ["SUBMITTED", "0", "DC-EAST", "1,234", "456"]
    assert rows[1] == ["RESERVED", "0", "DC-WEST", "695", "80"]
    assert rows[10] == ["INVOICED", "80"]


def test_the_frame_is_the_same_for_the_same_snapshot_and_ends_with_the_note() -> None:
    assert render(snapshot()) == render(snapshot())
    assert render(snapshot(note="settling: 3 orders"))[-1] == "  settling: 3 orders"


def test_the_plain_line_lists_only_statuses_that_occur() -> None:
    line = render_line(snapshot())
    assert line == (
        "[1:15] trading 50% (13:00): 97/200 placed; REJECTED 9 RELEASED 5 INVOICED 80; 412 msgs/s"
    )
    assert "no orders yet" in render_line(snapshot(statuses={}))
