"""The operations console in a real headless browser: it loads, finds an order, replays a letter.

Debian's chromium and chromedriver (scripts/ensure-test-tools) drive the page as an
operator would, against a worker that requires tokens; the browser presents the admin
token as HTTP Basic credentials, as it does after asking for them once.
"""

import base64
import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from tests.conftest import SpawnWorker
from tests.support.polling import eventually
from tests.support.shop import call
from tests.support.wms import metric, publish_xml, unique_warehouse

pytestmark = pytest.mark.brokers

ADMIN = "ops-admin-token-0123456789"
SCOPES = ["admin", "orders:read", "orders:write", "atp:read"]
FLOWS = {
    "wms_to_atp": "WMS \u2192 ATP",
    "order_to_reserved": "order \u2192 reserved",
    "erp_decision_wait": "ERP decision wait",
    "order_to_released": "order \u2192 released",
    "release_to_ship": "release \u2192 pick \u2192 ship",
}


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1400,1600"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        yield driver
    finally:
        driver.quit()


async def test_an_operator_finds_an_order_and_replays_a_dead_letter(
    spawn_worker: SpawnWorker, browser: WebDriver, tmp_path: Path
) -> None:
    # Given a worker that requires tokens, a dead letter from a warehouse, and an order
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps([{"token": ADMIN, "scopes": SCOPES}]))
    worker = spawn_worker("w1", DISTGATE_API_TOKENS_FILE=str(tokens))
    await worker.wait_ready()
    bearer = {"Authorization": f"Bearer {ADMIN}"}
    warehouse = unique_warehouse()
    await publish_xml(worker.settings.amqp_url, [(f"{warehouse}.receipt", b"<Receipt")])
    letter = await _the_letter_from(worker.url, warehouse, bearer)
    sku = f"SKU-{uuid.uuid4().hex[:8]}"
    line = f'<Line sku="{sku}" qty="5"/>'
    receipt = f'<Receipt txn="R-1" warehouse="{warehouse}">{line}</Receipt>'.encode()
    await publish_xml(worker.settings.amqp_url, [(f"{warehouse}.receipt", receipt)])
    order_id = await _order(worker.url, sku, bearer)
    # And the console refuses a browser without credentials, asking for them
    async with aiohttp.ClientSession() as http, http.get(f"{worker.url}/ops") as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic ")

    # And the first receipt's WMS -> ATP is in the scrape before the console opens
    applied = 'distgate_flow_latency_seconds_count{flow="wms_to_atp"}'
    await eventually(lambda: metric(worker.url, applied), lambda count: count == 1)

    # When the operator opens the console with the admin token
    basic = base64.b64encode(f"ops:{ADMIN}".encode()).decode()
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd(
        "Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Basic {basic}"}}
    )
    browser.get(f"{worker.url}/ops")
    # The page rebuilds what changed every few seconds: find elements afresh, retry if stale
    wait = WebDriverWait(
        browser, 60, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
    )
    # Then it shows the worker ready, the inbox lag and the letter with its reason
    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "ready"), "ready"))
    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "lag"), "stock-inbox"))
    # And a row for every flow, against its SLA
    assert [wait.until(lambda _, f=f: _flow(browser, f))[0] for f in FLOWS] == list(FLOWS.values())
    assert wait.until(lambda _: _flow(browser, "wms_to_atp"))[3] == "1.00 s"
    # And once the page has counted for a while, nothing ended in its window yet (the first
    # receipt came before the page was opened)
    wait.until(lambda _: _flow(browser, "wms_to_atp")[4] == "0")
    # When a receipt arrives while the console is open
    again = f'<Receipt txn="R-2" warehouse="{warehouse}">{line}</Receipt>'.encode()
    await publish_xml(worker.settings.amqp_url, [(f"{warehouse}.receipt", again)])
    # Then WMS -> ATP shows it ended in the window, with its p50 and p99
    _, p50, p99, _, _ = wait.until(
        lambda _: (cells := _flow(browser, "wms_to_atp"))[4] == "1" and cells
    )
    assert p50.endswith((" ms", " s")), p50
    assert p99.endswith((" ms", " s")), p99
    # And, filtered by the letter's source and reason, the letter itself
    chip = (By.CSS_SELECTOR, f'#reasons button[data-reason="{letter["reason"]}"]')
    wait.until(lambda _: browser.find_element(*chip).click() is None)
    wait.until(lambda _: _button(browser, letter["id"]).is_displayed())
    # (read within the wait: a refresh may rebuild the row between finding and reading it)
    row = (By.XPATH, "./ancestor::tr")
    wait.until(lambda _: letter["reason"] in _button(browser, letter["id"]).find_element(*row).text)
    # When they search the order
    browser.find_element(By.ID, "order-id").send_keys(order_id)
    browser.find_element(By.CSS_SELECTOR, "#find button").click()
    # Then its status and lines show
    status = wait.until(
        expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, "#order .order-status"))
    )
    assert status.text == f"{order_id}: RESERVED"
    assert sku in browser.find_element(By.ID, "order").text
    # And its flow's trace: the command that submitted it, and its events
    title = (By.CSS_SELECTOR, "#trace .trace-title")
    wait.until(expected_conditions.visibility_of_element_located(title))
    trace = browser.find_element(By.ID, "trace").text
    assert "http_command SubmitOrder" in trace
    assert "order_event OrderReserved" in trace
    # When they replay the letter
    wait.until(lambda _: _button(browser, letter["id"]).click() is None)
    # Then the console says where it was sent again (and keeps saying it across refreshes)
    outcome = (By.CSS_SELECTOR, f'td[data-letter="{letter["id"]}"] .replayed')
    sent = wait.until(expected_conditions.visibility_of_element_located(outcome)).text
    assert sent.startswith("sent again to wms.events"), sent
    browser.save_screenshot(str(tmp_path / "ops-console.png"))


