"""A NodeFeed's agreed values for the paper desk (`noderr trade paper --onchain`): the feed's
contract from the deployment file (NODERR_DEPLOYMENT, else deployments/<chain id>.json), its
`latestRoundData` read by eth_call at NODERR_RPC_URL (node/runtime/chain.py, blocking: the desk
loop is synchronous), polled by node/desk/agreed_feed.py's AgreedFeed.

The round period is the validators' own: a consensus round every NODERR_VALIDATOR_ROUND_EVERY
oracle rounds of NODERR_NODE_ROUND_INTERVAL seconds (node/runtime/validator.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from node.desk.agreed_feed import AgreedFeed, FeedUnreadable, RoundData
from node.runtime.chain import AbiFunction, read_contract
from node.settings import NodeSettings, ValidatorSettings
from noderr import jsonrpc
from noderr.deployment import Deployment, feed_contract_name
from noderr.settings import get_settings


class FeedUnavailable(Exception):
    """The feed cannot be traded on; the message is the one line saying why."""


@dataclass(frozen=True)
class FeedReader:
    """The latest round of the feed contract at `address`."""

    rpc_url: str
    address: str
    latest_round_data: AbiFunction

    def __call__(self) -> RoundData:
        try:
            return RoundData(*read_contract(self.rpc_url, self.address, self.latest_round_data))
        except jsonrpc.JsonRpcError as error:
            raise FeedUnreadable(str(error)) from None


@dataclass(frozen=True)
class OnchainFeed:
    name: str
    address: str
    agreed: AgreedFeed


def round_period(node: NodeSettings, validators: ValidatorSettings) -> float:
    """Seconds between two consensus rounds of the validators."""
    return node.node_round_interval * validators.validator_round_every


def open_feed(feed: str, node: NodeSettings, stale_periods: int) -> OnchainFeed:
    """The agreed values of the deployment's `NodeFeed.<feed>`; FeedUnavailable when the chain
    does not answer, there is no deployment file or it holds no such feed."""
    name = feed_contract_name(feed)
    try:
        chain_id = int(jsonrpc.call(node.rpc_url, "eth_chainId"), 16)
        path = get_settings().deployment_path(chain_id)
        record = Deployment.load(path).contracts.get(name)
        if record is None:
            raise FeedUnavailable(f"{path} has no {name}: give a feed it deploys")
        decimals = read_contract(node.rpc_url, record.address,
                                 AbiFunction.of(record.abi, "decimals"))[0]
    except (jsonrpc.JsonRpcError, FileNotFoundError) as error:
        raise FeedUnavailable(f"cannot read {name}: {error}") from None
    reader = FeedReader(node.rpc_url, record.address,
                        AbiFunction.of(record.abi, "latestRoundData"))
    period = round_period(node, ValidatorSettings())
    return OnchainFeed(name, record.address,
                       AgreedFeed(reader, decimals, period, time.monotonic, stale_periods))
