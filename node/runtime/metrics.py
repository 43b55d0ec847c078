"""What a node exposes to Prometheus (`NODERR_NODE_METRICS_PORT`): whether it may execute,
the block its license was last confirmed at, its function executions by outcome, the bus's
drops by reason (node/bus/transport.py registers those) and, on a Validator, the consensus
rounds it saw decided per feed, when it last saw one and how often one is due: the alert
NoderrConsensusStalled (ops/prometheus/alerts.yml) compares the two."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, start_http_server

from node.execution import Execution

ACTIVE = Gauge("noderr_node_active", "1 while the node may execute, 0 while it is paused.")
CONFIRMED_BLOCK = Gauge("noderr_node_license_block",
                        "The indexed block at which the node's license was last confirmed.")
EXECUTIONS = Counter("noderr_node_executions", "Function executions the backend accepted, "
                     "by function and outcome.",
                     ["function", "outcome"])

ROUNDS = Counter("noderr_consensus_rounds", "Consensus rounds this validator saw decided, "
                 "by feed.", ["feed"])
LAST_ROUND = Gauge("noderr_consensus_last_round_timestamp_seconds",
                   "Unix time this validator last saw a round of the feed decided (its start "
                   "until the first).", ["feed"])
ROUND_PERIOD = Gauge("noderr_consensus_round_period_seconds",
                     "Seconds between consensus rounds of the feed (NODERR_VALIDATOR_ROUND_EVERY "
                     "oracle rounds of NODERR_NODE_ROUND_INTERVAL).", ["feed"])
MESSAGES_DROPPED = Counter("noderr_consensus_messages_dropped",
                           "Consensus messages dropped unshipped: the backend did not take them "
                           "before the validator's bounded queue overflowed.")


def serve(port: int) -> None:
    """Serve /metrics on 127.0.0.1:`port` from a background thread (0: not at all)."""
    if port:
        start_http_server(port, addr="127.0.0.1")


def count(executions: list[Execution]) -> None:
    for execution in executions:
        EXECUTIONS.labels(execution.function, execution.outcome).inc()


def validating(feeds: list[str], round_period: float) -> None:
    """A validator starts on `feeds`: each is due a decided round every `round_period` s,
    counted from now."""
    for feed in feeds:
        ROUND_PERIOD.labels(feed).set(round_period)
        LAST_ROUND.labels(feed).set_to_current_time()


def messages_dropped(count: int) -> None:
    MESSAGES_DROPPED.inc(count)


def decided(feed: str) -> None:
    ROUNDS.labels(feed).inc()
    LAST_ROUND.labels(feed).set_to_current_time()
