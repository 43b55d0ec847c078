"""Which validators `noderr deploy` mints at genesis (no chain needed)."""

import pytest

from noderr.settings import LOCAL_CHAIN_ID
from onchain.deploy import LOCAL_GENESIS_VALIDATORS, DeployError, genesis_validators
from onchain.settings import DeploySettings
from tests.cli.wiring import ANVIL_0, ANVIL_1


def test_genesis_validators__unset_on_local_chain__anvil_4_to_7():
    assert genesis_validators(DeploySettings(), LOCAL_CHAIN_ID) == list(LOCAL_GENESIS_VALIDATORS)


def test_genesis_validators__from_the_environment__checksummed(monkeypatch):
    monkeypatch.setenv("NODERR_GENESIS_VALIDATORS", f"{ANVIL_0.lower()}, {ANVIL_1}")
    assert genesis_validators(DeploySettings(), 1) == [ANVIL_0, ANVIL_1]


@pytest.mark.parametrize(("validators", "words"), [
    ([], "no genesis validator: set NODERR_GENESIS_VALIDATORS"),
    (["0x123"], "bad genesis validator address"),
    ([ANVIL_0, ANVIL_0.lower()], "names an address twice"),
])
def test_genesis_validators__refused_with_one_line(validators, words):
    with pytest.raises(DeployError, match=words):
        genesis_validators(DeploySettings(genesis_validators=validators), 1)
