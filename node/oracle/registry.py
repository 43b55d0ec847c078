"""The implementation of every Oracle row of the catalogue, by its catalogue name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from node.oracle.aggregation import (
    aggregate_confidence_weighted_price,
    aggregate_median_price,
    compute_twap,
    should_publish_update,
)
from node.oracle.liquidity import (
    compute_amihud_illiquidity,
    compute_market_depth,
    estimate_price_impact,
)
from node.oracle.market_data import (
    collect_ohlcv_bars,
    compute_realized_volatility,
    compute_vwap,
)
from node.oracle.order_book import (
    compute_book_imbalance,
    compute_spread_and_microprice,
    detect_book_anomaly,
)
from node.oracle.quality import detect_source_outliers, validate_observation

ORACLE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    function.__name__: function for function in (
        aggregate_median_price, aggregate_confidence_weighted_price, compute_twap,
        should_publish_update, collect_ohlcv_bars, compute_vwap, compute_realized_volatility,
        compute_book_imbalance, compute_spread_and_microprice, detect_book_anomaly,
        compute_market_depth, estimate_price_impact, compute_amihud_illiquidity,
        validate_observation, detect_source_outliers,
    )
}