def _flow(browser: WebDriver, flow: str) -> list[str]:
    """The cells of a flow's row: name, p50, p99, SLA, ended in the window."""
    row = browser.find_element(By.CSS_SELECTOR, f'#flows tr[data-flow="{flow}"]')
    return [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]


def _button(browser: WebDriver, letter_id: str) -> WebElement:
    """The letter's replay button, found afresh: the list may have been rebuilt since."""
    return browser.find_element(By.CSS_SELECTOR, f'button[data-letter="{letter_id}"]')


async def _the_letter_from(url: str, warehouse: str, bearer: dict[str, str]) -> dict[str, str]:
    async def letters() -> list[dict[str, str]]:
        status, body = await call(url, "GET", "/v1/admin/dead-letters?source=amqp", headers=bearer)
        assert status == 200, body
        return [dl for dl in body["dead_letters"] if warehouse in json.dumps(dl["headers"])]

    found = await eventually(letters, bool, within=30)
    return found[0]


async def _order(url: str, sku: str, bearer: dict[str, str]) -> str:
    async def atp() -> int:
        status, body = await call(url, "GET", f"/v1/atp/{sku}", headers=bearer)
        return int(body["atp"]) if status == 200 else 0

    await eventually(atp, lambda value: value == 5, within=30)
    order = {
        "order_id": f"SO-{uuid.uuid4().hex[:10]}",
        "customer_id": "C-1",
        "channel": "web",
        "lines": [{"line_no": 1, "sku": sku, "qty": 2}],
    }
    status, body = await call(url, "POST", "/v1/orders", json=order, headers=bearer)
    assert status == 202, body
    order_id = str(body["order_id"])
    status, body = await call(
        url, "GET", f"/v1/orders/{order_id}?wait_for=RESERVED&timeout=30", headers=bearer
    )
    assert body["status"] == "RESERVED", body
    return order_id
