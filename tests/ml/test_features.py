from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml import features
from tests.ml.pandas_reference import reference_features


def test_ninety_four_named_features() -> None:
    assert len(features.FEATURE_NAMES) == 94 == len(set(features.FEATURE_NAMES))
    assert len(features.KBAR) == 9 and len(features.DAILY) == 5
    assert len(features.OPERATORS) * len(features.WINDOWS) == 80
    assert features.HISTORY == 61


@pytest.fixture(scope="module")
def both_ways(sp500: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    sample = sp500.iloc[1000:1200]
    return features.compute(sample), reference_features(sample)


@pytest.mark.parametrize("name", features.FEATURE_NAMES)
def test_each_feature_matches_the_pandas_reference(
        both_ways: tuple[pd.DataFrame, pd.DataFrame], name: str) -> None:
    ours, reference = (table[name].iloc[features.HISTORY - 1:] for table in both_ways)
    np.testing.assert_allclose(ours, reference, rtol=1e-7, atol=1e-12)


def toy() -> pd.DataFrame:
    return pd.DataFrame({
        "open": [10.0, 11.0, 12.0, 11.0, 13.0, 12.0],
        "high": [11.0, 12.0, 13.0, 12.0, 14.0, 13.0],
        "low": [9.0, 10.0, 11.0, 10.0, 12.0, 10.0],
        "close": [10.5, 11.5, 11.0, 11.5, 13.5, 12.5],
        "volume": [100.0, 200.0, 100.0, 300.0, 100.0, 200.0],
    })


def test_candle_and_range_features_by_hand() -> None:
    row = features.compute(toy()).iloc[5]
    assert row["KMID"] == pytest.approx((12.5 - 12) / 12)
    assert row["KLEN"] == pytest.approx(3 / 12)
    assert row["KUP2"] == pytest.approx((13 - 12.5) / 3)
    assert row["KLOW"] == pytest.approx((12 - 10) / 12)
    assert row["KSFT2"] == pytest.approx((25 - 13 - 10) / 3)
    assert row["RET"] == pytest.approx(np.log(12.5 / 13.5))
    assert row["PARK"] == pytest.approx(np.log(1.3) ** 2 / (4 * np.log(2)))
    assert row["GK"] == pytest.approx(0.5 * np.log(1.3) ** 2
                                      - (2 * np.log(2) - 1) * np.log(12.5 / 12) ** 2)
    assert row["RS"] == pytest.approx(np.log(13 / 12.5) * np.log(13 / 12)
                                      + np.log(10 / 12.5) * np.log(10 / 12))
    assert row["DLVOL"] == pytest.approx(np.log(201 / 101))


def test_rolling_operators_by_hand_on_a_five_day_window() -> None:
    row = features.compute(toy()).iloc[5]
    closes = [11.5, 11.0, 11.5, 13.5, 12.5]
    assert row["ROC5"] == pytest.approx(10.5 / 12.5)
    assert row["MA5"] == pytest.approx(np.mean(closes) / 12.5)
    assert row["MAX5"] == pytest.approx(14 / 12.5)
    assert row["MIN5"] == pytest.approx(10 / 12.5)
    assert row["RANK5"] == pytest.approx(4 / 5)
    assert row["RSV5"] == pytest.approx((12.5 - 10) / (14 - 10))
    assert row["IMAX5"] == pytest.approx(4 / 5)
    assert row["IMIN5"] == pytest.approx(1 / 5)
    assert row["CNTP5"] == pytest.approx(3 / 5)
    assert row["SUMP5"] == pytest.approx((1 + 0.5 + 2) / (1 + 0.5 + 0.5 + 2 + 1))
    assert row["QTLU5"] == pytest.approx(12.7 / 12.5)
    slope = np.polyfit(np.arange(1, 6), closes, 1)[0]
    assert row["BETA5"] == pytest.approx(slope / 12.5)
    assert row["VMA5"] == pytest.approx(180 / 200)


@pytest.mark.parametrize("name", ["sp500", "nasdaq"])
def test_all_features_finite_after_the_warm_up(name: str, request: pytest.FixtureRequest) -> None:
    table = features.compute(request.getfixturevalue(name)).to_numpy()
    assert table.shape[1] == 94
    assert np.isfinite(table[features.HISTORY - 1:]).all()
    assert not np.isfinite(table[features.HISTORY - 2]).all()


def test_no_look_ahead(sp500: pd.DataFrame) -> None:
    sample = sp500.iloc[:400]
    before = features.compute(sample)
    rng = np.random.default_rng(1)
    for t in (60, 150, 398):
        future = sample.copy()
        factor = rng.uniform(0.5, 2.0, size=len(sample) - t - 1)
        future.iloc[t + 1:, :4] = future.iloc[t + 1:, :4].mul(factor, axis=0)
        future.iloc[t + 1:, 4] = future.iloc[t + 1:, 4] * factor[::-1]
        after = features.compute(future)
        pd.testing.assert_frame_equal(after.iloc[:t + 1], before.iloc[:t + 1])
        assert not np.allclose(after.iloc[t + 1:].to_numpy(), before.iloc[t + 1:].to_numpy())


def test_serving_row_equals_the_batch_row(sp500: pd.DataFrame) -> None:
    batch = features.compute(sp500).to_numpy()
    for t in (60, 61, 500, 2500, len(sp500) - 1):
        np.testing.assert_allclose(features.latest(sp500.iloc[:t + 1])[0], batch[t],
                                   rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(features.latest(sp500.iloc[:901], 22), batch[879:901],
                               rtol=1e-12, atol=1e-15)


def test_too_short_a_history_is_refused(sp500: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="61 rows"):
        features.latest(sp500.iloc[:60])
