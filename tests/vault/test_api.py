"""The vault API against the real backend app, real Postgres and a real chain mirrored by the
real indexer: round trips, the license lifecycle, tampering, auditing, failing closed."""

from __future__ import annotations

import logging

import pytest

from backend.api.vault_access import ANONYMOUS_DENIALS
from backend.vault.crypto import DecryptionFailed, TokenBinding, open_sealed
from backend.vault.keys import LocalKeyring
from tests.backend.helpers import sample
from tests.vault.helpers import (
    CREDENTIALS,
    GUARDIAN,
    MARKER,
    ORACLE,
    VaultApi,
    address,
    audit_rows,
)

OPERATOR, OTHER = 1, 2


def test_put_get_list_delete__round_trip_with_versions(api):
    token = api.license(OPERATOR)
    first = api.put(OPERATOR, token, "binance", CREDENTIALS)
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 1 and MARKER not in first.text
    changed = {**CREDENTIALS, "api_secret": "rotated-by-exchange"}
    assert api.put(OPERATOR, token, "binance", changed).json()["version"] == 2
    api.put(OPERATOR, token, "kraken", {"api_key": "k"})

    latest = api.get(OPERATOR, token, "binance").json()
    assert (latest["version"], latest["data"]) == (2, changed)
    assert api.get(OPERATOR, token, "binance", params={"version": 1}).json()["data"] == \
        CREDENTIALS

    listed = api.list(OPERATOR, token)
    assert [(s["name"], s["latest_version"], s["versions"]) for s in
            listed.json()["secrets"]] == [("binance", 2, 2), ("kraken", 1, 1)]
    assert MARKER not in listed.text and "rotated-by-exchange" not in listed.text

    deleted = api.delete(OPERATOR, token, "binance")
    assert deleted.json()["deleted_versions"] == 2
    assert api.get(OPERATOR, token, "binance").status_code == 404
    assert api.get(OPERATOR, token, "binance", params={"version": 1}).status_code == 404
    assert [s["name"] for s in api.list(OPERATOR, token).json()["secrets"]] == ["kraken"]


def test_stored_rows__hold_no_plaintext(api, db):
    token = api.license(OPERATOR)
    api.put(OPERATOR, token, "binance", CREDENTIALS)
    dump = db.execute("SELECT string_agg(t::text, '|') FROM vault_secrets t").fetchone()[0]
    dump += db.execute("SELECT string_agg(t::text, '|') FROM vault_audit t").fetchone()[0]
    assert MARKER not in dump and MARKER.encode().hex() not in dump


@pytest.mark.parametrize(("body", "status"), [
    ({"data": {}}, 422), ({"data": "text"}, 422), ({}, 422),
    ({"data": {"api_secret": MARKER * 500}}, 422),
])
def test_put__bad_body__4xx_without_echoing_it(api, body, status):
    token = api.license(OPERATOR)
    response = api.client.put(api.url(token, "binance"), json=body,
                              headers=api.login(OPERATOR))
    assert response.status_code == status and MARKER not in response.text


@pytest.mark.parametrize("name", ["..", "a/b", "-lead", "x" * 65, "sp ace"])
def test_secret_name__invalid__rejected(api, name):
    token = api.license(OPERATOR)
    response = api.put(OPERATOR, token, name, CREDENTIALS)
    assert response.status_code in (404, 422)


def test_other_wallet__denied_and_audited(api, db):
    token = api.license(OPERATOR)
    api.put(OPERATOR, token, "binance", CREDENTIALS)
    api.login(OTHER)
    response = api.get(OTHER, token, "binance", headers={"X-Request-ID": "req-other-1"})
    assert response.status_code == 403
    assert response.json()["detail"] == f"{address(OTHER)} does not own license {token}"
    assert MARKER not in response.text
    assert api.put(OTHER, token, "binance", {"api_key": "evil"}).status_code == 403
    assert api.get(OPERATOR, token, "binance").json()["data"] == CREDENTIALS
    denied = audit_rows(db, outcome="denied")
    assert [(e["actor"], e["action"], int(e["token_id"]), e["secret_name"]) for e in denied] == [
        (address(OTHER), "read", token, "binance"), (address(OTHER), "write", token, "binance")]
    assert denied[0]["request_id"] == "req-other-1"
    assert response.headers["X-Request-ID"] == "req-other-1"


def test_no_session__401_counted__not_written_to_the_audit_log(api, db):
    token = api.license(OPERATOR)
    api.client.cookies.clear()  # sign-in set a session cookie
    before = ANONYMOUS_DENIALS._value.get()
    response = api.client.get(api.url(token, "binance"))
    assert response.status_code == 401
    assert ANONYMOUS_DENIALS._value.get() == before + 1
    assert audit_rows(db, outcome="denied") == []


