"""End to end in Debian's chromium (Playwright) against the real stack: an injected EIP-1193
provider forwards to anvil, whose unlocked dev accounts sign: approve → mint → active →
suspend → suspended → reinstate → active → revoke → revoked. Screenshots of every step go to
test-artifacts/dashboard/."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.dashboard.browser import (
    click,
    go_to,
    open_page,
    pick,
    provider_script,
    settle,
    shot,
    sign_in,
    type_into,
)
from tests.dashboard.conftest import LiveStack

STATUS_TIMEOUT = 60_000  # the indexer polls; the page reruns once it has caught up


def page_as(browser: Browser, live: LiveStack, account: str, reject: bool = False) -> Page:
    return open_page(browser, live.services.dashboard_url,
                     provider_script(live.services.rpc_url, account, reject))


def follows(page: Page, text: str) -> None:
    """`text` shows without pressing Refresh: the page follows the indexer by itself."""
    expect(page.get_by_text(text).first).to_be_visible(timeout=STATUS_TIMEOUT)


def license_action(page: Page, action: str, reason: str | None = None) -> None:
    """Choose `action` for license #2 (Ada's; #1 is the genesis validator's), give the
    reason, tick the confirmation."""
    page.get_by_text(action, exact=True).click()
    settle(page)
    if reason is not None:
        type_into(page, "Reason (recorded on-chain)", reason)
    page.get_by_text(f"I understand: {action} #2").click()
    settle(page)


def send_and_confirm(page: Page, button: str) -> None:
    """Press `button`; the wallet's receipt for that very transaction shows status 1."""
    click(page, button)
    assert page.get_by_test_id("stAlertContentError").all_inner_texts() == []
    receipt = page.get_by_text(re.compile(rf"^{re.escape(button)} of 0x.*confirmed in block"))
    expect(receipt).to_be_visible(timeout=STATUS_TIMEOUT)


def test_admin__approve_mint_suspend_reinstate_revoke(browser: Browser, live: LiveStack):
    page = page_as(browser, live, live.admin)
    shot(page, "01-signed-out")
    sign_in(page)
    sidebar = page.get_by_test_id("stSidebarUserContent")
    expect(sidebar.get_by_text("roles: MINTER_ROLE, PAUSER_ROLE, REVOKER_ROLE")).to_be_visible()
    shot(page, "02-admin-signed-in")

    go_to(page, "Applications")
    pick(page, "Application", "Ada Lovelace")
    expect(page.get_by_text("Ada Lovelace · Oracle · pending")).to_be_visible()
    type_into(page, "Review note (kept in the history)", "experienced operator")
    shot(page, "03-application-pending")
    click(page, "Approve and mint")
    expect(page.get_by_text("confirmed in block")).to_be_visible(timeout=STATUS_TIMEOUT)
    shot(page, "04-mint-confirmed")
    follows(page, "Ada Lovelace · Oracle · minted")
    shot(page, "05-application-minted")

    go_to(page, "Licenses")
    pick(page, "License", "#2")
    expect(page.get_by_text("License #2 · Oracle · active")).to_be_visible()
    shot(page, "06-license-active")
    license_action(page, "suspend", "operator asked for a pause")
    shot(page, "06a-suspend-confirmation")
    send_and_confirm(page, "Suspend license #2")
    follows(page, "License #2 · Oracle · suspended")
    shot(page, "06b-license-suspended")
    license_action(page, "reinstate")
    shot(page, "06c-reinstate-confirmation")
    send_and_confirm(page, "Reinstate license #2")
    follows(page, "License #2 · Oracle · active")
    shot(page, "06d-license-reinstated")
    page.get_by_text("revoke", exact=True).click()
    settle(page)
    type_into(page, "Reason (recorded on-chain)", "terms violated")
    page.get_by_text("I understand: revoke #2").click()
    settle(page)
    shot(page, "07-revoke-confirmation")
    click(page, "Revoke license #2")
    shot(page, "08-revoke-sent")
    assert page.get_by_test_id("stAlertContentError").all_inner_texts() == []
    expect(page.get_by_text("confirmed in block")).to_be_visible(timeout=STATUS_TIMEOUT)
    follows(page, "License #2 · Oracle · revoked")
    shot(page, "09-license-revoked")
    assert live.w3.eth.contract(address=live.license_address, abi=live.deployment.contracts[
        "NodeLicense"].abi).functions.totalSupply().call() == 1  # the genesis validator's


def test_non_admin__sees_no_admin_action(browser: Browser, live: LiveStack):
    outsider = live.w3.eth.accounts[5]
    page = page_as(browser, live, outsider)
    sign_in(page)
    expect(page.get_by_text("You hold no admin role")).to_be_visible()
    expect(page.get_by_role("link", name="Licenses")).to_be_visible()
    expect(page.get_by_role("link", name="Applications")).to_have_count(0)
    shot(page, "10-non-admin-overview")
    go_to(page, "Licenses")
    expect(page.get_by_role("heading", name="Licenses")).to_be_visible()
    expect(page.get_by_text("Action", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Approve and mint")).to_have_count(0)
    shot(page, "11-non-admin-licenses")


def test_rejected_signature__shows_error(browser: Browser, live: LiveStack):
    page = page_as(browser, live, live.admin, reject=True)
    sign_in(page)
    expect(page.get_by_text("Sign-in failed: you rejected the signature request in your "
                            "wallet.")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in with Ethereum")).to_be_visible()
    expect(page.get_by_text("Traceback")).to_have_count(0)
    shot(page, "12-rejected-signature")

