"""dashboard/license_calls.py's NodeLicense calldata against an encoding derived from the
compiled NodeLicense ABI (the one a deployment file carries): selector and arguments from the
ABI's own input types, encoded with eth_abi."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from dashboard.license_calls import LICENSE_ACTIONS, license_call
from onchain.compile import Artifact

OWNER = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
TOKEN = 2**200 + 7


def abi_calldata(abi: list[dict], name: str, args: list[object]) -> str:
    (function,) = [item for item in abi if item.get("type") == "function"
                   and item["name"] == name and len(item["inputs"]) == len(args)]
    types = [item["type"] for item in function["inputs"]]
    selector = function_signature_to_4byte_selector(f"{name}({','.join(types)})")
    return "0x" + (selector + encode(types, args)).hex()


@pytest.mark.parametrize(("action", "args"), [
    ("suspend", [TOKEN, "operator asked for a pause"]),
    ("reinstate", [TOKEN]),
    ("revoke", [TOKEN, "terms violated: ünïcode"]),
    ("reassign", [TOKEN, to_checksum_address(OWNER), "wallet lost"]),
])
def test_license_call__matches_abi_encoding(artifacts, action, args):
    abi = artifacts["NodeLicense"].abi
    reason = args[-1] if action != "reinstate" else ""
    new_owner = OWNER if action == "reassign" else ""
    assert license_call(action, TOKEN, reason, new_owner) == abi_calldata(abi, action, args)


def test_license_actions__every_signature_exists_in_abi(artifacts: dict[str, Artifact]):
    abi = artifacts["NodeLicense"].abi
    signatures = {f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
                  for item in abi if item.get("type") == "function"}
    assert {signature for signature, _ in LICENSE_ACTIONS.values()} <= signatures


@pytest.mark.parametrize("reason", ["", "   "])
def test_license_call__blank_reason__value_error(reason):
    with pytest.raises(ValueError, match="a reason is required"):
        license_call("revoke", 1, reason)


def test_license_call__reason_over_256_bytes__value_error():
    license_call("suspend", 1, "é" * 128)  # 256 bytes: accepted
    with pytest.raises(ValueError, match="longer than 256 bytes"):
        license_call("suspend", 1, "é" * 128 + "x")


def test_license_call__reassign_bad_address__value_error():
    with pytest.raises(ValueError):
        license_call("reassign", 1, "moved", "0x1234")


def test_license_call__reinstate_ignores_reason():
    assert license_call("reinstate", 5, "ignored") == license_call("reinstate", 5)
