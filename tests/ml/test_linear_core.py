"""The linear part fitted first, alone and exactly (Hyperparameters.linear_core)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from ml.baselines import log_ridge
from ml.linear_core import qlike_core
from ml.losses import qlike_loss
from ml.model import Hyperparameters, VolatilityModel
from ml.panel import Panel
from ml.scaler import Scaler
from tests.ml.conftest import FAST

CORED = dataclasses.replace(FAST, linear_core="log_ridge", core_alphas=(100, 1000, 10000))


@pytest.mark.parametrize("kind", ["log_ridge", "qlike"])
def test_fit__linear_core__same_linear_part_for_every_seed(small_panel: Panel,
                                                          kind: str) -> None:
    hyper = dataclasses.replace(CORED, linear_core=kind)
    first, second = VolatilityModel(hyper, seed=7), VolatilityModel(hyper, seed=8)
    first.fit(small_panel, 700)
    second.fit(small_panel, 700)
    assert torch.equal(first.networks[0].linear.weight, second.networks[0].linear.weight)
    assert torch.equal(first.networks[0].linear.bias, second.networks[0].linear.bias)
    assert first.core_alpha == second.core_alpha
    assert not torch.equal(first.networks[0].mlp[0].weight, second.networks[0].mlp[0].weight)


def test_fit__log_ridge_core_and_zero_epochs__is_the_ridge_regression(
        small_panel: Panel) -> None:
    model = VolatilityModel(dataclasses.replace(CORED, max_epochs=0), seed=7)
    model.fit(small_panel, 700)
    assert model.epochs == [0]
    inputs = model.inputs(small_panel.features[small_panel.first:700])
    log_target = np.log(small_panel.target[small_panel.first + model.span - 1:700])
    coefficients, smearing = log_ridge(model.scaler.transform(inputs), log_target,
                                       model.core_alpha)
    later = model.scaler.transform(model.inputs(small_panel.features[700 - model.span + 1:800]))
    expected = np.exp(coefficients[0] + later @ coefficients[1:]) * smearing
    np.testing.assert_allclose(model.predict(small_panel, 700, 800), expected, rtol=1e-4)


def test_fit__linear_core__alpha_with_the_best_held_out_qlike(small_panel: Panel) -> None:
    """An alpha so large that the linear part is a constant forecasts worse on the held-out rows
    than a moderate one: the moderate one is chosen, whichever order the grid lists them."""
    for grid in ((1000, 10**12), (10**12, 1000)):
        model = VolatilityModel(dataclasses.replace(CORED, core_alphas=grid, max_epochs=0))
        model.fit(small_panel, 700)
        assert model.core_alpha == 1000


def test_qlike_core__at_the_minimum_of_penalised_qlike(small_panel: Panel) -> None:
    model = VolatilityModel(FAST)
    inputs = Scaler.fit(model.inputs(small_panel.features[small_panel.first:700]))
    matrix = inputs.transform(model.inputs(small_panel.features[small_panel.first:700]))
    log_target = np.log(small_panel.target[small_panel.first + model.span - 1:700])
    log_target = log_target - log_target.mean()
    core = qlike_core(matrix, log_target, alpha=1000)
    weight = core.weight.clone().requires_grad_(True)
    bias = core.bias.clone().requires_grad_(True)
    x, y = torch.as_tensor(matrix), torch.as_tensor(log_target)
    loss = qlike_loss(x @ weight + bias, y) + 1000 / (2 * len(x)) * weight.square().sum()
    loss.backward()
    assert float(weight.grad.abs().max()) < 1e-6
    assert float(bias.grad.abs()) < 1e-6


def test_hyperparameters__unknown_linear_core__refused() -> None:
    with pytest.raises(ValueError, match="linear_core must be one of"):
        Hyperparameters(linear_core="lasso")
