"""Tabular variational autoencoder (``method="tvae"``; after Xu et al., NeurIPS 2019), trained with torch.

The encoder and decoder are small multilayer perceptrons over the latent columns: continuous scores as
they are (they are already standard normal through their codecs) and categories one-hot. The decoder
gives each continuous score a mean and a learned spread, each category a softmax. torch is needed only
to train (on a GPU when one is present): the fitted decoder is stored as float arrays and sampled with
numpy, so a stored model generates rows without torch, and every row is a pure function of its own
uniforms (the latent noise, the output noise and the category draws all come from them), and products
are summed row by row in a fixed order (genesis_sql.models._rowwise).
Continuous scores are calibrated to standard-normal marginals (genesis_sql.models._calibration), so each
column's marginal is the training data's.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from genesis_sql.errors import MissingDependencyError
from genesis_sql.models._calibration import Calibration, sample_rows
from genesis_sql.models._encoding import TableEncoding
from genesis_sql.models._random import row_states, standard_normals, uniforms
from genesis_sql.models._rowwise import rowwise_matmul
from genesis_sql.models.base import PIECE_ROWS, BaseSynthesizer, check_is_fitted
from genesis_sql.schema import ColumnSpec

_CALIBRATION_KEY = 0x7AE5CA1
_SIGMA_RANGE = (0.01, 1.0)


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise MissingDependencyError(
            "method='tvae' trains with torch, which is not installed. Install the extra: "
            "pip install 'genesis-sql[torch]' (torch==2.13.0), or use method='arf' or 'copula'.") from exc
    return torch


class TVAE(BaseSynthesizer):
    """Tabular VAE synthesizer.

    Args:
        random_state: seed of everything random in training (weights, batches, noise).
        epochs: passes over the training rows.
        batch_size: rows per optimisation step.
        embedding_dim: size of the latent code.
        compress_dims: hidden layer sizes of the encoder.
        decompress_dims: hidden layer sizes of the decoder.
        l2scale: weight decay of the Adam optimiser.
        loss_factor: weight of the reconstruction loss against the KL divergence.
        device: torch device to train on; by default a GPU when one is present, else the CPU.

    Example:
        >>> TVAE(epochs=50, random_state=0).fit(table, columns).sample_rows(np.arange(5), key=1)  # doctest: +SKIP
    """

    method = "tvae"

    def __init__(self, *, random_state: int | None = 0, epochs: int = 300, batch_size: int = 500,
                 embedding_dim: int = 128, compress_dims: tuple[int, ...] = (128, 128),
                 decompress_dims: tuple[int, ...] = (128, 128), l2scale: float = 1e-5, loss_factor: float = 2.0,
                 device: str | None = None) -> None:
        self.random_state = random_state
        self.epochs = epochs
        self.batch_size = batch_size
        self.embedding_dim = embedding_dim
        self.compress_dims = compress_dims
        self.decompress_dims = decompress_dims
        self.l2scale = l2scale
        self.loss_factor = loss_factor
        self.device = device

    def fit(self, data: pa.Table, columns: list[ColumnSpec]) -> TVAE:
        torch = _torch()
        rng = np.random.default_rng(self.random_state)
        encoding = TableEncoding.fit(data, columns, rng)
        scores = encoding.normal_scores(data)
        categorical = encoding.categorical_dims()
        continuous = [j for j in range(encoding.dims) if j not in categorical]
        codes = np.column_stack([encoding.category_codes(data, j) for j in categorical]) if categorical \
            else np.zeros((data.num_rows, 0), dtype=np.int64)
        sizes = [len(encoding.codecs[encoding.latent[j]].categories_) for j in categorical]
        self.columns_ = columns
        self.encoding_ = encoding
        self.codecs_ = encoding.codecs
        self.continuous_, self.categorical_, self.sizes_ = continuous, categorical, sizes
        self.decoder_, self.sigma_ = self._train(torch, scores[:, continuous], codes, sizes, rng)
        self.calibration_ = Calibration(np.zeros((0, len(continuous))))
        if continuous:
            rows = np.arange(sample_rows(data.num_rows), dtype=np.int64)
            pieces = [rows[i:i + PIECE_ROWS] for i in range(0, rows.size, PIECE_ROWS)]
            raw = np.vstack([self._latent(piece, np.zeros(piece.size, dtype=np.int64),
                                          row_states(_CALIBRATION_KEY, piece), calibrated=False) for piece in pieces])
            self.calibration_ = Calibration.fit(raw[:, continuous])
        return self

    def _train(self, torch: Any, continuous: np.ndarray, codes: np.ndarray, sizes: list[int],
               rng: np.random.Generator) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
        """Train encoder and decoder; returns the decoder's (weight, bias) layers and the output spreads."""
        device = torch.device(self.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        seed = int(rng.integers(2**31))
        one_hot = [np.eye(size, dtype=np.float32)[codes[:, k]] for k, size in enumerate(sizes)]
        x_all = torch.tensor(np.hstack([continuous.astype(np.float32)] + one_hot), device=device)
        y_all = torch.tensor(codes, dtype=torch.long, device=device)
        n_cont = continuous.shape[1]
        devices = [device.index or 0] if device.type == "cuda" else []
        threads = torch.get_num_threads()
        # Layers this small train fastest on one CPU thread; more threads mostly wait on each other (and
        # stall badly on a busy machine). The process-wide setting is put back afterwards.
        torch.set_num_threads(1)
        try:
            return self._optimise(torch, x_all, y_all, n_cont, sizes, device, devices, seed)
        finally:
            torch.set_num_threads(threads)

    def _optimise(self, torch: Any, x_all: Any, y_all: Any, n_cont: int, sizes: list[int], device: Any,
                  devices: list[int], seed: int) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
        """The training loop of :meth:`_train`, with every random number from ``seed``."""
        nn = torch.nn
        width, n = x_all.shape[1], x_all.shape[0]
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            encoder = _mlp(nn, width, self.compress_dims).to(device)
            last = self.compress_dims[-1] if self.compress_dims else width
            mean_head = nn.Linear(last, self.embedding_dim).to(device)
            logvar_head = nn.Linear(last, self.embedding_dim).to(device)
            decoder = nn.Sequential(_mlp(nn, self.embedding_dim, self.decompress_dims),
                                    nn.Linear(self.decompress_dims[-1] if self.decompress_dims else self.embedding_dim,
                                              width)).to(device)
            sigma = nn.Parameter(torch.full((n_cont,), 0.1, device=device))
            parameters = [*encoder.parameters(), *mean_head.parameters(), *logvar_head.parameters(),
                          *decoder.parameters(), sigma]
            optimizer = torch.optim.Adam(parameters, lr=1e-3, weight_decay=self.l2scale)
            shuffle = torch.Generator().manual_seed(seed)
            for _ in range(self.epochs):
                order = torch.randperm(n, generator=shuffle).to(device)
                for start in range(0, n, self.batch_size):
                    batch = order[start:start + self.batch_size]
                    x, y = x_all[batch], y_all[batch]
                    hidden = encoder(x)
                    mu, logvar = mean_head(hidden), logvar_head(hidden)
                    code = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
                    out = decoder(code)
                    loss = ((x[:, :n_cont] - out[:, :n_cont]) ** 2 / (2 * sigma ** 2)).sum() + \
                        torch.log(sigma).sum() * x.shape[0]
                    offset = n_cont
                    for k, size in enumerate(sizes):
                        loss = loss + nn.functional.cross_entropy(out[:, offset:offset + size], y[:, k],
                                                                  reduction="sum")
                        offset += size
                    kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - logvar.exp())
                    total = (self.loss_factor * loss + kl) / x.shape[0]
                    optimizer.zero_grad()
                    total.backward()
                    optimizer.step()
                    with torch.no_grad():
                        sigma.clamp_(*_SIGMA_RANGE)
        layers = [(m.weight.detach().cpu().double().numpy(), m.bias.detach().cpu().double().numpy())
                  for m in decoder.modules() if isinstance(m, nn.Linear)]
        return layers, sigma.detach().cpu().double().numpy()

    def _latent(self, rows: np.ndarray, attempts: np.ndarray, states: np.ndarray, *, calibrated: bool = True
                ) -> np.ndarray:
        """Latent scores of rows: a latent code from the row's uniforms through the decoder, then output noise."""
        n_cont, dims = len(self.continuous_), self.encoding_.dims
        u = uniforms(states, self.embedding_dim + n_cont + len(self.categorical_), attempts=attempts)
        h = standard_normals(u[:, :self.embedding_dim])
        for i, (weight, bias) in enumerate(self.decoder_):
            h = rowwise_matmul(h, weight.T) + bias
            if i < len(self.decoder_) - 1:
                np.maximum(h, 0.0, out=h)
        z = np.empty((rows.size, dims))
        cont = np.array(self.continuous_, dtype=np.int64)
        noise = standard_normals(u[:, self.embedding_dim:self.embedding_dim + n_cont])
        z[:, cont] = h[:, :n_cont] + self.sigma_ * noise
        if calibrated and n_cont:
            z[:, cont] = self.calibration_.apply(z[:, cont])
        offset = n_cont
        for k, (j, size) in enumerate(zip(self.categorical_, self.sizes_)):
            logits = h[:, offset:offset + size]
            weights = np.exp(logits - logits.max(axis=1, keepdims=True))
            cumulative = np.cumsum(weights, axis=1)
            target = u[:, self.embedding_dim + n_cont + k] * cumulative[:, -1]
            code = np.minimum((cumulative < target[:, None]).sum(axis=1), size - 1)
            z[:, j] = self.encoding_.category_normals(j)[code]
            offset += size
        return z

    def draw(self, rows: np.ndarray, attempts: np.ndarray, key: int) -> pa.Table:
        check_is_fitted(self)
        states = row_states(key, rows)
        z = self._latent(rows, attempts, states)
        offset = self.embedding_dim + len(self.continuous_) + len(self.categorical_)
        return self.encoding_.decode(rows, attempts, key, states, z, offset=offset)

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        check_is_fitted(self)
        metas, arrays = self.encoding_.to_state()
        for i, (weight, bias) in enumerate(self.decoder_):
            arrays[f"decoder.{i}.weight"], arrays[f"decoder.{i}.bias"] = weight, bias
        arrays["sigma"] = self.sigma_
        arrays["calibration"] = self.calibration_.knots
        attached, attached_arrays = self.attached_state()
        arrays.update(attached_arrays)
        state = {"codecs": metas, "continuous": self.continuous_, "categorical": self.categorical_,
                 "sizes": self.sizes_, "layers": len(self.decoder_), **attached}
        return state, arrays

    @classmethod
    def from_state(cls, params: dict[str, Any], columns: list[ColumnSpec], state: dict[str, Any],
                   arrays: dict[str, np.ndarray]) -> TVAE:
        model = cls(**params)
        model.columns_ = columns
        model.encoding_ = TableEncoding.from_state(columns, state["codecs"], arrays)
        model.codecs_ = model.encoding_.codecs
        model.continuous_, model.categorical_ = state["continuous"], state["categorical"]
        model.sizes_ = state["sizes"]
        model.decoder_ = [(arrays[f"decoder.{i}.weight"], arrays[f"decoder.{i}.bias"]) for i in range(state["layers"])]
        model.sigma_ = arrays["sigma"]
        model.calibration_ = Calibration(arrays["calibration"])
        return model.restore_attached(state, arrays)


def _mlp(nn: Any, width: int, hidden: tuple[int, ...]) -> Any:
    """Linear layers of sizes ``hidden``, each followed by ReLU."""
    layers = []
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    return nn.Sequential(*layers)