def test_anonymous_flood__429_with_retry_after__no_audit_rows__owner_unaffected(
        make_vault_client, ops, settings, db):
    api = VaultApi(make_vault_client(backend_settings=settings.model_copy(
        update={"rate_limit_anonymous": "5/minute"})), ops)
    token = api.license(OPERATOR)
    api.put(OPERATOR, token, "binance", CREDENTIALS)
    owner = api.login(OPERATOR)
    api.client.cookies.clear()
    rows_before = len(audit_rows(db))
    statuses = [api.client.get(api.url(token, "binance")).status_code for _ in range(5)]
    assert statuses == [401] * 5
    for path in (api.url(token, "binance"), api.url(token), "/vault/audit"):
        flooded = api.client.get(path, headers={"Authorization": "Bearer forged"})
        assert flooded.status_code == 429, flooded.text
        assert 1 <= int(flooded.headers["Retry-After"]) <= 60
    assert len(audit_rows(db)) == rows_before
    read = api.client.get(api.url(token, "binance"), headers=owner)
    assert read.status_code == 200 and read.json()["data"] == CREDENTIALS
    assert len(audit_rows(db)) == rows_before + 1


def test_every_access__audited_with_time_actor_token_name_action_outcome_request_id(api, db):
    token = api.license(OPERATOR)
    rid = {"X-Request-ID": "trace-42"}
    api.put(OPERATOR, token, "binance", CREDENTIALS, headers=rid)
    api.client.get(api.url(token, "binance"), headers={**api.login(OPERATOR), **rid})
    api.client.get(api.url(token), headers={**api.login(OPERATOR), **rid})
    api.client.delete(api.url(token, "binance"), headers={**api.login(OPERATOR), **rid})
    api.client.get(api.url(token, "binance"), headers={**api.login(OPERATOR), **rid})
    entries = audit_rows(db, request_id="trace-42")
    assert [(e["action"], e["outcome"], e["secret_name"]) for e in entries] == [
        ("write", "ok", "binance"), ("read", "ok", "binance"), ("list", "ok", None),
        ("delete", "ok", "binance"), ("read", "not_found", "binance")]
    assert all(e["actor"] == address(OPERATOR) and int(e["token_id"]) == token and e["at"]
               for e in entries)


def test_suspended__refused_then_reinstated__readable(api, ops, db):
    token = api.license(OPERATOR)
    api.put(OPERATOR, token, "binance", CREDENTIALS)
    ops.suspend(token)
    ops.index()
    for response in (api.get(OPERATOR, token, "binance"), api.list(OPERATOR, token),
                     api.put(OPERATOR, token, "binance", {"api_key": "x"})):
        assert response.status_code == 403 and "suspended" in response.json()["detail"]
    assert db.execute("SELECT count(*) FROM vault_data_keys").fetchone()[0] == 1
    ops.send(ops.contract.functions.reinstate(token))
    ops.index()
    assert api.get(OPERATOR, token, "binance").json()["data"] == CREDENTIALS


def secret_rows(db, token: int) -> list[tuple]:
    return db.execute(
        "SELECT k.owner, s.name, s.version, s.nonce, s.ciphertext FROM vault_secrets s"
        " JOIN vault_data_keys k ON k.id = s.data_key_id WHERE k.token_id = %s",
        (token,)).fetchall()


def assert_unrecoverable(db, key_file, deployment, token: int, rows: list[tuple]) -> None:
    """With the database and every master key: no data key in the database opens them."""
    ring = LocalKeyring(path=key_file).ring()
    keys = db.execute("SELECT chain_id, contract_address, token_id, owner, kek_version,"
                      " wrapped_key FROM vault_data_keys").fetchall()
    candidates = [bytes(key) for key in ring.keys.values()]  # a master key used directly
    for chain_id, contract, token_id, owner, version, wrapped in keys:
        aad = TokenBinding(chain_id, contract, int(token_id), owner).data_key_aad()
        candidates.append(LocalKeyring(path=key_file).unwrap(version, bytes(wrapped), aad))
    for owner, name, version, nonce, ciphertext in rows:
        aad = TokenBinding(deployment.chain_id, deployment.contracts["NodeLicense"].address,
                           token, owner).secret_aad(name, version)
        for candidate in candidates:
            with pytest.raises(DecryptionFailed):
                open_sealed(candidate, bytes(nonce), bytes(ciphertext), aad)


