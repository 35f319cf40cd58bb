"""Phase 1c: the classifier-free conditional score model (Eqs. 4 and 8).

The network predicts the noise ``eps`` that produced ``x_t`` from ``x_0``; the
score is ``s(x_t, t, y) = -eps_hat / sigma(t)``. Minimising
``E ||eps_hat - eps||^2`` over ``t ~ U(t_eps, 1)`` is denoising score matching,
Eq. (8), with the weighting ``lambda(t) = sigma(t)^2``.

Its input is ``[x_t, t, y * keep, keep]``: ``t`` and the (standardised) label are
fed raw, as in the authors' code. During training the label is dropped with
probability ``condition_dropout`` (classifier-free training). The authors set a
dropped label to 0; we also feed the binary ``keep`` flag, so that a real label of
0 and "no label" cannot be confused. The guided prediction is Eq. (4):
``(1 + w) s(x, t, y) - w s(x, t)``.

With ``diffusion_standardize`` the network works in its own space: its training
designs standardised with their own per-coordinate mean and standard deviation
(:meth:`ScoreNetwork.to_net` / :meth:`ScoreNetwork.from_net`), so that N(0, I)
matches the first two moments of the data it learned.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from botorch_demo.config import DEMOConfig
from botorch_demo.networks import configured_mlp
from botorch_demo.sde import VPSDE
from botorch_demo.training import TrainStats, train_network

T_EPS = 1e-3
"""Smallest time used in training and sampling; the score is singular at 0."""


class ScoreNetwork(nn.Module):
    """Conditional noise predictor ``eps_phi(x_t, t, y)`` with a label switch.

    Args:
        dim: Width D of the encoded designs.
        config: Uses the ``diffusion_*`` fields.
        generator: CPU generator for the initial weights.
        dtype: Parameter dtype.
        device: Parameter device.
    """

    def __init__(
        self,
        dim: int,
        config: DEMOConfig,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        self.net = configured_mlp(config, "diffusion", dim + 3, dim, generator, dtype, device)
        kw = dict(dtype=dtype, device=device)
        # Label standardisation and range of the training labels (buffers, so
        # they are saved with the weights).
        self.register_buffer("y_mean", torch.zeros((), **kw))
        self.register_buffer("y_std", torch.ones((), **kw))
        self.register_buffer("y_min", torch.zeros((), **kw))
        self.register_buffer("y_max", torch.ones((), **kw))
        # The label that target_score = 1 maps to, and the cap on the target label
        # (both in the same units as y_min / y_max).
        self.register_buffer("y_ref", torch.ones((), **kw))
        self.register_buffer("y_cap", torch.full((), float("inf"), **kw))
        # Standardisation of the designs (identity when diffusion_standardize is
        # off) and the largest magnitude per coordinate of the training designs
        # in the network's space, for the divergence guard.
        self.register_buffer("x_mean", torch.zeros(dim, **kw))
        self.register_buffer("x_std", torch.ones(dim, **kw))
        self.register_buffer("x_absmax", torch.ones(dim, **kw))

    def to_net(self, x: Tensor) -> Tensor:
        """Map encoded designs into the network's (standardised) space."""
        return (x - self.x_mean.to(x)) / self.x_std.to(x)

    def from_net(self, x: Tensor) -> Tensor:
        """Map states of the network's space back to encoded designs."""
        return x * self.x_std.to(x) + self.x_mean.to(x)

    def state_bound(self, factor: float) -> Tensor:
        """Per-coordinate divergence bound ``factor * (max |x| + 1)``, network space."""
        return factor * (self.x_absmax + 1.0)

    def forward(self, x: Tensor, t: Tensor, y: Tensor, keep: Tensor) -> Tensor:
        """Predict the noise.

        Args:
            x: ``n x D`` noisy designs.
            t: ``n`` times.
            y: ``n`` standardised labels.
            keep: ``n`` flags, 1 where the label is used and 0 where dropped.

        Returns:
            ``n x D`` noise predictions.
        """
        feats = torch.cat([x, t[:, None], (y * keep)[:, None], keep[:, None]], dim=-1)
        return self.net(feats)

    def label_from_target(self, target_score: float) -> float:
        """Map a normalised target to the network's label units.

        ``0`` is the lowest training label and ``1`` the reference label ``y_ref``
        (the ``target_quantile`` quantile of the training labels; their max in
        the paper); the result is then capped at ``y_cap``.
        """
        y = self.y_min + target_score * (self.y_ref - self.y_min)
        y = torch.minimum(y, self.y_cap)
        return float((y - self.y_mean) / self.y_std)

    def guided_eps(self, x: Tensor, t: Tensor, y: float, w: float) -> Tensor:
        """Classifier-free guided noise prediction, Eq. (4).

        ``(1 + w) eps(x, t, y) - w eps(x, t)``; guiding ``eps`` is the same as
        guiding the score since ``s = -eps / sigma(t)`` is linear in ``eps``.

        Args:
            x: ``n x D`` noisy designs.
            t: Scalar or ``n`` times.
            y: Target label in network units (:meth:`label_from_target`).
            w: Guidance weight.

        Returns:
            ``n x D`` guided noise predictions.
        """
        n = x.shape[0]
        t = t.expand(n) if t.dim() == 0 else t
        if w == 0.0:
            ones = torch.ones(n, dtype=x.dtype, device=x.device)
            return self(x, t, ones * y, ones)
        keep = torch.cat(
            [
                torch.ones(n, dtype=x.dtype, device=x.device),
                torch.zeros(n, dtype=x.dtype, device=x.device),
            ]
        )
        labels = keep * y
        eps = self(torch.cat([x, x]), torch.cat([t, t]), labels, keep)
        cond, uncond = eps[:n], eps[n:]
        return (1.0 + w) * cond - w * uncond


