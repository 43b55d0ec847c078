"""The volatility model: averages of the 94 features over the last 1, 5, 22 and 66 days, scaled,
into a linear map plus a small MLP, giving log next-day variance; trained on QLIKE itself.

Why the averages: the 94 features describe one day and its trailing windows of prices, but no
feature is a multi-day average of range-based variance, which is what makes HAR strong. Averaging
the feature rows over HAR's horizons (plus a quarter) gives the network that memory without a
recurrent layer; on the 2011-2014 validation years it lowered QLIKE by 0.005-0.015 (docs/ml.md).

Why QLIKE as the loss: with h = exp(f), QLIKE(s, h) = s/h - log(s/h) - 1 = exp(log s - f) + f +
const, smooth in f and minimal at f = log E[s | inputs]: the network learns the log of the
conditional mean variance directly, so unlike a regression on log s (HAR, ridge) it needs no
bias correction when mapped back.

The linear part carries a ridge penalty (alpha 100, in the ridge baseline's units): on the
2011-2014 validation years it lowered QLIKE by 0.0001 on each data set, a margin too small to call
a finding; a smaller, more heavily dropped-out MLP (8 units, dropout 0.3) was worse by 0.011-0.022.

Training: the last 20% of the training rows (in time order) pick the number of epochs (early
stopping on their QLIKE); the network is then retrained on all the rows for that many epochs, so
the most recent days are never left out. An ensemble of three seeds is averaged in log space.
Same seed, same data, same thread count: same weights.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn

from ml.features import FEATURE_NAMES, HISTORY
from ml.linear_core import LINEAR_CORES, LinearCore, fit_linear_cores
from ml.losses import qlike_loss
from ml.panel import VARIANCE_FLOOR, Panel
from ml.scaler import Scaler


@dataclass(frozen=True)
class Hyperparameters:
    """Chosen on the 2011-2014 validation years of both data sets (docs/ml.md), never on the
    2015-2018 test years."""

    pool: tuple[int, ...] = (1, 5, 22, 66)
    hidden: int = 32
    layers: int = 2
    dropout: float = 0.1
    weight_decay: float = 1e-3
    learning_rate: float = 3e-4
    batch_size: int = 256
    max_epochs: int = 200
    patience: int = 20
    early_stopping_fraction: float = 0.2
    ensemble: int = 3
    linear_ridge: float = 100.0
    """Ridge penalty α on the linear part's weights, in the ridge baseline's units (100: the α
    chosen for ridge on the averaged inputs): the loss gains α ||w||² / (2 n) for n training
    rows (QLIKE's curvature in f is 1 at the optimum, half that of the squared error ridge
    regression minimises)."""
    linear_core: str = ""
    """"" trains the linear part with the MLP. "qlike" or "log_ridge" fits it first, alone and
    exactly, the same for every seed: "qlike" at the minimum of its penalised QLIKE (convex:
    full-batch L-BFGS in float64), "log_ridge" as the ridge regression of log GK with its
    smearing factor (closed form, as the ridge baseline); its α is the one of `core_alphas`
    with the lowest QLIKE on the held-out rows early stopping uses. The linear part is then
    frozen and the MLP, its output layer started at zero, trained on what it leaves: the seed
    moves only the non-linear correction, and zero epochs is the linear model."""
    core_alphas: tuple[int, ...] = (100, 300, 1000, 3000, 10000, 30000, 100000)

    def __post_init__(self) -> None:
        if self.linear_core and self.linear_core not in LINEAR_CORES:
            raise ValueError(f"linear_core must be one of {sorted(LINEAR_CORES)} or empty, "
                             f"not {self.linear_core!r}")
        object.__setattr__(self, "pool", tuple(self.pool))
        object.__setattr__(self, "core_alphas", tuple(self.core_alphas))

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class Network(nn.Module):
    """A linear map of the inputs plus an MLP on them: the linear part alone is a QLIKE-fitted,
    ridge-penalised linear model, the MLP adds what is not linear."""

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
        self.linear = nn.Linear(inputs, 1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return (self.mlp(inputs) + self.linear(inputs))[:, 0]


class VolatilityModel:
    """Scaler + networks (their log forecasts averaged) + the log-variance offset the networks'
    outputs are relative to."""

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
        self.core_alpha: float | None = None
        """The linear core's α, when Hyperparameters.linear_core chose one."""

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
        self.offset = float(np.log(target.mean()))
        inputs, log_target = self.scaler.transform(matrix), np.log(target) - self.offset
        split = int(len(inputs) * (1 - self.hyper.early_stopping_fraction))
        held_core = full_core = None
        if self.hyper.linear_core:
            held_core, full_core, self.core_alpha = fit_linear_cores(
                self.hyper.linear_core, self.hyper.core_alphas, inputs, log_target, split)
        self.networks, self.epochs = [], []
        for member in range(self.hyper.ensemble):
            epochs = self._early_stopping_epochs(inputs, log_target, split, self.seed + member,
                                                 held_core)
            self.networks.append(self._train(inputs, log_target, self.seed + member, epochs,
                                             full_core))
            self.epochs.append(epochs)

    def predict_features(self, feature_rows: np.ndarray) -> np.ndarray:
        """Variance forecasts for the last n of n + span - 1 consecutive feature rows."""
        return self.predict_inputs(self.inputs(feature_rows))

    def predict_inputs(self, matrix: np.ndarray) -> np.ndarray:
        """Variance forecasts for rows of network inputs (see `inputs`)."""
        if self.scaler is None:
            raise RuntimeError("the model is not fitted")
        inputs = self._tensor(self.scaler.transform(matrix))
        with torch.no_grad():
            outputs = torch.stack([net(inputs) for net in self.networks]).mean(dim=0)
        log_forecast = outputs.cpu().double().numpy() + self.offset
        return np.maximum(np.exp(log_forecast), VARIANCE_FLOOR)

    def _early_stopping_epochs(self, inputs: np.ndarray, log_target: np.ndarray, split: int,
                               seed: int, core: LinearCore | None) -> int:
        """Epochs after which QLIKE on the rows after `split` (held out) was lowest."""
        held_x, held_y = self._tensor(inputs[split:]), self._tensor(log_target[split:])
        best_loss, best_epoch = float("inf"), 0
        for epoch, net in enumerate(self._epochs(inputs[:split], log_target[:split], seed,
                                                 self.hyper.max_epochs, core)):
            net.eval()
            with torch.no_grad():
                loss = float(qlike_loss(net(held_x), held_y))
            if loss < best_loss:
                best_loss, best_epoch = loss, epoch
            elif epoch - best_epoch >= self.hyper.patience:
                break
        return best_epoch

    def _train(self, inputs: np.ndarray, log_target: np.ndarray, seed: int,
               epochs: int, core: LinearCore | None) -> Network:
        *_, net = self._epochs(inputs, log_target, seed, epochs, core)
        net.eval()
        return net

    def _epochs(self, inputs: np.ndarray, log_target: np.ndarray, seed: int,
                epochs: int, core: LinearCore | None = None) -> Iterator[Network]:
        """The network after 0, 1, …, `epochs` epochs of AdamW on shuffled mini-batches; with a
        linear core, the linear part is that core, frozen, and only the MLP trains."""
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        x, y = self._tensor(inputs), self._tensor(log_target)
        net = Network(self.hyper).to(self.device)
        if core is not None:
            core.install(net.linear, net.mlp[-1])
        optimiser = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad],
                                      lr=self.hyper.learning_rate,
                                      weight_decay=self.hyper.weight_decay)
        penalty = 0.0 if core is not None else self.hyper.linear_ridge / (2 * len(x))
        yield net
        for _ in range(epochs):
            net.train()
            # One copy of the epoch's order to the device, not two per mini-batch: on a GPU
            # the per-batch copies cost more than the step itself.
            order = torch.randperm(len(x), generator=generator).to(self.device)
            for batch in order.split(self.hyper.batch_size):
                optimiser.zero_grad()
                loss = qlike_loss(net(x[batch]), y[batch])
                if penalty:
                    loss = loss + penalty * net.linear.weight.square().sum()
                loss.backward()
                optimiser.step()
            yield net

    def _tensor(self, values: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(values, dtype=torch.float32, device=self.device)