def test_revoked__refused_and_shredded__unrecoverable_with_db_and_master_keys(
        api, ops, db, key_file, deployment):
    token = api.license(OPERATOR)
    survivor = api.license(OTHER, GUARDIAN)
    api.put(OPERATOR, token, "binance", CREDENTIALS)
    api.put(OTHER, survivor, "kraken", {"api_key": "stays"})
    before = secret_rows(db, token)  # what a backup taken before the revocation holds
    ops.revoke(token)
    ops.index()
    response = api.get(OPERATOR, token, "binance")
    assert response.status_code == 403 and "revoked" in response.json()["detail"]
    assert db.execute("SELECT count(*) FROM vault_data_keys WHERE token_id = %s",
                      (token,)).fetchone()[0] == 0
    assert secret_rows(db, token) == []
    assert_unrecoverable(db, key_file, deployment, token, before)
    shred = audit_rows(db, action="shred")
    assert [(int(e["token_id"]), e["detail"]) for e in shred] == [
        (token, "license revoked: data key and 1 secret versions destroyed")]
    assert api.get(OTHER, survivor, "kraken").json()["data"] == {"api_key": "stays"}


def test_reassigned__new_owner_cannot_read__old_owner_refused__old_secrets_destroyed(
        api, ops, db, key_file, deployment):
    token = api.license(OPERATOR)
    api.put(OPERATOR, token, "binance", CREDENTIALS)
    before = secret_rows(db, token)
    ops.reassign(token, address(OTHER))
    ops.index()
    api.login(OTHER)
    assert api.get(OPERATOR, token, "binance").status_code == 403
    response = api.get(OTHER, token, "binance")
    assert response.status_code == 404 and MARKER not in response.text
    assert api.list(OTHER, token).json()["secrets"] == []
    assert secret_rows(db, token) == []
    assert_unrecoverable(db, key_file, deployment, token, before)
    assert api.put(OTHER, token, "binance", {"api_key": "new owner"}).json()["version"] == 1
    assert api.get(OTHER, token, "binance").json()["data"] == {"api_key": "new owner"}
    assert_unrecoverable(db, key_file, deployment, token, before)  # the new key neither


def test_sweep__destroys_a_revoked_license_key_without_any_request(make_vault_client, ops,
                                                                   db, vault_settings):
    from backend.vault.service import Vault
    from tests.vault.helpers import VaultApi

    vault = Vault(vault_settings.model_copy(update={"shred_interval": 0.2}))
    api = VaultApi(make_vault_client(vault), ops)
    token = api.license(OPERATOR)
    api.put(OPERATOR, token, "binance", CREDENTIALS)
    ops.revoke(token)
    ops.index()
    for _ in range(100):
        if not db.execute("SELECT count(*) FROM vault_data_keys").fetchone()[0]:
            break
        api.client.get("/healthz")  # lets the app's event loop run the sweeper
    assert db.execute("SELECT count(*) FROM vault_data_keys").fetchone()[0] == 0
    assert audit_rows(db, action="shred")[0]["actor"] == "system"


def tamper(db, sql: str) -> None:
    db.execute(sql)


@pytest.mark.parametrize("sql", [
    "UPDATE vault_secrets SET ciphertext = set_byte(ciphertext, 3, get_byte(ciphertext, 3) # 1)",
    "UPDATE vault_secrets SET ciphertext = set_byte(ciphertext, length(ciphertext) - 1,"
    " get_byte(ciphertext, length(ciphertext) - 1) # 1)",  # the GCM tag
    "UPDATE vault_secrets SET nonce = set_byte(nonce, 0, get_byte(nonce, 0) # 1)",
    "UPDATE vault_secrets SET version = 9",  # moved to another version
    "UPDATE vault_secrets SET name = 'binance'",  # moved to another name
    "UPDATE vault_data_keys SET wrapped_key = set_byte(wrapped_key, 20,"
    " get_byte(wrapped_key, 20) # 1)",
])
def test_tampered_rows__integrity_error__audited__no_plaintext(api, db, sql):
    token = api.license(OPERATOR)
    api.put(OPERATOR, token, "kraken", CREDENTIALS)
    tamper(db, sql)
    name = "binance" if "name =" in sql else "kraken"
    response = api.get(OPERATOR, token, name, params={"version": 9} if "9" in sql else {})
    assert response.status_code == 500, response.text
    assert "integrity check failed" in response.json()["detail"] and MARKER not in response.text
    assert audit_rows(db, action="read")[-1]["outcome"] == "error"


def test_ciphertext_moved_between_tokens__fails(api, db):
    mine, theirs = api.license(OPERATOR), api.license(OTHER, GUARDIAN)
    api.put(OPERATOR, mine, "binance", CREDENTIALS)
    api.put(OTHER, theirs, "binance", {"api_key": "theirs"})
    db.execute("""UPDATE vault_secrets t SET nonce = m.nonce, ciphertext = m.ciphertext
                  FROM vault_secrets m JOIN vault_data_keys mk ON mk.id = m.data_key_id
                  WHERE mk.token_id = %s AND t.data_key_id <> m.data_key_id""", (mine,))
    response = api.get(OTHER, theirs, "binance")
    assert response.status_code == 500 and MARKER not in response.text
    db.execute("UPDATE vault_data_keys SET wrapped_key = (SELECT wrapped_key FROM"
               " vault_data_keys WHERE token_id = %s) WHERE token_id = %s", (mine, theirs))
    assert api.get(OTHER, theirs, "binance").status_code == 500  # a data key moved


