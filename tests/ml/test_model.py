from __future__ import annotations

import numpy as np
import torch

from ml.losses import qlike_loss
from ml.model import VolatilityModel
from ml.panel import Panel
from tests.ml.conftest import FAST


def weights(model: VolatilityModel) -> list[torch.Tensor]:
    return [tensor for net in model.networks for tensor in net.state_dict().values()]


def test_same_seed_same_weights_and_forecasts(small_panel: Panel,
                                              small_model: VolatilityModel) -> None:
    again = VolatilityModel(FAST, seed=7)
    again.fit(small_panel, 700)
    assert all(torch.equal(a, b) for a, b in zip(weights(small_model), weights(again),
                                                 strict=True))
    np.testing.assert_array_equal(small_model.predict(small_panel, 700, 800),
                                  again.predict(small_panel, 700, 800))
    other = VolatilityModel(FAST, seed=8)
    other.fit(small_panel, 700)
    assert not all(torch.equal(a, b) for a, b in zip(weights(small_model), weights(other),
                                                     strict=True))


def test_forecasts_are_positive_variances_near_the_proxy(small_panel: Panel,
                                                          small_model: VolatilityModel) -> None:
    forecasts = small_model.predict(small_panel, 700, small_panel.last)
    assert (forecasts > 0).all()
    ratio = np.median(forecasts) / np.median(small_panel.target[700:small_panel.last])
    assert 0.3 < ratio < 3


def test_qlike_loss_is_smallest_at_the_truth() -> None:
    log_proxy = torch.log(torch.tensor([1e-4, 2e-4, 5e-5]))
    at_truth = qlike_loss(log_proxy, log_proxy)
    assert at_truth < qlike_loss(log_proxy + 0.1, log_proxy)
    assert at_truth < qlike_loss(log_proxy - 0.1, log_proxy)

