"""`noderr vault verify-audit` (database and export), `key-versions`, `rotate`,
`set-min-version`: exit 0 when intact, one line naming the first bad entry otherwise."""

from __future__ import annotations

import json

import pytest

from tests.vault.helpers import CREDENTIALS, OPERATOR_INDEX, audit_rows, noderr, unlock_audit


@pytest.fixture
def history(api, db, cli_env):
    """Eight audited operations by an operator."""
    token = api.license(OPERATOR_INDEX)
    for version in range(3):
        api.put(OPERATOR_INDEX, token, "binance", {**CREDENTIALS, "n": version})
        api.get(OPERATOR_INDEX, token, "binance")
    api.list(OPERATOR_INDEX, token)
    api.delete(OPERATOR_INDEX, token, "binance")
    assert len(audit_rows(db)) == 8
    return token


def test_verify_audit__intact__exit_0_with_head(history, db):
    code, output = noderr("vault", "verify-audit")
    assert code == 0, output
    head = db.execute("SELECT seq, encode(hash, 'hex') FROM vault_audit_head").fetchone()
    assert f"8 entries, head {head[0]}:{head[1]}" in output


@pytest.mark.parametrize(("sql", "bad", "reason"), [
    ("UPDATE vault_audit SET outcome = 'denied' WHERE seq = 4", 4, "edited"),
    ("UPDATE vault_audit SET actor = 'someone else' WHERE seq = 1", 1, "edited"),
    ("UPDATE vault_audit SET at = at + interval '1 second' WHERE seq = 6", 6, "edited"),
    ("DELETE FROM vault_audit WHERE seq = 3", 3, "missing"),
    ("DELETE FROM vault_audit WHERE seq >= 7", 7, "truncated"),
    ("DELETE FROM vault_audit WHERE seq <= 2", 1, "missing"),
    ("UPDATE vault_audit SET seq = seq + 100 WHERE seq = 5", 5, "missing"),
])
def test_verify_audit__edited_deleted_or_truncated__names_first_bad_entry(history, db, sql,
                                                                          bad, reason):
    unlock_audit(db)
    db.execute(sql)
    code, output = noderr("vault", "verify-audit")
    assert code == 1
    assert output.startswith(f"error: audit log broken at entry {bad}: "), output
    assert reason in output and len(output.strip().splitlines()) == 1


def test_verify_audit__rehashed_forgery__caught_by_an_anchor(history, db):
    """An attacker who rewrites the tail and its hashes and the head row passes the chain
    check; an anchor recorded before (an export, an earlier verification) catches it."""
    from backend.vault.audit import entry_hash

    anchor = db.execute("SELECT seq, encode(hash, 'hex') FROM vault_audit WHERE seq = 8"
                        ).fetchone()
    unlock_audit(db)
    db.execute("DELETE FROM vault_audit WHERE seq >= 7")
    seven = audit_rows(db, seq=6)[0]
    db.execute("UPDATE vault_audit_head SET seq = 6, hash = %s", (seven["hash"],))
    assert noderr("vault", "verify-audit")[0] == 0  # consistent, but shorter
    code, output = noderr("vault", "verify-audit", "--anchor", f"{anchor[0]}:{anchor[1]}")
    assert code == 1 and "broken at entry 7" in output and "truncated" in output
    forged = {**seven, "seq": 7, "prev_hash": seven["hash"], "actor": "forger"}
    db.execute("INSERT INTO vault_audit SELECT (%(seq)s), at, %(actor)s, token_id,"
               " secret_name, action, outcome, request_id, detail, %(prev)s, %(hash)s"
               " FROM vault_audit WHERE seq = 6",
               {"seq": 7, "actor": "forger", "prev": seven["hash"],
                "hash": entry_hash(forged)})
    code, output = noderr("vault", "verify-audit", "--anchor", f"7:{anchor[1]}")
    assert code == 1 and "broken at entry 7: hash differs from the anchor" in output


def test_verify_audit__export_file(history, api, ops, tmp_path):
    auditor = 3
    from tests.vault.helpers import address

    ops.grant_role("AUDITOR_ROLE", address(auditor))
    ops.index()
    export = api.client.get("/vault/audit/export", headers=api.login(auditor))
    path = tmp_path / "audit.ndjson"
    path.write_text(export.text)
    code, output = noderr("vault", "verify-audit", "--file", str(path),
                          "--anchor", export.headers["X-Vault-Audit-Head"])
    assert code == 0, output
    lines = export.text.splitlines()
    edited = json.loads(lines[2]) | {"secret_name": "other"}
    path.write_text("\n".join([*lines[:2], json.dumps(edited), *lines[3:]]))
    code, output = noderr("vault", "verify-audit", "--file", str(path))
    assert code == 1 and "broken at entry 3: contents do not match its hash" in output


def test_append_only_trigger__refuses_edits(history, db):
    import psycopg

    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        db.execute("UPDATE vault_audit SET actor = 'x' WHERE seq = 1")


def test_rotate_key_versions_set_min_version__cli(history, db, key_file):
    code, output = noderr("vault", "rotate")
    assert code == 0 and "master key v2 is current" in output
    code, output = noderr("vault", "key-versions")
    assert code == 0
    table = [line.split()[:3] for line in output.splitlines()[1:3]]
    assert table == [["1", "active", "1"], ["2", "current", "0"]]
    code, output = noderr("vault", "set-min-version", "2")
    assert code == 1
    assert output.strip() == ("error: 1 data keys are still wrapped with versions below v2: "
                              "run `noderr vault rewrap` first")
    code, output = noderr("vault", "rewrap")
    assert code == 0 and "1 data keys rewrapped to v2" in output
    code, output = noderr("vault", "set-min-version", "2", "--purge")
    assert code == 0 and "versions kept: v2" in output
    assert '"version": 1' not in key_file.read_text()
    assert [e["action"] for e in audit_rows(db)][-3:] == ["rotate", "rewrap", "min_version"]
    assert noderr("vault", "verify-audit")[0] == 0


def test_cli__bad_configuration__one_line_errors(cli_env, monkeypatch, key_file):
    monkeypatch.setenv("NODERR_VAULT_MASTER_KEYS", "{not json")
    code, output = noderr("vault", "rotate")
    assert code == 1 and "NODERR_VAULT_MASTER_KEYS is set" in output
    code, output = noderr("vault", "key-versions")
    assert code == 1 and output.count("\n") == 1 and "not a valid vault keyring" in output
    monkeypatch.delenv("NODERR_VAULT_MASTER_KEYS")
    key_file.write_text("garbage")
    code, output = noderr("vault", "rewrap")
    assert code == 1 and output.count("\n") == 1
    assert noderr("vault", "verify-audit", "--anchor", "nonsense")[0] == 1
