"""The implementation of every Guardian row of the catalogue, by its catalogue name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from node.guardian.compliance import (
    audit_log_append,
    check_license_validity,
    detect_wash_trading,
    screen_address_denylist,
)
from node.guardian.integrity import (
    check_clock_skew,
    check_node_heartbeats,
    verify_report_signatures,
    verify_state_consistency,
)
from node.guardian.limits import (
    check_balance_sufficiency,
    check_order_notional_limit,
    check_order_rate_limit,
    check_position_limit,
)
from node.guardian.risk import (
    compute_drawdown,
    compute_exposure_concentration,
    compute_var_ewma,
    compute_var_historical,
)
from node.guardian.shutdown import (
    evaluate_circuit_breaker,
    evaluate_kill_switch,
    evaluate_stoploss_guard,
    set_trading_state,
)

GUARDIAN_FUNCTIONS: dict[str, Callable[..., Any]] = {
    function.__name__: function for function in (
        compute_var_historical, compute_var_ewma, compute_drawdown,
        compute_exposure_concentration, check_order_notional_limit, check_position_limit,
        check_order_rate_limit, check_balance_sufficiency, evaluate_kill_switch,
        evaluate_circuit_breaker, evaluate_stoploss_guard, set_trading_state,
        check_license_validity, screen_address_denylist, detect_wash_trading, audit_log_append,
        verify_report_signatures, verify_state_consistency, check_node_heartbeats,
        check_clock_skew,
    )
}
