"""Exact GP posteriors over many categorical designs, the kernel as one GEMM.

BoTorch's ``CategoricalKernel`` compares every pair of designs column by column
(``x1.unsqueeze(-2) != x2.unsqueeze(-3)``), a ``N x n x d`` boolean tensor.
Scoring every design of an enumerated space (4^10 on TF Bind 10) against a
500-point training set that way took 81 of the 121 s of a Kriging-believer
prescreen on two cores, and the batched ``q = 1`` evaluation of BoTorch's
analytic LogEI another 20 s copying the training inputs per candidate. The
kernel is a weighted count of matching columns,

    ``sum_j [x_j != z_j] / l_j = sum_j 1 / l_j - sum_j [x_j = z_j] / l_j``,

and the matching term is a matrix product of one-hot codes weighted by
``1 / l_j`` (width: the number of distinct values over all columns), so
:class:`CategoricalPosterior` computes the same posterior mean and variance as
``model.posterior(X)`` with a GEMM for the kernel and one Cholesky factor of the
training covariance shared by every chunk of designs.

:func:`categorical_posterior` recognises the models this holds for (a
single-output exact GP with a Gaussian likelihood and a (scaled)
``CategoricalKernel`` over every column: what Ax builds on a space of unordered
choices) and returns None for any other, so callers fall back to BoTorch.
"""

from __future__ import annotations

import torch
from botorch.models import SingleTaskGP
from botorch.models.kernels.categorical import CategoricalKernel
from botorch.models.transforms.outcome import Standardize
from gpytorch.kernels import ScaleKernel
from gpytorch.likelihoods import FixedNoiseGaussianLikelihood, GaussianLikelihood
from gpytorch.likelihoods.noise_models import HomoskedasticNoise
from linear_operator.utils.cholesky import psd_safe_cholesky
from torch import Tensor

#: Designs per chunk of the posterior (a ``chunk x n`` kernel block).
_CHUNK = 4096

#: Most columns for which the kernel is looked up by match pattern (a table of
#: ``2^d`` kernel values) instead of exponentiated per pair.
_MAX_TABLE_COLUMNS = 20


def match_codes(X: Tensor, values: list[Tensor], weights: Tensor) -> Tensor:
    """One-hot codes of ``X`` over each column's ``values``, scaled by the column's
    weight: ``match_codes(X, values, w) @ match_codes(Z, values, ones).T`` is
    ``sum_j w_j [x_j = z_j]`` for every pair of rows.

    Args:
        X: ``N x d`` designs.
        values: Per column, the distinct values that are coded; a value of
            ``X`` outside them codes as zeros (it matches nothing coded).
        weights: ``d`` per-column weights (``1 / l_j`` for the kernel).

    Returns:
        ``N x sum_j len(values[j])`` codes, ``X``'s dtype.
    """
    blocks = [(X[:, j : j + 1] == v).to(X.dtype) * weights[j] for j, v in enumerate(values)]
    return torch.cat(blocks, dim=-1)


