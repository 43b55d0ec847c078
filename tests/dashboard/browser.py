"""Driving the dashboard in Debian's chromium with Playwright, and an injected EIP-1193
provider whose `request` forwards to anvil's JSON-RPC (anvil's unlocked accounts sign)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

# A page waits for the backend and reruns after each transaction: on a loaded machine an
# assertion's default 5 s can pass before a page that is working correctly has drawn.
expect.set_options(timeout=15_000)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"

PROVIDER = """
(() => {
  const wallet = window.__wallet = %s;
  const listeners = {};
  const rpc = async (method, params) => {
    const response = await fetch(wallet.rpc, {method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({jsonrpc: "2.0", id: 1, method, params: params || []})});
    const body = await response.json();
    if (body.error) throw Object.assign(new Error(body.error.message), {code: body.error.code});
    return body.result;
  };
  window.ethereum = {
    isNoderrTestWallet: true,
    on(event, handler) { (listeners[event] = listeners[event] || []).push(handler); },
    removeListener() {},
    async request({method, params}) {
      if (method === "eth_requestAccounts") wallet.connected = true;
      if (method === "eth_requestAccounts" || method === "eth_accounts")
        return wallet.connected ? [wallet.account.toLowerCase()] : [];
      if (wallet.reject && (method === "personal_sign" || method === "eth_sendTransaction"))
        throw Object.assign(new Error("User rejected the request."), {code: 4001});
      return rpc(method, params);
    },
  };
})();
"""


def provider_script(rpc_url: str, account: str, reject: bool = False) -> str:
    return PROVIDER % json.dumps({"rpc": rpc_url, "account": account, "reject": reject})


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Browser, url: str, script: str | None,
              frames: list[bytes] | None = None) -> Page:
    """A page at `url`, `script` run before the app's own (None: nothing injected), every
    websocket frame the server sends appended to `frames` when given."""
    page = browser.new_page(viewport={"width": 1400, "height": 2000})
    page.set_default_timeout(30_000)
    if script:
        page.add_init_script(script)
    if frames is not None:
        def record(payload: str | bytes) -> None:
            frames.append(payload if isinstance(payload, bytes) else payload.encode())

        page.on("websocket", lambda socket: socket.on("framereceived", record))
    page.goto(url)
    return page


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def settle(page: Page) -> None:
    """Wait until Streamlit has finished the script run the last action started."""
    page.wait_for_timeout(250)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden")
    page.locator('[data-stale="true"]').first.wait_for(state="detached")


def go_to(page: Page, name: str, attempts: int = 3) -> None:
    """Open the sidebar page `name`. A rerun already under way (the page following the
    indexer after a transaction) can swallow a click, as it would a person's: click again."""
    link = page.get_by_role("link", name=name)
    for _ in range(attempts):
        settle(page)
        link.click()
        try:
            page.wait_for_url(f"**/{name.lower()}", timeout=5_000)
            break
        except PlaywrightTimeout:
            continue
    settle(page)


def pick(page: Page, label: str, option: str) -> None:
    """Choose `option` (a substring of its text) in the selectbox labelled `label`."""
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).click()
    page.get_by_role("option", name=option).first.click()
    settle(page)


def type_into(page: Page, label: str, text: str) -> None:
    field = page.get_by_label(label)
    field.fill(text)
    field.press("Enter")
    settle(page)


def click(page: Page, name: str) -> None:
    page.get_by_role("button", name=name).click()
    settle(page)


def sign_in(page: Page) -> None:
    click(page, "Connect wallet")
    click(page, "Sign in with Ethereum")
