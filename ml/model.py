"""The volatility model: a small MLP from the 94 scaled features to log next-day variance,
trained on QLIKE itself.

With h = exp(f), QLIKE(s, h) = s/h - log(s/h) - 1 = exp(log s - f) + f + const, a smooth loss in
f whose minimum is at f = log E[s | features]: the network learns the log of the conditional mean
variance directly, so unlike a regression on log s (HAR, ridge) it needs no bias correction
when mapped back. Training stops early on the last 20% of the training rows (in time order); the
weights of the best epoch there are kept. Same seed, same data, same thread count: same weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn

from ml.baselines import RIDGE_ALPHA
from ml.features import FEATURE_NAMES, HISTORY
from ml.panel import VARIANCE_FLOOR, Panel
from ml.scaler import Scaler


@dataclass(frozen=True)
class Hyperparameters:
    """Chosen on the 2011-2014 validation years of both data sets (docs/ml.md), never on the
    2015-2018 test years."""

    hidden: int = 32
    layers: int = 2
    dropout: float = 0.1
    weight_decay: float = 1e-3
    learning_rate: float = 1e-3
    batch_size: int = 256
    max_epochs: int = 200
    patience: int = 20
    early_stopping_fraction: float = 0.2
    ensemble: int = 1
    skip: bool = False
    loss: str = "qlike"
    refit_full: bool = False
    ridge_init: bool = False
    pool: tuple[int, ...] = (1,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pool", tuple(self.pool))

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class Network(nn.Module):
    """A linear map of the features plus an MLP on them: the linear part alone is a
    QLIKE-fitted linear model, the MLP adds what is not linear."""

    def __init__(self, hyper: Hyperparameters) -> None:
        super().__init__()
        inputs = len(FEATURE_NAMES) * len(hyper.pool)
        layers: list[nn.Module] = []
        width = inputs
        for _ in range(hyper.layers):
            layers += [nn.Linear(width, hyper.hidden), nn.GELU(), nn.Dropout(hyper.dropout)]
            width = hyper.hidden
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)
        self.linear = nn.Linear(inputs, 1) if hyper.skip else None

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        output = self.mlp(inputs)[:, 0]
        return output if self.linear is None else output + self.linear(inputs)[:, 0]


def qlike_loss(log_forecast: torch.Tensor, log_proxy: torch.Tensor) -> torch.Tensor:
    """Mean QLIKE up to a constant: exp(log s - f) + f."""
    return (torch.exp(log_proxy - log_forecast) + log_forecast).mean()


def log_mse_loss(log_forecast: torch.Tensor, log_proxy: torch.Tensor) -> torch.Tensor:
    return ((log_proxy - log_forecast) ** 2).mean()


LOSSES = {"qlike": qlike_loss, "log_mse": log_mse_loss}


class VolatilityModel:
    """Scaler + networks (an ensemble averages their log forecasts) + the log-variance offset
    the networks' outputs are relative to."""

    name = "model"

    def __init__(self, hyper: Hyperparameters | None = None, seed: int = 0,
                 device: str = "cpu") -> None:
        self.hyper = hyper or Hyperparameters()
        self.seed = seed
        self.device = torch.device(device)
        self.networks: list[Network] = []
        self.scaler: Scaler | None = None
        self.offset = 0.0
        self.epochs: list[int] = []

    @property
    def loss(self) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        return LOSSES[self.hyper.loss]

    @property
    def span(self) -> int:
        """Consecutive feature rows one forecast reads."""
        return max(self.hyper.pool)

    @property
    def history(self) -> int:
        """OHLCV rows one forecast needs."""
        return HISTORY + self.span - 1

    def fit(self, panel: Panel, stop: int) -> None:
        self.fit_inputs(self.inputs(panel.features[panel.first:stop]),
                        panel.target[panel.first + self.span - 1:stop])

    def predict(self, panel: Panel, start: int, stop: int) -> np.ndarray:
        return self.predict_features(panel.features[start - self.span + 1:stop])

    def inputs(self, feature_rows: np.ndarray) -> np.ndarray:
        """The network's inputs for consecutive feature rows (n + span - 1, 94): for each of
        the last n rows, the mean of the features over its last w rows, for each w in pool."""
        count = len(feature_rows) - self.span + 1
        return np.hstack([sliding_window_view(feature_rows, w, axis=0)[-count:].mean(axis=-1)
                          for w in self.hyper.pool])

    def fit_inputs(self, matrix: np.ndarray, target: np.ndarray) -> None:
        """Fit on input rows and their next-day variances, in time order."""
        self.scaler = Scaler.fit(matrix)
        log_target = np.log(target)
        qlike = self.hyper.loss == "qlike"
        self.offset = float(np.log(target.mean()) if qlike else log_target.mean())
        inputs = self.scaler.transform(matrix)
        self.networks, self.epochs = [], []
        for member in range(self.hyper.ensemble):
            net, epochs = self._train(inputs, log_target - self.offset, self.seed + member)
            self.networks.append(net)
            self.epochs.append(epochs)
        if not qlike:
            fitted = np.log(self.predict_inputs(matrix))
            self.offset += float(np.log(np.exp(log_target - fitted).mean()))

    def predict_features(self, feature_rows: np.ndarray) -> np.ndarray:
        """Variance forecasts for the last n of n + span - 1 consecutive feature rows."""
        return self.predict_inputs(self.inputs(feature_rows))

    def predict_inputs(self, matrix: np.ndarray) -> np.ndarray:
        """Variance forecasts for rows of network inputs (see `inputs`)."""
        if self.scaler is None:
            raise RuntimeError("the model is not fitted")
        inputs = torch.as_tensor(self.scaler.transform(matrix), dtype=torch.float32,
                                 device=self.device)
        with torch.no_grad():
            outputs = torch.stack([net(inputs) for net in self.networks]).mean(dim=0)
        log_forecast = outputs.cpu().double().numpy() + self.offset
        return np.maximum(np.exp(log_forecast), VARIANCE_FLOOR)

    def _train(self, inputs: np.ndarray, log_target: np.ndarray,
               seed: int) -> tuple[Network, int]:
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        split = int(len(inputs) * (1 - self.hyper.early_stopping_fraction))
        as_tensor = lambda values: torch.as_tensor(  # noqa: E731
            values, dtype=torch.float32, device=self.device)
        train_x, train_y = as_tensor(inputs[:split]), as_tensor(log_target[:split])
        check_x, check_y = as_tensor(inputs[split:]), as_tensor(log_target[split:])
        net = self._new_network(inputs[:split], log_target[:split])
        optimiser = torch.optim.AdamW(net.parameters(), lr=self.hyper.learning_rate,
                                      weight_decay=self.hyper.weight_decay)
        best_loss, best_state, best_epoch = float("inf"), None, 0
        for epoch in range(self.hyper.max_epochs + 1):
            net.eval()
            with torch.no_grad():
                loss = float(self.loss(net(check_x), check_y))
            if loss < best_loss:
                best_loss, best_epoch = loss, epoch
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            elif epoch - best_epoch >= self.hyper.patience:
                break
            net.train()
            order = torch.randperm(split, generator=generator).to(self.device)
            for batch in order.split(self.hyper.batch_size):
                optimiser.zero_grad()
                self.loss(net(train_x[batch]), train_y[batch]).backward()
                optimiser.step()
        assert best_state is not None
        if self.hyper.refit_full:
            return self._train_epochs(inputs, log_target, seed, best_epoch), best_epoch
        net.load_state_dict(best_state)
        net.eval()
        return net, best_epoch

    def _new_network(self, inputs: np.ndarray, log_target: np.ndarray) -> Network:
        net = Network(self.hyper).to(self.device)
        if self.hyper.ridge_init:
            self._warm_start(net, inputs, log_target)
        return net

    def _warm_start(self, net: Network, inputs: np.ndarray, log_target: np.ndarray) -> None:
        """Start from the ridge solution: linear part = ridge, MLP output = 0."""
        design = np.column_stack([np.ones(len(inputs)), inputs])
        penalty = RIDGE_ALPHA * np.eye(design.shape[1])
        penalty[0, 0] = 0.0
        coefficients = np.linalg.solve(design.T @ design + penalty, design.T @ log_target)
        bias = coefficients[0]
        if self.hyper.loss == "qlike":
            bias += np.log(np.exp(log_target - design @ coefficients).mean())
        assert net.linear is not None
        with torch.no_grad():
            net.linear.weight.copy_(torch.as_tensor(coefficients[None, 1:]))
            net.linear.bias.fill_(float(bias))
            net.mlp[-1].weight.zero_()
            net.mlp[-1].bias.zero_()

    def _train_epochs(self, inputs: np.ndarray, log_target: np.ndarray, seed: int,
                      epochs: int) -> Network:
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        x, y = (torch.as_tensor(values, dtype=torch.float32, device=self.device)
                for values in (inputs, log_target))
        net = self._new_network(inputs, log_target)
        optimiser = torch.optim.AdamW(net.parameters(), lr=self.hyper.learning_rate,
                                      weight_decay=self.hyper.weight_decay)
        net.train()
        for _ in range(epochs):
            for batch in torch.randperm(len(x), generator=generator).split(self.hyper.batch_size):
                optimiser.zero_grad()
                self.loss(net(x[batch]), y[batch]).backward()
                optimiser.step()
        net.eval()
        return net
