"""End to end in Debian's chromium: a holder of AUDITOR_ROLE reads the vault audit log,
verified in the dashboard. A module of its own: the session's `auditor` fixture is set up
before this module's browser (ape's isolation fixtures re-create module fixtures when a
session fixture first appears mid-module)."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.dashboard.browser import go_to, open_page, provider_script, shot, sign_in
from tests.dashboard.conftest import LiveStack


def test_auditor__vault_audit_log_verified(browser: Browser, live: LiveStack, auditor: str):
    page = open_page(browser, live.services.dashboard_url,
                     provider_script(live.services.rpc_url, auditor))
    sign_in(page)
    sidebar = page.get_by_test_id("stSidebarUserContent")
    expect(sidebar.get_by_text("roles: AUDITOR_ROLE")).to_be_visible()
    go_to(page, "Audit")
    expect(page.get_by_text("Hash chain verified in this dashboard")).to_be_visible()
    expect(page.get_by_role("button", name="Download the export (JSON lines)")).to_be_visible()
    assert page.get_by_test_id("stAlertContentError").all_inner_texts() == []
    shot(page, "13-vault-audit-verified")
