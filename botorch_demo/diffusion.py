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
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from botorch_demo.config import DEMOConfig
from botorch_demo.networks import mlp
from botorch_demo.sde import VPSDE
from botorch_demo.training import TrainStats, train_minibatch

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
        self.net = mlp(
            dim + 3,
            dim,
            hidden=config.diffusion_hidden,
            layers=config.diffusion_layers,
            activation=config.diffusion_activation,
            generator=generator,
            dtype=dtype,
            device=device,
        )
        kw = dict(dtype=dtype, device=device)
        # Label standardisation and range of the training labels (buffers, so
        # they are saved with the weights).
        self.register_buffer("y_mean", torch.zeros((), **kw))
        self.register_buffer("y_std", torch.ones((), **kw))
        self.register_buffer("y_min", torch.zeros((), **kw))
        self.register_buffer("y_max", torch.ones((), **kw))

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
        """Map a min-max-normalised target (1 = best training label) to net units."""
        y = self.y_min + target_score * (self.y_max - self.y_min)
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


def fit_score_network(
    X: Tensor,
    y: Tensor,
    sde: VPSDE,
    config: DEMOConfig,
    *,
    init_generator: torch.Generator,
    generator: torch.Generator,
    dtype: torch.dtype,
) -> tuple[ScoreNetwork, TrainStats]:
    """Train the conditional score model on ``(X, y)`` with Eq. (8).

    Args:
        X: ``N x D`` encoded designs (the synthetic set D' or the offline set).
        y: ``N`` labels (any scale: they are standardised here).
        sde: The forward process.
        config: Uses the ``diffusion_*`` and ``condition_dropout`` fields.
        init_generator: CPU generator for the initial weights.
        generator: Generator on ``X.device`` for minibatches, times, noise and
            label dropout.
        dtype: Network dtype.

    Returns:
        The trained :class:`ScoreNetwork` in eval mode, and its training stats.
    """
    net = ScoreNetwork(X.shape[-1], config, generator=init_generator, dtype=dtype, device=X.device)
    Xf, yf = X.to(dtype), y.to(dtype)
    std = yf.std() if yf.numel() > 1 else torch.ones((), dtype=dtype, device=X.device)
    std = torch.where(std > 1e-8, std, torch.ones_like(std))
    net.y_mean.copy_(yf.mean())
    net.y_std.copy_(std)
    net.y_min.copy_(yf.min())
    net.y_max.copy_(yf.max())
    y_std = (yf - net.y_mean) / net.y_std
    p_keep = 1.0 - config.condition_dropout

    def loss_fn(idx: Tensor) -> Tensor:
        x0 = Xf[idx]
        b = x0.shape[0]
        t = T_EPS + (1.0 - T_EPS) * torch.rand(b, generator=generator, dtype=dtype, device=X.device)
        noise = torch.randn(x0.shape, generator=generator, dtype=dtype, device=X.device)
        keep = torch.bernoulli(
            torch.full((b,), p_keep, dtype=dtype, device=X.device), generator=generator
        )
        xt = sde.perturb(x0, t[:, None], noise)
        return (net(xt, t, y_std[idx], keep) - noise).square().mean()

    stats = train_minibatch(
        loss_fn,
        net.parameters(),
        X.shape[0],
        epochs=config.diffusion_epochs,
        batch_size=config.diffusion_batch_size,
        lr=config.diffusion_lr,
        generator=generator,
        device=X.device,
        desc="DEMO diffusion (Eq. 8)",
        progress=config.progress,
    )
    net.eval()
    net.requires_grad_(False)
    return net, stats
