"""Demo data through the front doors: signed Typeform webhooks create applications, and
applicants confirm their wallets by SIWE, signed by anvil's unlocked dev accounts
(`personal_sign` over JSON-RPC: no private key is ever in this code)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass

import httpx

from noderr.domain import NodeType
from noderr.jsonrpc import call
from noderr.settings import LOCAL_CHAIN_ID
from noderr.siwe_text import siwe_message


@dataclass(frozen=True)
class Applicant:
    name: str
    contact: str
    wallet: str
    node_type: NodeType
    region: str
    experience: int


def typeform_payload(applicant: Applicant, form_id: str) -> dict:
    """A `form_response` webhook body as Typeform sends it (refs = application fields)."""
    def answer(ref: str, kind: str, value: object) -> dict:
        return {"type": kind, kind: value, "field": {"id": ref, "type": kind, "ref": ref}}

    return {"event_id": uuid.uuid4().hex, "event_type": "form_response", "form_response": {
        "form_id": form_id, "token": uuid.uuid4().hex, "answers": [
            answer("applicant_name", "text", applicant.name),
            answer("contact", "email", applicant.contact),
            answer("wallet_address", "text", applicant.wallet),
            {"type": "choice", "choice": {"label": NodeType(applicant.node_type).label},
             "field": {"id": "node_type", "type": "multiple_choice", "ref": "node_type"}},
            answer("region", "text", applicant.region),
            answer("experience", "number", applicant.experience)]}}


def typeform_signature(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def submit_application(api_url: str, secret: str, form_id: str, applicant: Applicant) -> str:
    """POST a signed Typeform webhook; the id of the application it created."""
    body = json.dumps(typeform_payload(applicant, form_id)).encode()
    response = httpx.post(f"{api_url}/webhooks/typeform", content=body, timeout=10, headers={
        "Typeform-Signature": typeform_signature(secret, body),
        "Content-Type": "application/json"})
    response.raise_for_status()
    return response.json()["application"]


def sign_in(api_url: str, rpc_url: str, address: str, chain_id: int = LOCAL_CHAIN_ID) -> str:
    """A session token for `address`, an unlocked account of the local chain."""
    nonce = httpx.get(f"{api_url}/auth/nonce", timeout=10).json()["nonce"]
    message = siwe_message(api_url, address, chain_id, nonce)
    signature = call(rpc_url, "personal_sign", ["0x" + message.encode().hex(), address])
    response = httpx.post(f"{api_url}/auth/verify", timeout=10,
                          json={"message": message, "signature": signature})
    response.raise_for_status()
    return response.json()["token"]


def claim(api_url: str, rpc_url: str, app_id: str, wallet: str) -> None:
    """The applicant signs in with the typed wallet and claims the application."""
    token = sign_in(api_url, rpc_url, wallet)
    response = httpx.post(f"{api_url}/applications/{app_id}/claim", timeout=10,
                          headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()


def demo_applicants(accounts: list[str]) -> list[Applicant]:
    return [
        Applicant("Ada Lovelace", "ada@example.org", accounts[1], NodeType.ORACLE, "Europe", 7),
        Applicant("Grace Hopper", "grace@example.org", accounts[2], NodeType.GUARDIAN,
                  "Americas", 12),
        Applicant("Alan Turing", "alan@example.org", accounts[3], NodeType.VALIDATOR,
                  "Europe", 4)]


def seed(api_url: str, rpc_url: str, secret: str, form_id: str,
         claimed: int = 2) -> list[tuple[Applicant, str]]:
    """Three applications from anvil #1-#3; the first `claimed` confirm their wallets."""
    accounts = call(rpc_url, "eth_accounts")
    if not isinstance(accounts, list) or len(accounts) < 4:
        raise RuntimeError(f"{rpc_url} lists too few unlocked accounts to seed the demo")
    created = []
    for index, applicant in enumerate(demo_applicants(accounts)):
        app_id = submit_application(api_url, secret, form_id, applicant)
        if index < claimed:
            claim(api_url, rpc_url, app_id, applicant.wallet)
        created.append((applicant, app_id))
    return created