def test_wrong_master_key_version__integrity_error(api, db, key_file):
    from backend.vault.keys import write_keyring
    from backend.vault.rotation import next_ring

    token = api.license(OPERATOR)
    api.put(OPERATOR, token, "binance", CREDENTIALS)
    write_keyring(key_file, next_ring(LocalKeyring(path=key_file).ring()))
    db.execute("UPDATE vault_data_keys SET kek_version = 2")  # claims v2, wrapped by v1
    assert api.get(OPERATOR, token, "binance").status_code == 500


def test_no_keyring__503_with_how_to_fix__audited(api, db, key_file):
    token = api.license(OPERATOR)
    key_file.unlink()
    api.client.app.state.vault.keys = None
    response = api.put(OPERATOR, token, "binance", CREDENTIALS)
    assert response.status_code == 503 and "noderr vault rotate" in response.json()["detail"]
    assert audit_rows(db)[-1]["outcome"] == "error"


@pytest.fixture
def audit_breaks(db):
    """Every insert into the audit log fails from now on."""
    db.execute("CREATE FUNCTION fail_audit() RETURNS trigger LANGUAGE plpgsql AS "
               "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$")
    return lambda: db.execute("CREATE TRIGGER fail_audit BEFORE INSERT ON vault_audit "
                              "FOR EACH ROW EXECUTE FUNCTION fail_audit()")


def test_audit_write_fails__every_operation_refused(api, db, audit_breaks):
    token = api.license(OPERATOR)
    api.put(OPERATOR, token, "binance", CREDENTIALS)
    audit_breaks()
    write = api.put(OPERATOR, token, "binance", {"api_key": "unaudited"})
    assert write.status_code == 503 and "audit log unavailable" in write.json()["detail"]
    read = api.get(OPERATOR, token, "binance")
    assert read.status_code == 503 and MARKER not in read.text
    assert api.list(OPERATOR, token).status_code == 503
    assert api.delete(OPERATOR, token, "binance").status_code == 503
    assert api.get(OTHER, token, "binance").status_code == 503  # a denial is refused too
    assert db.execute("SELECT count(*), max(version) FROM vault_secrets").fetchone() == (1, 1)


def test_audit_write_fails__each_unwritten_entry_counted_in_metrics(api, audit_breaks):
    token = api.license(OPERATOR)
    before = sample(api.client.get("/metrics").text, "noderr_vault_audit_failures_total")
    audit_breaks()
    assert api.put(OPERATOR, token, "binance", CREDENTIALS).status_code == 503
    assert api.get(OPERATOR, token, "binance").status_code == 503
    assert sample(api.client.get("/metrics").text,
                  "noderr_vault_audit_failures_total") == before + 2


def test_secrets__never_in_log_records(api, caplog, db):
    caplog.set_level(logging.DEBUG)
    token = api.license(OPERATOR)
    api.put(OPERATOR, token, "binance", CREDENTIALS)
    api.get(OPERATOR, token, "binance")
    api.get(OTHER, token, "binance")
    db.execute("UPDATE vault_secrets SET nonce = set_byte(nonce, 0, get_byte(nonce, 0) # 1)")
    api.get(OPERATOR, token, "binance")
    assert caplog.records  # the app did log
    assert not [r for r in caplog.records if MARKER in r.getMessage()]


def test_auditor_role__reads_and_exports__others_denied(api, ops, db):
    token = api.license(OPERATOR, ORACLE)
    api.put(OPERATOR, token, "binance", CREDENTIALS)
    assert api.client.get("/vault/audit", headers=api.login(OPERATOR)).status_code == 403
    auditor = 3
    ops.grant_role("AUDITOR_ROLE", address(auditor))
    ops.index()
    page = api.client.get("/vault/audit", params={"limit": 1}, headers=api.login(auditor))
    assert page.status_code == 200, page.text
    assert page.json()["entries"][0]["action"] == "write" and page.json()["next_after"] == 1
    export = api.client.get("/vault/audit/export", headers=api.login(auditor))
    lines = export.text.splitlines()
    head_seq, head_hash = export.headers["X-Vault-Audit-Head"].split(":")
    assert len(lines) == int(head_seq) and head_hash in lines[-1]
    assert MARKER not in export.text
    actions = [(e["actor"], e["action"], e["outcome"]) for e in audit_rows(db)]
    assert (address(OPERATOR), "audit_read", "denied") in actions
    assert (address(auditor), "audit_export", "ok") in actions
