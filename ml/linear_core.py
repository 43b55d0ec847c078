"""The model's linear part fitted first, alone and exactly (Hyperparameters.linear_core): the
same for every seed, so that the seed moves only the MLP's non-linear correction.

Tried on the 2011-2014 validation years and not adopted (docs/ml.md, "Third round"): it cut the
spread between seeds but raised the mean QLIKE."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ml.baselines import log_ridge
from ml.losses import qlike_loss


@dataclass(frozen=True)
class LinearCore:
    weight: torch.Tensor
    bias: torch.Tensor

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs @ self.weight + self.bias

    def install(self, linear: nn.Linear, mlp_output: nn.Linear) -> None:
        """Make it a network's linear part, frozen, and start the MLP's output at zero."""
        with torch.no_grad():
            linear.weight.copy_(self.weight.unsqueeze(0))
            linear.bias.copy_(self.bias)
            mlp_output.weight.zero_()
            mlp_output.bias.zero_()
        linear.requires_grad_(False)


def qlike_core(inputs: np.ndarray, log_target: np.ndarray, alpha: float) -> LinearCore:
    """The linear map at the minimum of mean QLIKE + alpha ||w||² / (2 n), n the rows: convex,
    so full-batch L-BFGS in float64 finds it whatever the seed."""
    x = torch.as_tensor(inputs, dtype=torch.float64)
    y = torch.as_tensor(log_target, dtype=torch.float64)
    weight = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    penalty = alpha / (2 * len(x))
    optimiser = torch.optim.LBFGS([weight, bias], max_iter=500, tolerance_grad=1e-10,
                                  tolerance_change=1e-14, history_size=20,
                                  line_search_fn="strong_wolfe")

    def objective() -> torch.Tensor:
        optimiser.zero_grad()
        loss = qlike_loss(x @ weight + bias, y) + penalty * weight.square().sum()
        loss.backward()
        return loss

    optimiser.step(objective)
    return LinearCore(weight.detach(), bias.detach())


def log_ridge_core(inputs: np.ndarray, log_target: np.ndarray, alpha: float) -> LinearCore:
    """The ridge regression of the log variance (as the ridge baseline), its smearing factor
    folded into the bias."""
    coefficients, smearing = log_ridge(inputs, log_target, alpha)
    return LinearCore(torch.as_tensor(coefficients[1:]),
                      torch.as_tensor([coefficients[0] + np.log(smearing)]))


LINEAR_CORES: dict[str, Callable[[np.ndarray, np.ndarray, float], LinearCore]] = {
    "qlike": qlike_core, "log_ridge": log_ridge_core}


def fit_linear_cores(kind: str, alphas: Sequence[float], inputs: np.ndarray,
                     log_target: np.ndarray, split: int) -> tuple[LinearCore, LinearCore, float]:
    """The core fitted on the rows before `split` and on all rows, with the alpha whose fit on
    the rows before `split` has the lowest QLIKE on the rows after it (the rows early stopping
    holds out); and that alpha."""
    fit = LINEAR_CORES[kind]
    held_x = torch.as_tensor(inputs[split:], dtype=torch.float64)
    held_y = torch.as_tensor(log_target[split:], dtype=torch.float64)
    scored = []
    for alpha in alphas:
        core = fit(inputs[:split], log_target[:split], alpha)
        scored.append((float(qlike_loss(core(held_x), held_y)), alpha, core))
    _, alpha, held_core = min(scored, key=lambda entry: entry[:2])
    return held_core, fit(inputs, log_target, alpha), alpha
