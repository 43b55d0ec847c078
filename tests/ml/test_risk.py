from __future__ import annotations

import pytest

from ml.risk import position_size, value_at_risk


def test_value_at_risk_of_one_percent_daily_volatility() -> None:
    assert value_at_risk(1e-4, 1_000_000, 0.99) == pytest.approx(23_263.5, abs=0.1)
    assert value_at_risk(1e-4, -1_000_000, 0.95) == pytest.approx(16_448.5, abs=0.1)


def test_position_size_inverts_value_at_risk() -> None:
    size = position_size(2.5e-4, 10_000, 0.99)
    assert value_at_risk(2.5e-4, size, 0.99) == pytest.approx(10_000)


@pytest.mark.parametrize(("variance", "confidence"), [(0.0, 0.99), (1e-4, 1.0), (1e-4, 0.3)])
def test_nonsense_is_refused(variance: float, confidence: float) -> None:
    with pytest.raises(ValueError):
        value_at_risk(variance, 1.0, confidence)
