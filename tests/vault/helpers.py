"""Acting as operators against the vault API, and reading the vault's tables directly."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from noderr_cli.main import app as noderr_app
from tests.backend.chain_helpers import LicenseOps
from tests.backend.helpers import bearer, sign_in
from tests.backend.siwe_helpers import KEYS

ORACLE, GUARDIAN, VALIDATOR = 1, 2, 3
OPERATOR_INDEX = 1
CREDENTIALS = {"exchange": "binance", "api_key": "AKIA-test-key-0001",
               "api_secret": "s3cr3t-MARKER-8f2d41", "passphrase": "correct horse"}
MARKER = "MARKER-8f2d41"


def address(index: int) -> str:
    return KEYS[index].address


class VaultApi:
    """The vault API as anvil accounts: `login(i)` signs in once per account."""

    def __init__(self, client: TestClient, ops: LicenseOps) -> None:
        self.client, self.ops = client, ops
        self._headers: dict[int, dict[str, str]] = {}

    def login(self, index: int) -> dict[str, str]:
        if index not in self._headers:
            self._headers[index] = bearer(sign_in(self.client, index))
        return self._headers[index]

    def license(self, index: int, node_type: int = ORACLE, salt: str = "") -> int:
        """Mint a license to account `index`, index it, sign the account in; the token id."""
        token_id = self.ops.mint(address(index), node_type, salt)
        self.ops.index()
        self.login(index)
        return token_id

    def url(self, token_id: int, name: str | None = None) -> str:
        base = f"/vault/licenses/{token_id}/secrets"
        return f"{base}/{name}" if name else base

    def put(self, index: int, token_id: int, name: str, data: dict[str, Any], **kw: Any):
        return self.client.put(self.url(token_id, name), json={"data": data},
                               headers={**self.login(index), **kw.pop("headers", {})}, **kw)

    def get(self, index: int, token_id: int, name: str, **kw: Any):
        return self.client.get(self.url(token_id, name),
                               headers={**self.login(index), **kw.pop("headers", {})}, **kw)

    def list(self, index: int, token_id: int):
        return self.client.get(self.url(token_id), headers=self.login(index))

    def delete(self, index: int, token_id: int, name: str):
        return self.client.delete(self.url(token_id, name), headers=self.login(index))


def audit_rows(db: psycopg.Connection, **where: Any) -> list[dict[str, Any]]:
    clauses = " AND ".join(f"{column} = %({column})s" for column in where) or "true"
    with db.cursor(row_factory=psycopg.rows.dict_row) as cursor:
        return cursor.execute(f"SELECT * FROM vault_audit WHERE {clauses} ORDER BY seq",
                              where).fetchall()


def unlock_audit(db: psycopg.Connection) -> None:
    """What a database superuser can do: lift the append-only triggers."""
    db.execute("ALTER TABLE vault_audit DISABLE TRIGGER USER")


def noderr(*args: str) -> tuple[int, str]:
    """Run `noderr ...` in-process; (exit code, stdout + stderr)."""
    result = CliRunner().invoke(noderr_app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output
