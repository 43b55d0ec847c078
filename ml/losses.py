"""The training loss of everything in `ml` fitted on QLIKE, in torch."""

from __future__ import annotations

import torch


def qlike_loss(log_forecast: torch.Tensor, log_proxy: torch.Tensor) -> torch.Tensor:
    """Mean QLIKE up to a constant: exp(log s - f) + f."""
    return (torch.exp(log_proxy - log_forecast) + log_forecast).mean()
