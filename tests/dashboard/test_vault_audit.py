"""The dashboard's own verification of the vault audit export (no backend import in the
dashboard), checked against entries hashed as the vault documents, then edited; and the
Audit page against the live stack's real /vault/audit/export."""

from __future__ import annotations

import ast
import hashlib
import json

import httpx
import pytest

from dashboard.vault_audit import ExportError, entry_hash, parse_export, parse_head, verify
from noderr.settings import REPO_ROOT
from noderr_cli.seed import sign_in
from tests.dashboard.conftest import AUDITOR_ACCOUNT, STRANGER_ACCOUNT, signed_in, texts

ZERO = "00" * 32


def preimage_hash(entry: dict) -> str:
    """The documented preimage written out by hand (not via the module under test)."""
    fields = [str(entry["seq"]), entry["at"], entry["actor"],
              None if entry["token_id"] is None else str(entry["token_id"]),
              entry["secret_name"], entry["action"], entry["outcome"], entry["request_id"],
              entry["detail"], entry["prev_hash"]]
    text = "noderr-vault-audit/v1" + "".join(
        "~" if value is None else f"{len(value.encode())}:{value}" for value in fields)
    return hashlib.sha256(text.encode()).hexdigest()


def chain(count: int = 4) -> list[dict]:
    entries, prev = [], ZERO
    for seq in range(1, count + 1):
        entry = {"seq": seq, "at": f"2026-11-26T12:00:0{seq}.000123Z",
                 "actor": "0x" + "ab" * 20, "token_id": None if seq == 2 else seq,
                 "secret_name": None if seq == 2 else "binance",
                 "action": "write" if seq % 2 else "audit_read", "outcome": "ok",
                 "request_id": f"req-{seq}", "detail": "größe" if seq == 3 else "",
                 "prev_hash": prev}
        entry["hash"] = prev = preimage_hash(entry)
        entries.append(entry)
    return entries


def export(entries: list[dict]) -> str:
    return "".join(json.dumps(entry) + "\n" for entry in entries)


def head_of(entries: list[dict]) -> tuple[int, str]:
    return entries[-1]["seq"], entries[-1]["hash"]


def test_entry_hash__matches_documented_preimage():
    entries = chain()
    assert [entry_hash(entry) for entry in entries] == [entry["hash"] for entry in entries]


def test_verify__intact_export__verified_to_head():
    entries = chain()
    verdict = verify(parse_export(export(entries)), head_of(entries))
    assert verdict.intact and verdict.entries == 4
    assert (verdict.head_seq, verdict.head_hash) == head_of(entries)


def test_verify__edited_field__fails_at_that_entry():
    entries = chain()
    entries[2] = {**entries[2], "actor": "0x" + "cd" * 20}
    verdict = verify(parse_export(export(entries)), head_of(entries))
    assert not verdict.intact and verdict.bad_seq == 3
    assert verdict.reason == "contents do not match its hash (edited)"
    assert verdict.entries == 2


def test_verify__rehashed_edit__breaks_next_prev_hash():
    entries = chain()
    forged = {**entries[1], "detail": "nothing to see"}
    entries[1] = forged | {"hash": preimage_hash(forged)}
    verdict = verify(entries, head_of(entries))
    assert verdict.bad_seq == 3
    assert verdict.reason == "prev_hash is not the hash of the entry before it"


def test_verify__deleted_entry__reports_gap():
    entries = chain()
    del entries[1]
    verdict = verify(entries, head_of(entries))
    assert verdict.bad_seq == 2 and "deleted or reordered" in verdict.reason


def test_verify__truncated_tail__caught_by_head():
    entries = chain()
    verdict = verify(entries[:3], head_of(entries))
    assert verdict.bad_seq == 4 and "truncated" in verdict.reason
    assert verify(entries[:3]).intact  # without the head a cut tail cannot be seen


def test_verify__head_hash_differs__fails():
    entries = chain()
    verdict = verify(entries, (4, "ff" * 32))
    assert verdict.bad_seq == 4 and "head does not match" in verdict.reason


def test_verify__malformed_entry__reported_not_raised():
    entries = chain()
    del entries[0]["actor"]
    verdict = verify(entries, head_of(entries))
    assert verdict.bad_seq == 1 and verdict.reason.startswith("malformed entry (KeyError")


def test_parse_export__not_json_lines__export_error():
    with pytest.raises(ExportError, match="line 2"):
        parse_export('{"seq": 1}\nnot json\n')


@pytest.mark.parametrize("header", ["7", "x:" + "ab" * 32, "3:abc"])
def test_parse_head__malformed_header__export_error(header):
    with pytest.raises(ExportError, match="X-Vault-Audit-Head"):
        parse_head(header)


def test_parse_head__valid_header__seq_and_lower_hash():
    assert parse_head("12:" + "AB" * 32) == (12, "ab" * 32)
    assert parse_head(None) is None


def test_backend_entry_hash__agrees_with_dashboard():
    from backend.vault.audit import entry_hash as vault_entry_hash
    from backend.vault.audit import from_public

    for entry in chain():
        assert vault_entry_hash(from_public(entry)).hex() == entry_hash(entry)


def test_dashboard_sources__import_no_backend_code():
    sources = (REPO_ROOT / "dashboard").rglob("*.py")
    offenders = [path.name for path in sources
                 for node in ast.walk(ast.parse(path.read_text()))
                 if isinstance(node, ast.ImportFrom | ast.Import)
                 and any(name.split(".")[0] in ("backend", "indexer") for name in
                         ([node.module or ""] if isinstance(node, ast.ImportFrom)
                          else [alias.name for alias in node.names]))]
    assert offenders == []


def vault_rows(at) -> list[dict]:
    frame = next(df.value for df in at.dataframe if "outcome" in df.value.columns)
    return frame.to_dict("records")


def test_audit_page__auditor__entries_and_verified_chain(make_app, live, auditor):
    at = signed_in(make_app, live, AUDITOR_ACCOUNT)
    assert "AUDITOR_ROLE" in texts(at)
    at.switch_page("views/audit.py").run()
    assert not at.exception and not at.error
    verified = [s.value for s in at.success if "Hash chain verified" in s.value]
    assert len(verified) == 1
    rows = vault_rows(at)
    stranger = live.w3.eth.accounts[STRANGER_ACCOUNT]
    assert {(r["actor"], r["action"], r["outcome"]) for r in rows} >= {
        (stranger, "write", "denied"), (stranger, "list", "denied"),
        (stranger, "audit_read", "denied"), (auditor, "audit_export", "ok")}
    assert [r["seq"] for r in rows] == list(range(len(rows), 0, -1))
    assert f"{len(rows)} entries, seq 1 to {len(rows)}" in verified[0]


def test_audit_page__non_auditor__told_role_and_nothing_read(make_app, live, auditor):
    at = signed_in(make_app, live, STRANGER_ACCOUNT)
    at.switch_page("views/audit.py").run()
    assert not at.exception and not at.error
    assert "You need AUDITOR_ROLE on NodeLicense" in texts(at)
    assert not [b for b in at.button if b.key == "vault_reload"]
    token = sign_in(live.services.api_url, live.services.rpc_url, auditor)
    export = httpx.get(f"{live.services.api_url}/vault/audit/export", timeout=10,
                       headers={"Authorization": f"Bearer {token}"}).text
    stranger = live.w3.eth.accounts[STRANGER_ACCOUNT]
    assert not [e for e in parse_export(export)
                if e["actor"] == stranger and e["action"] == "audit_export"]
