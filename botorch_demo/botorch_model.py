"""DEMO's fitted surrogate as a BoTorch ``Model``.

:func:`surrogate_model` wraps the surrogate MLP ``f_theta`` of a fitted
:class:`~botorch_demo.DEMO` in a BoTorch ``DeterministicModel``: its posterior
has the surrogate's prediction as mean and zero variance. It can score pools of
designs with analytic acquisition functions such as ``PosteriorMean`` (e.g. in
``optimize_acqf_discrete`` over DEMO's candidates), or act as a deterministic
objective next to a GP. It provides no gradients (DEMO predicts under
``torch.no_grad`` and validates categorical codes), so use it with discrete
optimisers, not with ``optimize_acqf``'s gradient-based search.
"""

from __future__ import annotations

from botorch.models.deterministic import DeterministicModel
from torch import Tensor

from botorch_demo.model import DEMO


class DEMOSurrogateModel(DeterministicModel):
    """A deterministic BoTorch model: DEMO's surrogate prediction, zero noise.

    Args:
        demo: A fitted DEMO model. Inputs are raw designs (categorical columns
            as integer codes), outputs are in the units of ``train_Y``.
    """

    def __init__(self, demo: DEMO) -> None:
        super().__init__()
        if not demo.is_fitted:
            raise RuntimeError("DEMOSurrogateModel needs a fitted DEMO model.")
        self.demo = demo
        self._num_outputs = 1

    def forward(self, X: Tensor) -> Tensor:
        """Predictions of shape ``batch x q x 1`` for ``batch x q x d`` designs."""
        d = X.shape[-1]
        flat = self.demo.predict(X.reshape(-1, d))
        return flat.reshape(*X.shape[:-1], 1)


def surrogate_model(demo: DEMO) -> DEMOSurrogateModel:
    """Returns DEMO's fitted surrogate as a deterministic BoTorch ``Model``."""
    return DEMOSurrogateModel(demo)
