"""A small TVAE trained with DP-SGD (opacus 1.6), the DP deep-learning baseline of bench/privacy.py.

What is trained (TVAE-like, smaller than SDV's TVAE so that a CPU run stays bounded):

- encoding: each number min-max scaled to [-1, 1], each category one-hot (SDV's TVAE uses mode-specific
  normalisation from a Bayesian Gaussian mixture instead). The minima, maxima and category lists are read
  from the training rows WITHOUT privacy budget, an advantage over genesis (which releases its ranges and
  category lists under DP): only the training below is DP;
- encoder 2 x 128 ReLU -> 32-dimensional Gaussian latent; decoder 2 x 128 ReLU -> per number a tanh mean
  and a log standard deviation, per categorical column softmax logits; loss: Gaussian negative
  log-likelihood of the numbers plus cross-entropy of the categories, times 2 (TVAE's loss_factor), plus KL;
- DP-SGD with opacus: Adam (lr 1e-3), Poisson-sampled batches of expected size ``BATCH``, per-sample
  gradients clipped to norm 1, the noise multiplier opacus' PRV accountant picks for (epsilon, delta)
  over ``EPOCHS`` epochs. epsilon None: the same training without clipping or noise (no DP);
- sampling: latent N(0, I) -> decoder; numbers mean + sigma * N(0, 1) clipped to [-1, 1] and scaled back
  (rounded for integer columns), categories drawn from the softmax.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import torch
from opacus import PrivacyEngine
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

EPOCHS = 20
BATCH = 256
HIDDEN = 128
LATENT = 32
LOSS_FACTOR = 2.0
MAX_GRAD_NORM = 1.0
LEARNING_RATE = 1e-3
SETTINGS = f"epochs{EPOCHS}-batch{BATCH}-hidden{HIDDEN}-latent{LATENT}"


class _Encoding:
    """Min-max scaling of numbers and one-hot categories (public metadata, see the module)."""

    def __init__(self, train: pd.DataFrame, categorical: list[str]) -> None:
        self.dtypes = train.dtypes
        self.numbers = [c for c in train.columns if c not in categorical]
        self.categories = {c: sorted(train[c].unique(), key=str) for c in categorical}
        self.low = train[self.numbers].min().to_numpy(dtype=np.float64)
        self.high = train[self.numbers].max().to_numpy(dtype=np.float64)
        self.columns = list(train.columns)

    def encode(self, df: pd.DataFrame) -> np.ndarray:
        span = np.where(self.high > self.low, self.high - self.low, 1.0)
        parts = [2.0 * (df[self.numbers].to_numpy(dtype=np.float64) - self.low) / span - 1.0]
        for column, values in self.categories.items():
            codes = pd.Categorical(df[column], categories=values).codes
            parts.append(np.eye(len(values))[codes])
        return np.hstack(parts).astype(np.float32)

    def decode(self, numbers: np.ndarray, codes: list[np.ndarray]) -> pd.DataFrame:
        out = {}
        scaled = (numbers + 1.0) / 2.0 * (self.high - self.low) + self.low
        for j, column in enumerate(self.numbers):
            values = scaled[:, j]
            out[column] = np.round(values).astype(self.dtypes[column]) if self.dtypes[column].kind in "iu" else values
        for (column, values), drawn in zip(self.categories.items(), codes):
            out[column] = pd.Series(np.asarray(values, dtype=object)[drawn]).astype(self.dtypes[column])
        return pd.DataFrame(out)[self.columns]


def _mlp(inputs: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                         nn.Linear(HIDDEN, outputs))


class _TVAE(nn.Module):
    def __init__(self, width: int, numbers: int, sizes: list[int]) -> None:
        super().__init__()
        self.numbers, self.sizes = numbers, sizes
        self.encoder = _mlp(width, 2 * LATENT)
        self.decoder = _mlp(LATENT, 2 * numbers + sum(sizes))

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        out = self.decoder(z)
        mean = torch.tanh(out[:, :self.numbers])
        log_sigma = out[:, self.numbers:2 * self.numbers].clamp(-5.0, 2.0)
        return mean, log_sigma, list(torch.split(out[:, 2 * self.numbers:], self.sizes, dim=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The per-row loss (negative ELBO)."""
        mu, log_var = self.encoder(x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * log_var)
        mean, log_sigma, logits = self.decode(z)
        target = x[:, :self.numbers]
        loss = (((target - mean) / torch.exp(log_sigma)) ** 2 / 2.0 + log_sigma).sum(dim=1)
        start = self.numbers
        for block, size in zip(logits, self.sizes):
            loss = loss - (torch.log_softmax(block, dim=1) * x[:, start:start + size]).sum(dim=1)
            start += size
        kl = -0.5 * (1.0 + log_var - mu ** 2 - log_var.exp()).sum(dim=1)
        return LOSS_FACTOR * loss + kl


def fit_sample(train: pd.DataFrame, categorical: list[str], epsilon: float | None, delta: float, *,
               seed: int = 0) -> pd.DataFrame:
    """Train the model on ``train`` under (epsilon, delta)-DP-SGD (None: no DP) and sample ``len(train)`` rows."""
    threads = torch.get_num_threads()
    # A 128-wide MLP: one thread runs several times faster than two contending with other processes.
    torch.set_num_threads(1)
    try:
        return _fit_sample(train, categorical, epsilon, delta, seed)
    finally:
        torch.set_num_threads(threads)


def _fit_sample(train: pd.DataFrame, categorical: list[str], epsilon: float | None, delta: float,
                seed: int) -> pd.DataFrame:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    encoding = _Encoding(train, categorical)
    data = torch.from_numpy(encoding.encode(train))
    sizes = [len(v) for v in encoding.categories.values()]
    model = _TVAE(data.shape[1], len(encoding.numbers), sizes)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loader = DataLoader(TensorDataset(data), batch_size=BATCH, shuffle=True)
    if epsilon is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model, optimizer, loader = PrivacyEngine().make_private_with_epsilon(
                module=model, optimizer=optimizer, data_loader=loader, target_epsilon=epsilon, target_delta=delta,
                epochs=EPOCHS, max_grad_norm=MAX_GRAD_NORM)
    model.train()
    for _ in range(EPOCHS):
        for (batch,) in loader:
            if len(batch) == 0:
                continue
            optimizer.zero_grad()
            model(batch).mean().backward()
            optimizer.step()
    network = model._module if epsilon is not None else model
    with torch.no_grad():
        mean, log_sigma, logits = network.decode(torch.randn(len(train), LATENT))
        numbers = (mean + torch.exp(log_sigma) * torch.randn_like(mean)).clamp(-1.0, 1.0).numpy()
    codes = [np.minimum((torch.softmax(block, dim=1).double().numpy().cumsum(axis=1)
                         < rng.random((len(train), 1))).sum(axis=1), block.shape[1] - 1) for block in logits]
    return encoding.decode(numbers, codes)
