"""Seven validators (f = 2) and two oracles as real `noderr node run` processes on a stack of
their own (tests/node/runtime/conftest.py's `network`, a separate instance for this folder):
every anvil account but #0 (the admin) runs a node. Validators: anvil #9 (the genesis
validator, token 1) and #3 to #8, admitted by governance; oracles: #1 and #2. The n = 4
folder (tests/node/validators) shows every fault at f = 1; this one shows them at f = 2: a
killed leader, two Byzantine validators at once, two silent, NATS restarted, three down, and
a license revoked mid-run."""

from __future__ import annotations

from collections.abc import Iterator

import ape

from tests.node.runtime.conftest import Network, network  # noqa: F401
from tests.node.validators.conftest import FeedNetwork, start_feed_network

VALIDATORS = (9, 3, 4, 5, 6, 7, 8)
ORACLES = (1, 2)


@ape.fixture(scope="package", chain_isolation=False)
def feed_network(network: Network) -> Iterator[FeedNetwork]:  # noqa: F811
    yield start_feed_network(network, VALIDATORS, ORACLES)
