"""The README's path in Debian's chromium with NO injected wallet: "tick the clearly labelled
development wallet, sign in with Ethereum as account #0 and approve an application: your
wallet sends the mint transaction". The development wallet signs through anvil's unlocked
accounts over JSON-RPC. On the way: the RPC URL reaches the browser only once the
development wallet is ticked, and an applicant named like a Markdown link shows as text.
Screenshots go to test-artifacts/dashboard/."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from dashboard.safe_text import WORD_JOINER
from noderr.domain import NodeType
from tests.dashboard.browser import click, go_to, open_page, pick, settle, shot, type_into
from tests.dashboard.conftest import LiveStack, apply
from tests.dashboard.test_e2e_browser import STATUS_TIMEOUT, follows
from tests.dashboard.test_user_text import EVIL


def test_readme_path__development_wallet_signs_in_and_mints(browser: Browser, live: LiveStack):
    apply(live, "Katherine Johnson", 7, NodeType.ORACLE)
    apply(live, EVIL, 9, NodeType.GUARDIAN)
    frames: list[bytes] = []
    page = open_page(browser, live.services.dashboard_url, None, frames)
    sidebar = page.get_by_test_id("stSidebarUserContent")
    expect(sidebar.get_by_text("No browser wallet found")).to_be_visible(timeout=30_000)
    settle(page)
    assert page.evaluate("typeof window.ethereum") == "undefined"
    rpc_url = live.services.rpc_url.encode()
    assert not [frame for frame in frames if rpc_url in frame]
    assert rpc_url.decode() not in page.content()
    shot(page, "20-no-wallet-dev-wallet-offered")

    sidebar.get_by_text("Use the development wallet (local chain only)").click()
    settle(page)
    expect(sidebar.get_by_text("DEVELOPMENT WALLET: anvil account #0")).to_be_visible()
    shot(page, "21-dev-wallet-ticked")
    click(page, "Sign in with Ethereum")
    expect(sidebar.get_by_text("roles: MINTER_ROLE, PAUSER_ROLE, REVOKER_ROLE")).to_be_visible()
    assert page.get_by_test_id("stAlertContentError").all_inner_texts() == []
    shot(page, "22-dev-wallet-signed-in")

    go_to(page, "Applications")
    pick(page, "Application", "[verify]")
    heading = page.get_by_role("heading").filter(has_text="· Guardian · pending")
    assert heading.inner_text().replace(WORD_JOINER, "") == f"{EVIL} · Guardian · pending"
    assert page.locator('a[href*="evil.example"]').evaluate_all(
        "links => links.map(link => link.outerHTML)") == []
    shot(page, "23-applicant-text-shown-literally")
    pick(page, "Application", "Katherine Johnson")
    expect(page.get_by_text("Katherine Johnson · Oracle · pending")).to_be_visible()
    type_into(page, "Review note (kept in the history)", "approved with the dev wallet")
    click(page, "Approve and mint")
    assert page.get_by_test_id("stAlertContentError").all_inner_texts() == []
    expect(page.get_by_text("confirmed in block")).to_be_visible(timeout=STATUS_TIMEOUT)
    shot(page, "24-dev-wallet-mint-confirmed")
    follows(page, "Katherine Johnson · Oracle · minted")
    shot(page, "25-dev-wallet-application-minted")
