"""The node's key: a keystore with its password file, or anvil's accounts on chain 31337 only."""

from __future__ import annotations

import json

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from node.runtime.keys import KeyLoadError, anvil_account, from_keystore
from tests.backend.siwe_helpers import KEYS


def test_anvil_account__local_chain__is_anvils_account():
    key = anvil_account(3, 31337)
    assert key.address == KEYS[3].address
    assert "private_key" not in repr(key) and key.private_key.hex() not in repr(key)


def test_anvil_account__other_chain__refused_naming_keystore():
    with pytest.raises(KeyLoadError, match=r"local chain .* --keystore"):
        anvil_account(1, 1)


def test_anvil_account__out_of_range__refused():
    with pytest.raises(KeyLoadError, match="between 0 and 19"):
        anvil_account(20, 31337)


def test_from_keystore__right_password__signs_as_the_keystores_address(tmp_path):
    account = Account.create()
    (tmp_path / "key.json").write_text(json.dumps(Account.encrypt(account.key, "s3cret")))
    (tmp_path / "password").write_text("s3cret\n")
    key = from_keystore(tmp_path / "key.json", tmp_path / "password")
    assert key.address == account.address
    signature = key.sign_message("hello")
    assert Account.recover_message(encode_defunct(text="hello"),
                                   signature=signature) == account.address


def test_from_keystore__wrong_password__refused(tmp_path):
    (tmp_path / "key.json").write_text(json.dumps(Account.encrypt(Account.create().key, "a")))
    (tmp_path / "password").write_text("b")
    with pytest.raises(KeyLoadError, match="wrong password"):
        from_keystore(tmp_path / "key.json", tmp_path / "password")


@pytest.mark.parametrize(("content", "message"), [
    (None, "does not exist"), ("not json", "not a JSON keystore"), ("{}", "missing field")])
def test_from_keystore__bad_file__refused_naming_it(tmp_path, content, message):
    if content is not None:
        (tmp_path / "key.json").write_text(content)
    (tmp_path / "password").write_text("x")
    with pytest.raises(KeyLoadError, match=message):
        from_keystore(tmp_path / "key.json", tmp_path / "password")


def test_from_keystore__missing_password_file__refused(tmp_path):
    (tmp_path / "key.json").write_text(json.dumps(Account.encrypt(Account.create().key, "a")))
    with pytest.raises(KeyLoadError, match="password file"):
        from_keystore(tmp_path / "key.json", tmp_path / "absent")
