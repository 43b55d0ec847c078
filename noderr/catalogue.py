"""The catalogue of the 55 node functions: one row per function, the one source of truth.

The backend seeds its `node_functions` table from it at start (GET /network/functions), and
the node runtime binds an implementation to every row of its type (a test checks that each
row has one and no implementation lacks a row). Categories are the product's words."""

from __future__ import annotations

from dataclasses import dataclass

from noderr.domain import NodeType


@dataclass(frozen=True)
class FunctionSpec:
    """A node function as the network publishes it."""

    name: str
    node_type: NodeType
    category: str
    description: str
    input: str


CATALOGUE: tuple[FunctionSpec, ...] = (
    FunctionSpec('aggregate_median_price', NodeType.ORACLE, 'price feed aggregation',
                 'median of ≥2f+1 signed observations', 'per-source prices'),
    FunctionSpec('aggregate_confidence_weighted_price', NodeType.ORACLE, 'price feed aggregation',
                 'Pyth-style three-vote median and IQR confidence', '(price, conf) per source'),
    FunctionSpec('compute_twap', NodeType.ORACLE, 'price feed aggregation',
                 'time-weighted (geometric) average over a window', 'timestamped prices'),
    FunctionSpec('should_publish_update', NodeType.ORACLE, 'price feed aggregation',
                 'deviation ≥ α or age ≥ heartbeat', 'last on-chain answer, new median'),
    FunctionSpec('collect_ohlcv_bars', NodeType.ORACLE, 'market data collection',
                 'ingest and resample bars from a source adapter', 'replayed or live bars'),
    FunctionSpec('compute_vwap', NodeType.ORACLE, 'market data collection',
                 'volume-weighted average price', 'bars or trades'),
    FunctionSpec('compute_realized_volatility', NodeType.ORACLE, 'market data collection',
                 'close-to-close, Parkinson, Garman–Klass', 'OHLC'),
    FunctionSpec('compute_book_imbalance', NodeType.ORACLE, 'order book monitoring',
                 'depth imbalance over top k levels', 'L2 snapshot'),
    FunctionSpec('compute_spread_and_microprice', NodeType.ORACLE, 'order book monitoring',
                 'spread (bps), microprice', 'L1/L2'),
    FunctionSpec('detect_book_anomaly', NodeType.ORACLE, 'order book monitoring',
                 'sudden depth withdrawal, spoof-like walls', 'L2 snapshot sequence'),
    FunctionSpec('compute_market_depth', NodeType.ORACLE, 'liquidity analysis',
                 'cumulative depth within ±x bps of mid', 'L2'),
    FunctionSpec('estimate_price_impact', NodeType.ORACLE, 'liquidity analysis',
                 'walk the book for a notional', 'L2'),
    FunctionSpec('compute_amihud_illiquidity', NodeType.ORACLE, 'liquidity analysis',
                 'rolling abs(return) / dollar volume', 'OHLCV'),
    FunctionSpec('validate_observation', NodeType.ORACLE, 'data quality validation',
                 'staleness, bounds, positivity, jumps > kσ', 'observation + history'),
    FunctionSpec('detect_source_outliers', NodeType.ORACLE, 'data quality validation',
                 'MAD distance from the cross-source median, source scores',
                 'per-source observations'),
    FunctionSpec('compute_var_historical', NodeType.GUARDIAN, 'real-time risk monitoring',
                 '99% one-day historical VaR / ES', 'positions, return history'),
    FunctionSpec('compute_var_ewma', NodeType.GUARDIAN, 'real-time risk monitoring',
                 'parametric VaR with RiskMetrics (or ML) σ', 'positions, returns, forecast'),
    FunctionSpec('compute_drawdown', NodeType.GUARDIAN, 'real-time risk monitoring',
                 'current and maximum drawdown', 'equity curve'),
    FunctionSpec('compute_exposure_concentration', NodeType.GUARDIAN, 'real-time risk monitoring',
                 'gross/net exposure, Herfindahl, largest share', 'positions, prices'),
    FunctionSpec('check_order_notional_limit', NodeType.GUARDIAN, 'position limit enforcement',
                 'per-instrument max notional per order', 'order, price'),
    FunctionSpec('check_position_limit', NodeType.GUARDIAN, 'position limit enforcement',
                 'post-trade position vs cap', 'positions, order'),
    FunctionSpec('check_order_rate_limit', NodeType.GUARDIAN, 'position limit enforcement',
                 'token bucket on submit/modify rate', 'order timestamps'),
    FunctionSpec('check_balance_sufficiency', NodeType.GUARDIAN, 'position limit enforcement',
                 'order cost ≤ free balance', 'balances'),
    FunctionSpec('evaluate_kill_switch', NodeType.GUARDIAN, 'emergency shutdown triggers',
                 'P&L ≤ threshold → HALTED', 'P&L'),
    FunctionSpec('evaluate_circuit_breaker', NodeType.GUARDIAN, 'emergency shutdown triggers',
                 'price move beyond a band within a window', 'prices'),
    FunctionSpec('evaluate_stoploss_guard', NodeType.GUARDIAN, 'emergency shutdown triggers',
                 'N stop-losses within a lookback → lock', 'trade log'),
    FunctionSpec('set_trading_state', NodeType.GUARDIAN, 'emergency shutdown triggers',
                 'ACTIVE / REDUCING / HALTED state machine', 'triggers, guardian quorum'),
    FunctionSpec('check_license_validity', NodeType.GUARDIAN, 'compliance monitoring',
                 'counterparty node holds an active license of the right type', 'chain mirror'),
    FunctionSpec('screen_address_denylist', NodeType.GUARDIAN, 'compliance monitoring',
                 'addresses against a deny list', 'addresses'),
    FunctionSpec('detect_wash_trading', NodeType.GUARDIAN, 'compliance monitoring',
                 'opposite fills by one owner within a window', 'fills'),
    FunctionSpec('audit_log_append', NodeType.GUARDIAN, 'compliance monitoring',
                 'hash-chained log of risk decisions', 'decisions'),
    FunctionSpec('verify_report_signatures', NodeType.GUARDIAN, 'system integrity verification',
                 'f+1 / 2f+1 distinct authorised signers', 'report, signatures, signer set'),
    FunctionSpec('verify_state_consistency', NodeType.GUARDIAN, 'system integrity verification',
                 'state hashes agree across peers', 'peer snapshots'),
    FunctionSpec('check_node_heartbeats', NodeType.GUARDIAN, 'system integrity verification',
                 'missing or stale nodes', 'heartbeat store'),
    FunctionSpec('check_clock_skew', NodeType.GUARDIAN, 'system integrity verification',
                 'local clock vs peer median / block time', 'timestamps'),
    FunctionSpec('validate_tx_signature', NodeType.VALIDATOR, 'transaction validation',
                 'EIP-712 signature recovery, chain id', 'signed message'),
    FunctionSpec('validate_nonce_and_replay', NodeType.VALIDATOR, 'transaction validation',
                 'monotonic nonce, duplicate detection', 'sender state'),
    FunctionSpec('validate_tx_risk', NodeType.VALIDATOR, 'transaction validation',
                 'asks the Guardian limit checks', 'transaction, risk state'),
    FunctionSpec('validate_report_payload', NodeType.VALIDATOR, 'transaction validation',
                 'bounds, monotonic round, feed id', 'report'),
    FunctionSpec('propose_batch', NodeType.VALIDATOR, 'consensus participation',
                 'leader pre-prepare (sequence, digest)', 'pending observations'),
    FunctionSpec('vote_prepare', NodeType.VALIDATOR, 'consensus participation',
                 'signed prepare after validation', 'pre-prepare'),
    FunctionSpec('vote_commit', NodeType.VALIDATOR, 'consensus participation',
                 'commit after 2f+1 prepares', 'prepares'),
    FunctionSpec('handle_view_change', NodeType.VALIDATOR, 'consensus participation',
                 'timeout → next leader after 2f+1 view-changes', 'timers, messages'),
    FunctionSpec('submit_proposal', NodeType.VALIDATOR, 'governance',
                 'on-chain proposal (e.g. admit a validator, penalise one)', 'proposal'),
    FunctionSpec('cast_vote', NodeType.VALIDATOR, 'governance',
                 "vote per the operator's policy", 'proposal id'),
    FunctionSpec('tally_proposal', NodeType.VALIDATOR, 'governance',
                 'mirror of the on-chain tally, quorum and state', 'votes'),
    FunctionSpec('execute_proposal', NodeType.VALIDATOR, 'governance',
                 'queue / execute when due', 'proposal'),
    FunctionSpec('compute_voting_power', NodeType.VALIDATOR, 'stake management',
                 'power at a snapshot from the license registry', 'license mirror'),
    FunctionSpec('track_liveness', NodeType.VALIDATOR, 'stake management',
                 'missed signatures over a window', 'per-round signers'),
    FunctionSpec('detect_double_sign', NodeType.VALIDATOR, 'stake management',
                 'conflicting votes at one round → evidence', 'vote log'),
    FunctionSpec('apply_penalty', NodeType.VALIDATOR, 'stake management',
                 'evidence → proposal to suspend (governance decides)', 'evidence'),
    FunctionSpec('score_peer', NodeType.VALIDATOR, 'network coordination',
                 'latency, invalid messages, uptime → score', 'peer stats'),
    FunctionSpec('sync_state', NodeType.VALIDATOR, 'network coordination',
                 'catch up from a checkpoint and missing rounds', 'peers / stream'),
    FunctionSpec('acquire_leader_lease', NodeType.VALIDATOR, 'network coordination',
                 'coordinator lease (compare-and-swap with TTL)', 'bus key-value store'),
    FunctionSpec('schedule_transmission', NodeType.VALIDATOR, 'network coordination',
                 'staged on-chain submitter with fallback', 'report, validator order'),
)

BY_NAME: dict[str, FunctionSpec] = {spec.name: spec for spec in CATALOGUE}


def of_type(node_type: NodeType) -> tuple[FunctionSpec, ...]:
    """The functions a node of `node_type` runs, in catalogue order."""
    return tuple(spec for spec in CATALOGUE if spec.node_type == node_type)
