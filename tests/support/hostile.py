"""Named hostile inputs for each channel distgate reads, built as data (the README counts them).

Every case is one message a broken or malicious peer could send; each must be
dead-lettered with its reason while the valid messages around it are applied.
"""

import json
from dataclasses import dataclass

HUGE_RECORD = 1_000_000  # near Kafka's 1 MiB record limit
HUGE_BODY = 1_100_000  # over the 1 MiB a WMS body may have


@dataclass(frozen=True)
class Hostile:
    """One hostile message: a name saying what it tries, where it goes, and its bytes."""

    name: str
    route: str  # the AMQP routing key, or the Kafka topic
    body: bytes | None  # None: a Kafka tombstone (no value at all)


def wms_corpus(warehouse: str, sku: str) -> list[Hostile]:
    """XML a WMS could send to `wms.events` that distgate must refuse."""
    receipt = f"{warehouse}.receipt"
    head = f'<Receipt txn="X-{{n}}" warehouse="{warehouse}">'
    line = f'<Line sku="{sku}" qty="1"/>'

    def wrap(n: int, inner: str) -> bytes:
        return (head.format(n=n) + inner + "</Receipt>").encode()

    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    deep = f'<Line sku="{sku}" qty="1">' + "<x>" * 100_000 + "</x>" * 100_000 + "</Line>"
    return [
        Hostile("malformed", receipt, wrap(1, line)[:-5]),
        Hostile(
            "truncated_utf8", receipt, wrap(16, f'<Line sku="{sku}" qty="1"/>')[:-1] + b"\xe2\x82"
        ),
        Hostile("not_xml", receipt, b'{"type": "Receipt", "qty": 1}'),
        Hostile("empty", receipt, b""),
        Hostile(
            "billion_laughs",
            receipt,
            f'<!DOCTYPE r [<!ENTITY l0 "ha">{laughs}]>'.encode() + wrap(2, f"{line}&l9;"),
        ),
        Hostile(
            "external_entity",
            receipt,
            b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            + wrap(3, '<Line sku="&x;" qty="1"/>'),
        ),
        Hostile("deep_nesting", receipt, wrap(4, deep)),
        Hostile("huge", receipt, wrap(5, line + " " * HUGE_BODY)),
        Hostile("qty_not_integer", receipt, wrap(6, f'<Line sku="{sku}" qty="many"/>')),
        Hostile("qty_fraction", receipt, wrap(7, f'<Line sku="{sku}" qty="1.5"/>')),
        Hostile("qty_negative", receipt, wrap(8, f'<Line sku="{sku}" qty="-1"/>')),
        Hostile("qty_too_big", receipt, wrap(9, f'<Line sku="{sku}" qty="99999999999999999"/>')),
        Hostile(
            "wrong_warehouse",
            receipt,
            f'<Receipt txn="X-10" warehouse="{warehouse}X">{line}</Receipt>'.encode(),
        ),
        Hostile(
            "invalid_utf8",
            receipt,
            wrap(11, f'<Line sku="{sku}~" qty="1"/>').replace(b"~", b"\xff"),
        ),
        Hostile("unknown_root", receipt, wrap(12, line).replace(b"Receipt", b"Teleport")),
        Hostile("unknown_kind", f"{warehouse}.teleport", wrap(13, line)),
        Hostile("bad_sku", receipt, wrap(14, '<Line sku="../etc/passwd" qty="1"/>')),
        Hostile("no_lines", receipt, wrap(15, "")),
    ]