def reweighting_weights(
    y: Tensor, bins: int = 20, clip: float = 5.0, temperature: float = 0.1
) -> Tensor:
    """Per-example training weights that favour high labels (DDOM's reweighting).

    The labels are binned into ``bins`` equal-width bins over their range. A
    target distribution over bins puts mass ``softmax(u_b / temperature)`` on bin
    ``b``, with ``u_b`` its upper edge min-max normalised to [0, 1]; each example
    is weighted by its bin's target mass divided by the bin's empirical
    frequency, clipped at ``clip``, so that reweighted bins follow the target
    distribution except where clipping binds (sparse top bins).

    Args:
        y: ``N`` labels.
        bins: Number of histogram bins.
        clip: Upper clip of the per-bin weights.
        temperature: Softmax temperature over normalised edges.

    Returns:
        ``N`` non-negative weights with mean 1, in ``y``'s dtype and device.
    """
    lo, hi = y.min(), y.max()
    if not hi > lo:
        return torch.ones_like(y)
    u = (y - lo) / (hi - lo)
    idx = (u * bins).floor().clamp(0, bins - 1).long()
    freq = torch.bincount(idx, minlength=bins).to(y) / y.numel()
    # Shifted so that the top edge is 0, in float64: a tiny temperature puts all
    # mass on the top bin instead of overflowing into NaN.
    edges = torch.arange(1, bins + 1, dtype=torch.float64, device=y.device) / bins
    target = torch.softmax((edges - edges[-1]) / temperature, dim=0).to(y)
    per_bin = torch.where(freq > 0, target / freq.clamp_min(1e-12), torch.zeros_like(freq))
    w = per_bin.clamp(max=clip)[idx]
    return w / w.mean()


def fit_score_network(
    net: ScoreNetwork,
    X: Tensor,
    y: Tensor,
    sde: VPSDE,
    config: DEMOConfig,
    *,
    generator: torch.Generator,
    label_cap: float | None = None,
    autocast_dtype: torch.dtype | None = None,
) -> TrainStats:
    """Train the conditional score model on ``(X, y)`` with Eq. (8).

    Args:
        net: The score network; its label and design statistics are set from
            the data, it is trained in place and frozen in eval mode.
        X: ``N x D`` encoded designs (the synthetic set D' or the offline set).
        y: ``N`` labels (any scale: they are standardised here).
        sde: The forward process.
        config: Uses the ``diffusion_*``, ``reweight_*``, ``condition_dropout``
            and ``target_quantile`` fields.
        generator: Generator on ``X.device`` for minibatches, times, noise and
            label dropout.
        label_cap: Cap on the conditioning label, in the units of ``y``
            (``None``: no cap).
        autocast_dtype: Mixed-precision dtype of the forward passes, or ``None``
            (``DEMOConfig.mixed_precision``); the loss is taken in the
            parameters' dtype.

    Returns:
        The training stats.
    """
    dtype = next(net.parameters()).dtype
    Xf, yf = X.to(dtype), y.to(dtype)
    _set_statistics(net, Xf, yf, config, label_cap)
    Xf = net.to_net(Xf)
    y_std = (yf - net.y_mean) / net.y_std
    p_keep = 1.0 - config.condition_dropout
    weights = (
        reweighting_weights(
            yf, config.reweight_bins, config.reweight_clip, config.reweight_temperature
        )
        if config.diffusion_reweighting
        else None
    )

    def loss_fn(idx: Tensor) -> Tensor:
        x0 = Xf[idx]
        b = x0.shape[0]
        t = T_EPS + (1.0 - T_EPS) * torch.rand(b, generator=generator, dtype=dtype, device=X.device)
        noise = torch.randn(x0.shape, generator=generator, dtype=dtype, device=X.device)
        keep = torch.bernoulli(
            torch.full((b,), p_keep, dtype=dtype, device=X.device), generator=generator
        )
        xt = sde.perturb(x0, t[:, None], noise)
        err = (net(xt, t, y_std[idx], keep).to(dtype) - noise).square().mean(dim=-1)
        return err.mean() if weights is None else (weights[idx] * err).mean()

    return train_network(
        net,
        loss_fn,
        X.shape[0],
        config,
        "diffusion",
        generator=generator,
        device=X.device,
        autocast_dtype=autocast_dtype,
    )


def _set_statistics(
    net: ScoreNetwork, X: Tensor, y: Tensor, config: DEMOConfig, label_cap: float | None
) -> None:
    """Set the network's design standardisation, guard range and label buffers."""
    if config.diffusion_standardize and X.shape[0] > 1:
        x_std = X.std(dim=0)
        net.x_mean.copy_(X.mean(dim=0))
        net.x_std.copy_(torch.where(x_std > 1e-8, x_std, torch.ones_like(x_std)))
    net.x_absmax.copy_(net.to_net(X).abs().amax(dim=0))
    net.y_ref.copy_(torch.quantile(y, config.target_quantile))
    if label_cap is not None:
        net.y_cap.fill_(label_cap)
    std = y.std() if y.numel() > 1 else torch.ones((), dtype=y.dtype, device=y.device)
    std = torch.where(std > 1e-8, std, torch.ones_like(std))
    net.y_mean.copy_(y.mean())
    net.y_std.copy_(std)
    net.y_min.copy_(y.min())
    net.y_max.copy_(y.max())