class CategoricalPosterior:
    """Posterior mean and variance of a categorical-kernel exact GP.

    Built once from a model in eval mode (see :func:`categorical_posterior`); each
    call scores designs in chunks of ``_CHUNK`` with the kernel as one matrix
    product against the training inputs. With at most ``_MAX_TABLE_COLUMNS``
    columns the product's codes are weighted by ``2^j`` instead of ``1 / l_j``,
    so it yields each pair's pattern of matching columns as an exact integer,
    and the kernel is read from a table of its ``2^d`` values: a gather instead
    of an ``exp`` per pair, whose cost also grows where a short lengthscale
    drives the exponent far below zero.

    Args:
        model: A single-output ``SingleTaskGP`` (or ``MixedSingleTaskGP``) whose
            ``covar_module`` is a ``CategoricalKernel``, optionally inside a
            ``ScaleKernel``, with a ``GaussianLikelihood`` (homoskedastic) or
            ``FixedNoiseGaussianLikelihood``, and no outcome transform or
            ``Standardize``.
    """

    def __init__(self, model: SingleTaskGP) -> None:
        model.eval()
        kernel = model.covar_module
        self._outputscale = 1.0
        if isinstance(kernel, ScaleKernel):
            self._outputscale = kernel.outputscale.detach().reshape(())
            kernel = kernel.base_kernel
        self._model = model
        with torch.no_grad():
            train_X = model.train_inputs[0]
            d = train_X.shape[-1]
            inverse = 1.0 / kernel.lengthscale.detach().reshape(-1).expand(d)
            self._weights = inverse / d
            self._total = float(self._weights.sum())
            self._values = [torch.unique(train_X[:, j]) for j in range(d)]
            self._train_codes = match_codes(train_X, self._values, torch.ones_like(inverse))
            self._table = None
            if d <= _MAX_TABLE_COLUMNS:
                self._powers = torch.pow(2.0, torch.arange(d, dtype=inverse.dtype))
                self._powers = self._powers.to(inverse.device)
                # exponent[b] = sum of the weights of the columns whose bit is set in b.
                exponent = inverse.new_zeros(1)
                for weight in self._weights:
                    exponent = torch.cat([exponent, exponent + weight])
                self._table = exponent.sub_(self._total).exp_().mul_(self._outputscale)
            covariance = self._kernel(self._codes(train_X))
            noise = model.likelihood.noise.detach().reshape(-1).expand(train_X.shape[0])
            covariance = covariance + torch.diag(noise)
            factor = psd_safe_cholesky(covariance)  # jitter on failure, as GPyTorch's
            residual = model.train_targets - model.mean_module(train_X)
            self._alpha = torch.cholesky_solve(residual.unsqueeze(-1), factor).squeeze(-1)
            identity = torch.eye(factor.shape[0], dtype=factor.dtype, device=factor.device)
            self._inverse_factor = torch.linalg.solve_triangular(factor, identity, upper=False)

    def _codes(self, X: Tensor) -> Tensor:
        weights = self._weights if self._table is None else self._powers
        return match_codes(X, self._values, weights)

    def _kernel(self, codes: Tensor) -> Tensor:
        """``k(X, train_X)`` from ``X``'s codes (see :meth:`_codes`)."""
        matches = codes @ self._train_codes.T
        if self._table is None:
            return matches.sub_(self._total).exp_().mul_(self._outputscale)
        patterns = matches.to(torch.long).reshape(-1)
        return self._table.index_select(0, patterns).reshape(matches.shape)

    def __call__(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior mean and variance of the latent function at each design.

        Args:
            X: ``N x d`` designs in the model's raw input space.

        Returns:
            ``N`` means and ``N`` variances, in the units of the model's
            outputs (after its outcome transform).
        """
        return self._moments(X, variance=True)

    def mean(self, X: Tensor) -> Tensor:
        """Posterior mean at each design (as :meth:`__call__`, without the
        variance's ``N x n x n`` product)."""
        return self._moments(X, variance=False)[0]

    def variance(self, X: Tensor) -> Tensor:
        """Posterior variance at each design (as :meth:`__call__`)."""
        return self._moments(X, variance=True)[1]

    @property
    def prior_variance(self) -> Tensor:
        """The prior variance ``k(x, x)``, the same at every design and an upper
        bound of every posterior variance, in the model's output units."""
        scale = torch.as_tensor(
            self._outputscale, dtype=self._alpha.dtype, device=self._alpha.device
        )
        return self._untransform(None, scale)[1]

    def _moments(self, X: Tensor, variance: bool) -> tuple[Tensor, Tensor | None]:
        means, variances = [], []
        with torch.no_grad():
            for chunk in X.split(_CHUNK):
                Xt = self._model.transform_inputs(chunk)
                cross = self._kernel(self._codes(Xt))
                means.append(self._model.mean_module(Xt) + cross @ self._alpha)
                if variance:
                    whitened = cross @ self._inverse_factor.T
                    variances.append(self._outputscale - whitened.square_().sum(dim=-1))
        if not means:
            empty = X.new_zeros(0)
            return empty, empty if variance else None
        return self._untransform(torch.cat(means), torch.cat(variances) if variance else None)

    def _untransform(
        self, mean: Tensor | None, variance: Tensor | None
    ) -> tuple[Tensor | None, Tensor | None]:
        transform = getattr(self._model, "outcome_transform", None)
        if isinstance(transform, Standardize):
            scale = transform.stdvs.reshape(())
            if mean is not None:
                mean = transform.means.reshape(()) + scale * mean
            if variance is not None:
                variance = scale.square() * variance
        return mean, variance


def categorical_posterior(model: object) -> CategoricalPosterior | None:
    """A :class:`CategoricalPosterior` for ``model``, or None where it does not
    apply (another kernel, likelihood, outcome transform, several outputs or a
    batched model), in which case ``model.posterior`` is the way."""
    if not isinstance(model, SingleTaskGP) or model.num_outputs != 1:
        return None
    if len(model.batch_shape) > 0 or model.train_inputs[0].dim() != 2:
        return None
    kernel = model.covar_module
    if isinstance(kernel, ScaleKernel):
        kernel = kernel.base_kernel
    if type(kernel) is not CategoricalKernel or kernel.active_dims is not None:
        return None
    likelihood = model.likelihood
    homoskedastic = type(likelihood) is GaussianLikelihood and isinstance(
        likelihood.noise_covar, HomoskedasticNoise
    )
    if not (homoskedastic or type(likelihood) is FixedNoiseGaussianLikelihood):
        return None
    transform = getattr(model, "outcome_transform", None)
    if transform is not None and type(transform) is not Standardize:
        return None
    return CategoricalPosterior(model)