def erp_corpus(topic: str, valid: dict[str, object]) -> list[Hostile]:
    """Records ERP (or anyone who can write to `topic`) could send that distgate must refuse.

    `valid` is a well-formed message of the topic: the wrong-type cases spoil one field each.
    """
    typed = {name: value for name, value in valid.items() if name not in ("type", "event_id")}
    first_field = next(iter(typed))

    def spoiled(**change: object) -> bytes:
        return json.dumps(valid | change).encode()

    cases = [
        Hostile("invalid_utf8", topic, spoiled(event_id="e-\udcff").replace(b"\\udcff", b"\xff")),
        Hostile("number_for_text", topic, spoiled(**{first_field: 12345})),
        Hostile("list_for_text", topic, spoiled(**{first_field: ["a", "list"]})),
        Hostile("unknown_type", topic, spoiled(type="Teleported")),
        Hostile("missing_type", topic, json.dumps(typed).encode()),
        Hostile("huge", topic, spoiled(**{first_field: "x" * HUGE_RECORD})),
        Hostile("not_json", topic, b"<Receipt/> not json"),
        Hostile("json_array", topic, b"[1, 2, 3]"),
        Hostile("empty", topic, b""),
        Hostile("json_null", topic, b"null"),
        Hostile("tombstone", topic, None),
    ]
    if "qty" in valid:
        cases.append(Hostile("text_for_number", topic, spoiled(qty="five")))
    return cases


@dataclass(frozen=True)
class HostileRequest:
    """One hand-made HTTP request a fuzzer from the document would not send, and its answer."""

    name: str
    method: str
    path: str
    body: bytes
    status: int  # the problem+json status it must get
    content_type: str = "application/json"


def http_corpus(sku: str) -> list[HostileRequest]:
    """Bodies and paths beyond the document's schemas: size, encoding, nesting, injection."""
    line = {"sku": sku, "qty": 1}

    def check(lines: object) -> bytes:
        return json.dumps({"lines": lines}).encode()

    utf8_broken = b'{"lines": [{"sku": "' + sku.encode() + b'\xff", "qty": 1}]}'
    order = {"customer_id": "C-1", "channel": "web", "lines": [{"line_no": 1, **line}]}
    deep = b'{"lines":' + b"[" * 50_000 + b"]" * 50_000 + b"}"

    return [
        HostileRequest("body_over_256k", "POST", "/v1/atp/check", check([line] * 12_000), 413),
        HostileRequest("invalid_utf8", "POST", "/v1/atp/check", utf8_broken, 415),
        HostileRequest("not_json", "POST", "/v1/orders", b"customer_id=C-1&lines=1", 415),
        HostileRequest(
            "form_content_type",
            "POST",
            "/v1/atp/check",
            check([line]),
            415,
            "application/x-www-form-urlencoded",
        ),
        HostileRequest("empty_body", "POST", "/v1/orders", b"", 415),
        HostileRequest("json_null", "POST", "/v1/orders", b"null", 422),
        HostileRequest("deep_json", "POST", "/v1/atp/check", deep, 422),
        HostileRequest("too_many_lines", "POST", "/v1/atp/check", check([line] * 501), 422),
        HostileRequest("qty_zero", "POST", "/v1/atp/check", check([{"sku": sku, "qty": 0}]), 422),
        HostileRequest(
            "qty_huge", "POST", "/v1/atp/check", check([{"sku": sku, "qty": 10**30}]), 422
        ),
        HostileRequest(
            "price_smuggled", "POST", "/v1/orders", json.dumps(order | {"price": 0}).encode(), 422
        ),
        HostileRequest("path_traversal", "GET", "/v1/atp/..%2F..%2Fetc%2Fpasswd", b"", 422),
        HostileRequest("nul_in_sku", "GET", "/v1/atp/SKU%00", b"", 422),
        HostileRequest("sql_in_order_id", "GET", "/v1/orders/1'%20OR%20'1'='1", b"", 422),
        HostileRequest("method_not_allowed", "DELETE", "/v1/orders", b"", 405),
        HostileRequest("unknown_path", "GET", "/v1/../admin", b"", 404),
    ]


def hostile_row(channel: str, tried: int, server_errors: int | None, lost: int | None) -> str:
    """One row of the README's table: channel | inputs tried | 5xx | lost."""

    def shown(value: int | None) -> str:
        return "n/a" if value is None else str(value)

    return f"| {channel} | {tried} | {shown(server_errors)} | {shown(lost)} |"
