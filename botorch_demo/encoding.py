"""Map designs between the user's raw space and the space the networks see.

Continuous columns are scaled to [0, 1] with the given bounds (BoTorch's
``normalize``). Categorical columns (integers ``0..V-1``) become either
design-bench's logits or one-hot blocks. The result is then standardised per
feature with the offline data's mean and standard deviation, as the authors' code
does, so that the VP-SDE sees data of roughly unit scale.

Why logits by default: the paper's discrete-task protocol (COMs / design-bench)
optimises in design-bench's logit space, its step size 1e-1 for discrete tasks
refers to that space, and ``V - 1`` columns instead of ``V`` remove one redundant
degree of freedom per position. One-hot is offered for comparison.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class DesignEncoder(nn.Module):
    """Invertible map from raw designs to a standardised continuous space.

    Buffers (bounds, statistics, the categorical layout) are part of the
    ``state_dict``, so a saved model decodes exactly as it encoded.

    Args:
        bounds: ``2 x d`` tensor of lower and upper bounds of the raw space.
        categorical_features: ``{column: n_categories}``; those columns hold
            integers ``0..n-1``.
        encoding: ``"logits"`` (design-bench) or ``"onehot"``.
        smoothing: design-bench's ``soft_interpolation`` for ``"logits"``.
    """

    def __init__(
        self,
        bounds: Tensor,
        categorical_features: dict[int, int] | None = None,
        encoding: str = "logits",
        smoothing: float = 0.6,
    ) -> None:
        super().__init__()
        d = bounds.shape[-1]
        cats = dict(sorted((categorical_features or {}).items()))
        self.encoding = encoding
        self.smoothing = smoothing
        self.categorical_features = cats
        cont = [i for i in range(d) if i not in cats]
        self.register_buffer("bounds", bounds.detach().clone())
        self.register_buffer("cont_idx", torch.tensor(cont, dtype=torch.long, device=bounds.device))
        self.register_buffer(
            "cat_idx", torch.tensor(list(cats), dtype=torch.long, device=bounds.device)
        )
        kw = dict(dtype=bounds.dtype, device=bounds.device)
        self.register_buffer("mean", torch.zeros(self.encoded_dim, **kw))
        self.register_buffer("std", torch.ones(self.encoded_dim, **kw))

    # ------------------------------------------------------------------ layout

    @property
    def n_categorical(self) -> int:
        """Number of categorical columns."""
        return len(self.categorical_features)

    @property
    def encoded_dim(self) -> int:
        """Width of the encoded representation."""
        offset = 1 if self.encoding == "logits" else 0
        return len(self.cont_idx) + sum(v - offset for v in self.categorical_features.values())

    @property
    def is_discrete(self) -> bool:
        """Whether any column is categorical (selects the discrete ascent step)."""
        return self.n_categorical > 0

    def design_units(self) -> Tensor:
        """Per encoded coordinate, one design unit in standardised units.

        A design unit of a continuous column is one offline standard deviation;
        of a categorical column, the distance in its embedding between the
        chosen category and the others (the logit gap ``log(1 + s V / (1 - s))``
        for design-bench logits with smoothing ``s``; 1 for one-hot): moving a
        position's coordinates by about one unit can change its argmax, however
        large the alphabet.

        Returns:
            ``D`` positive scales in the encoder's dtype and device.
        """
        units = torch.ones_like(self.std)
        start = len(self.cont_idx)
        for n_cat in self.categorical_features.values():
            if self.encoding == "onehot":
                width, gap = n_cat, 1.0
            else:
                s = self.smoothing
                width, gap = n_cat - 1, math.log1p(s * n_cat / (1.0 - s)) if s < 1 else 1.0
            units[start : start + width] = gap / self.std[start : start + width]
            start += width
        return units

    # --------------------------------------------------------------- encoding
    def _categorical_to_features(self, tokens: Tensor) -> Tensor:
        """Embed integer tokens (n x c) as logits or one-hot blocks (n x sum)."""
        blocks = []
        for j, n_cat in enumerate(self.categorical_features.values()):
            onehot = torch.nn.functional.one_hot(tokens[:, j], n_cat).to(self.bounds.dtype)
            if self.encoding == "onehot":
                blocks.append(onehot)
                continue
            probs = self.smoothing * onehot + (1.0 - self.smoothing) / n_cat
            logp = probs.log()
            blocks.append(logp[:, 1:] - logp[:, :1])
        return torch.cat(blocks, dim=-1)

    def _features_to_categorical(self, feats: Tensor) -> Tensor:
        """Decode logit or one-hot blocks (n x sum) back to integer tokens."""
        out = []
        start = 0
        for n_cat in self.categorical_features.values():
            if self.encoding == "onehot":
                block = feats[:, start : start + n_cat]
                start += n_cat
            else:
                block = feats[:, start : start + n_cat - 1]
                block = torch.cat([torch.zeros_like(block[:, :1]), block], dim=-1)
                start += n_cat - 1
            out.append(block.argmax(dim=-1))
        return torch.stack(out, dim=-1)

    def _embed(self, X: Tensor) -> Tensor:
        """Raw designs -> unstandardised features."""
        lower, upper = self.bounds[0], self.bounds[1]
        parts = []
        if len(self.cont_idx):
            xc = X[:, self.cont_idx]
            lc, uc = lower[self.cont_idx], upper[self.cont_idx]
            parts.append((xc - lc) / (uc - lc))
        if self.n_categorical:
            tokens = X[:, self.cat_idx].round().long()
            parts.append(self._categorical_to_features(tokens))
        return torch.cat(parts, dim=-1)

    def fit(self, X: Tensor) -> DesignEncoder:
        """Set the standardisation statistics from the offline designs ``X``."""
        Z = self._embed(X.to(self.bounds))
        self.mean.copy_(Z.mean(dim=0))
        std = Z.std(dim=0) if Z.shape[0] > 1 else torch.ones_like(self.std)
        self.std.copy_(torch.where(std > 1e-8, std, torch.ones_like(std)))
        return self

    def encode(self, X: Tensor) -> Tensor:
        """Map raw designs (n x d) to the standardised space (n x D).

        Args:
            X: ``n x d`` raw designs; categorical columns hold integers.

        Returns:
            ``n x D`` standardised features in the encoder's dtype.
        """
        return (self._embed(X.to(self.bounds)) - self.mean) / self.std

    def decode(self, Z: Tensor) -> Tensor:
        """Map standardised features (n x D) back to valid raw designs (n x d).

        Continuous columns are clamped into the bounds; categorical columns are
        decoded by argmax and hold valid integers.

        Args:
            Z: ``n x D`` features.

        Returns:
            ``n x d`` raw designs inside the bounds, in the encoder's dtype.
        """
        F = Z.to(self.bounds) * self.std + self.mean
        d = self.bounds.shape[-1]
        X = torch.empty(F.shape[0], d, dtype=self.bounds.dtype, device=self.bounds.device)
        n_cont = len(self.cont_idx)
        if n_cont:
            lower, upper = self.bounds[0, self.cont_idx], self.bounds[1, self.cont_idx]
            X[:, self.cont_idx] = lower + F[:, :n_cont].clamp(0.0, 1.0) * (upper - lower)
        if self.n_categorical:
            X[:, self.cat_idx] = self._features_to_categorical(F[:, n_cont:]).to(X)
        return X
