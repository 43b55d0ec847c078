"""Configuration of `noderr node` and `noderr bus` from `NODERR_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from noderr.settings import CommaList


class NodeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NODERR_", extra="ignore")

    api_url: str = Field("http://127.0.0.1:8000", description="Backend API the node reports to.")
    rpc_url: str = Field("http://127.0.0.1:8545", description="The chain (its chain id).")
    node_heartbeat_interval: float = Field(
        5.0, gt=0, description="Seconds between a node's heartbeats (backend and bus).")
    node_round_interval: float = Field(
        1.0, gt=0, description="Seconds between an Oracle node's rounds.")
    node_metrics_port: int = Field(
        0, ge=0, le=65535, description="Port of the node's Prometheus /metrics on 127.0.0.1 "
                                       "(0: none).")
    node_watch_timeout: float = Field(
        20.0, gt=0, le=30, description="Longest wait of one license long-poll.")
    ml_target: str = Field(
        "", description="The ML service's gRPC host:port (`noderr ml serve`): Guardians watch "
                        "desks and Oracles publish INSTRUMENT_VOL feeds with its volatility "
                        "forecasts (empty: none, EWMA only).")
    ml_deadline: float = Field(
        2.0, gt=0, le=30, description="Seconds a node waits for one ML forecast before it "
                                      "falls back to its EWMA.")


class ValidatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NODERR_", extra="ignore")

    validator_tick_ms: int = Field(50, gt=0, description="Milliseconds of one consensus tick.")
    validator_view_timeout_ticks: int = Field(
        20, ge=1, description="Ticks before a validator asks for the next view (doubles per "
                              "view of a round).")
    validator_retransmit_ticks: int = Field(5, ge=1, description="Ticks between resends.")
    validator_min_observations: int = Field(
        1, ge=1, description="Oracle observations a round's report needs.")
    validator_round_every: int = Field(
        4, ge=1, description="A consensus round every N oracle rounds.")
    validator_transmit_delay: float = Field(
        1.0, gt=0, description="Seconds between one transmitter's turn and the next.")
    validator_message_rate: float = Field(
        20.0, gt=0, description="Consensus messages per second one validator may send on a "
                                "feed after its burst; the excess is dropped as `flooding`.")
    validator_message_burst: int = Field(
        100, ge=1, description="Consensus messages one validator may send on a feed at once.")
    validator_governance_policy: Path | None = Field(
        None, description="JSON file of the operator's governance policy (propose penalties, "
                          "vote rules, execute when due); unset: the validator never proposes, "
                          "votes or executes.")


@lru_cache
def get_node_settings() -> NodeSettings:
    return NodeSettings()


class GuardianSettings(BaseSettings):
    """A Guardian node's pre-trade limits, and how many of their answers a desk waits for."""

    model_config = SettingsConfigDict(env_prefix="NODERR_", extra="ignore")

    guardian_max_notional: float = Field(
        100_000.0, gt=0, description="Largest notional of one order, any instrument.")
    guardian_max_position: float = Field(
        1_000.0, gt=0, description="Largest |position| in quantity after an order, per "
                                   "instrument.")
    guardian_rate_capacity: float = Field(
        10.0, gt=0, description="Orders a requester may send in a burst (token bucket).")
    guardian_rate_per_second: float = Field(
        1.0, gt=0, description="Orders per second a requester may send after the burst.")
    guardian_fee_rate: float = Field(
        0.0, ge=0, lt=1, description="Fee rate the balance check adds to an order's cost.")
    guardian_price_band: float = Field(
        0.10, gt=0, lt=1, description="Largest distance of an order's limit price from the "
                                      "feed price it is quoted against, as a fraction.")
    guardian_denylist: CommaList = Field(
        default_factory=list, description="Addresses whose orders are refused.")
    guardian_max_drawdown: float = Field(
        0.25, gt=0, lt=1, description="Drawdown of a guarded desk's equity (a fraction of its "
                                      "peak), or loss since its start (of its initial "
                                      "equity), at which the guardians halt the network.")
    guardian_max_var: float = Field(
        0.05, gt=0, description="99% value at risk of a guarded desk's equity over one step "
                                "(historical and EWMA), as a fraction of the equity, above "
                                "which the guardians let only risk-reducing orders through.")
    guardian_max_concentration: float = Field(
        1.0, gt=0, le=1, description="Herfindahl index of a guarded desk's gross exposure "
                                     "(sum of squared |notional| / gross shares) above which "
                                     "the guardians let only risk-reducing orders through; "
                                     "1.0 is off (a one-instrument book is always 1.0), "
                                     "e.g. 0.6 for a multi-instrument book.")
    guardian_answers_required: int = Field(
        1, ge=1, description="Guardian answers a desk waits for before an order may trade.")
    guardian_answer_timeout: float = Field(
        2.0, gt=0, description="Seconds a desk waits for them before it refuses the order.")
