"""One configuration object for every DEMO hyperparameter.

Every field documents the value given in the paper (Section 5.4 unless noted) and,
where the paper is silent, the value in the authors' public code. Presets:

* :meth:`DEMOConfig.paper` -- exactly the paper's Section 5.4 values (meant for a
  GPU; on a 2-core CPU it takes hours).
* :meth:`DEMOConfig` (the defaults) -- the recommended settings, chosen from the
  measurements recorded in ``docs/benchmarks.md`` and
  ``docs/robustness_choices.md``: the paper's algorithm with narrower networks
  and shorter training, so that it runs on a CPU, plus four robustness departures (an
  ascent whose reach does not depend on the gradient's scale, a diffusion model
  on D' standardised with its own statistics, the 0.9-quantile target, and a
  clamping divergence guard) and three batch-quality departures chosen in
  ``docs/batch_quality.md`` (the ascent's step in design units, edits of
  offline designs and their ascents alternately, and a surrogate-ranked pool
  of several edits per top design), each a field that ``paper()`` switches
  back.
* :meth:`DEMOConfig.fast` -- fewer epochs and sampler steps: the whole pipeline on
  an 8,000 x 60 continuous dataset with K = 256 in well under 3 minutes on 2 cores.
* :meth:`DEMOConfig.smoke` -- tiny, for tests and CI smoke runs only.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Activation = Literal["relu", "silu"]


@dataclass(frozen=True)
class DEMOConfig:
    """Hyperparameters of DEMO (Algorithm 1 of the paper).

    All fields are plain JSON-friendly values, so ``DEMOConfig(**asdict(cfg))``
    round-trips and the config can travel as Ax ``generator_kwargs``.
    """

    # ------------------------------------------------------------------ encoding
    categorical_encoding: Literal["logits", "onehot"] = "logits"
    """How categorical columns are embedded in the continuous space that the
    surrogate and the diffusion model see. ``"logits"`` is design-bench's
    convention (``V - 1`` logits per position, relative to the first category,
    from a one-hot smoothed towards uniform); the baselines in the paper (COMs
    protocol) and the authors' code use it. ``"onehot"`` uses ``V`` columns."""

    logit_smoothing: float = 0.6
    """design-bench's ``soft_interpolation``: weight of the one-hot against the
    uniform distribution before taking logs. Only used with ``"logits"``."""

    # ----------------------------------------------------------------- surrogate
    surrogate_hidden: int = 512
    """Hidden width of the surrogate MLP f_theta (paper: 2048). 512 scored as well
    as wider networks at CPU budgets (``docs/benchmarks.md``)."""

    surrogate_layers: int = 2
    """Hidden layers of the surrogate (paper: a "3-layer MLP", i.e. three linear
    layers d -> 2048 -> 2048 -> 1)."""

    surrogate_activation: Activation = "relu"
    """Activation of the surrogate (paper: ReLU)."""

    surrogate_epochs: int = 40
    """Training epochs for Eq. (5) (paper: 200). Budgets from 20 to 100 epochs
    scored within seed noise of each other (``docs/benchmarks.md``); 40 is the
    middle."""

    surrogate_batch_size: int = 256
    """Minibatch size for Eq. (5) (paper: 128; 256 feeds a 2-core CPU better)."""

    surrogate_lr: float = 1e-3
    """Adam learning rate for Eq. (5). The paper's text says 1e-1, which makes
    Adam diverge on a 2048-wide MLP; the authors' code uses 5e-5 (AdamW, cosine
    decay). The default 1e-3 is Adam's standard rate; the ``paper()`` preset
    keeps the text's 1e-1."""

    surrogate_weight_decay: float = 0.0
    """Decoupled weight decay (AdamW) for the surrogate (paper: none stated)."""

    # ----------------------------------------------------------- gradient ascent
    pseudo_target: bool = True
    """Phase 1 switch. ``True``: train the diffusion model on the synthetic dataset
    D' built by gradient ascent (Eq. 6). ``False``: train it on the offline data
    (the paper's "w/o pseudo-target" ablation, Table 3)."""

    ascent_steps: int = 100
    """Gradient-ascent iterations T in Eq. (6) (paper: 100)."""

    ascent_step_size_continuous: float = 1e-2
    """Step size eta of Eq. (6) for continuous tasks (paper: 1e-3), in the
    standardised design space; its meaning depends on ``ascent_optimizer``. The
    default 1e-2 with Adam and T = 100 lets each coordinate move at most about
    one offline standard deviation; it is the same for discrete tasks: one
    setting for every task (``docs/robustness_choices.md``)."""

    ascent_step_size_discrete: float = 1e-2
    """Step size eta of Eq. (6) for tasks with categorical columns (paper: 1e-1),
    in the standardised logit space; its meaning depends on ``ascent_optimizer``.
    With Adam, the paper's 1e-1 moves D' far beyond the data, where the
    surrogate's labels are extrapolations and the batch collapses onto a few
    designs (``docs/robustness_choices.md``)."""

    ascent_optimizer: Literal["sgd", "adam", "normalized"] = "adam"
    """Update rule of the ascent (:mod:`botorch_demo.ascent`). ``"sgd"`` is Eq.
    (6) as printed (x <- x + eta * grad): its reach depends on the scale of the
    surrogate's gradient. ``"adam"`` is what the authors' code does and what the
    paper's step sizes mean: Adam on x with learning rate eta (their comments:
    1e-1 discrete, 1e-3 continuous); the ``paper()`` preset uses it.
    ``"normalized"`` takes steps of root-mean-square length eta per coordinate
    along the gradient, whatever its scale. The default is Adam (with eta 1e-2):
    on the tasks of ``docs/robustness_choices.md`` it is the one setting that
    neither collapses the batch nor stalls, and its reach does not depend on
    the gradient's scale."""

    ascent_trust_radius: float | None = None
    """If set, every ascent step is followed by a projection onto the ball of
    root-mean-square radius ``ascent_trust_radius`` (standardised units per
    coordinate) around the starting design: a cap on how far D' may move from
    the offline data (paper: none)."""

    ascent_units: Literal["standard", "design"] = "design"
    """The units the ascent's step size counts in (paper: the networks' space).
    ``"standard"``: standardised encoded units, in which a continuous column's
    unit is one offline standard deviation but a categorical position needs a
    larger move the larger its alphabet (about 2.3 units to change a letter of
    4, 4.6 of 20, with design-bench logits). ``"design"``: design units
    (:meth:`~botorch_demo.encoding.DesignEncoder.design_units`): one offline
    standard deviation of a continuous column, one logit gap of a categorical
    position (the move that can change its letter), whatever the alphabet.
    The two are the same on continuous columns. The default is ``"design"``:
    in standardised units the ascent changed no letter of 20-letter sequences
    (D' was the offline data again), and over 3 seeds of the 17 tasks of
    ``docs/batch_quality.md`` design units (with ``edit_source="both"``)
    raised DEMO's 100th percentile on all ten tasks with categorical columns;
    ``paper()`` uses ``"standard"``."""

    ascent_decoded: bool = False
    """Ascend the surrogate's value of the decoded designs (not in the paper).
    ``False``: Eq. (6) on the continuous encoding, whose points between letters
    are never decoded as they are (the paper). ``True``: every step scores each
    design's decoded form (argmax letters, continuous values clamped to the
    bounds) and passes the gradient straight through to the continuous point; D'
    holds, per design, the decoded point with the highest prediction seen along
    the way, labelled by that prediction. The diffusion model then learns
    designs that exist, labelled by the surrogate's predictions of them (the
    values CMA-ES ranks its designs by). One seed on two sequence tasks in
    ``docs/batch_quality.md``: D' reaches further and Grad's batch improves,
    but the edits move less."""

    ascent_batch_size: int = 8192
    """Designs ascended together in one vectorised batch (memory and speed knob
    only: the result does not depend on it). 8,192 rows of 512-wide activations
    stay in the CPU's caches where 16,384 did not: the TF Bind 8 ascent ran
    about 1.5x faster on 2 cores (``docs/benchmarks.md``)."""

    # ----------------------------------------------------------------- diffusion
    diffusion_hidden: int = 512
    """Hidden width of the score network s_phi (paper: 2048; 512 scored as well
    as wider networks at CPU budgets, ``docs/benchmarks.md``)."""

    diffusion_layers: int = 3
    """Hidden layers of the score network (paper: "3-layer MLP", i.e. 2 hidden
    layers; the authors' code uses 3 hidden layers of 1024)."""

    diffusion_activation: Activation = "silu"
    """Activation of the score network (paper: ReLU; authors' code: Swish/SiLU,
    whose smoothness suits a score field)."""

    diffusion_epochs: int = 200
    """Training epochs for Eq. (8) (paper: 1000 at batch 128; 200 at batch 512 is
    ~20x fewer steps, as good at these network sizes, ``docs/benchmarks.md``)."""

    diffusion_batch_size: int = 512
    """Minibatch size for Eq. (8) (paper: 128)."""

    diffusion_lr: float = 2e-3
    """Adam learning rate for Eq. (8) (paper: not stated; authors' code: 1e-3 at
    batch 256; scaled up for batch 512)."""

    beta_min: float = 0.01
    """beta(0) of the linear VP-SDE schedule, Eq. (7). The paper follows DDOM's
    VP-SDE, whose code (and the authors') uses beta from 0.01 to 2.0; with it,
    m = 400 of M = 1000 keeps a signal coefficient of 0.92, a light edit. The
    DDPM limit (0.1 to 20) keeps only 0.44 at the same m; it was no better on
    average and gave fewer distinct candidates (``docs/benchmarks.md``), so the
    default keeps the authors' schedule."""

    beta_max: float = 2.0
    """beta(1) of the linear VP-SDE schedule (DDOM/authors: 2.0; DDPM limit: 20).
    With 2.0, x_1 is not N(0, I) given one design, but when the diffusion
    model's training data are standardised with their own statistics
    (``diffusion_standardize``, the default) the marginal of x_1 has zero mean
    and unit variance, so N(0, I) is a moment-matched prior for
    ``editing=False``. Without it, D' is standardised with the offline data's
    statistics only, and that no longer holds."""

    diffusion_standardize: bool = True
    """Standardise the diffusion model's training data (D', or the offline data)
    per coordinate with its own mean and standard deviation, and map edited
    designs into and out of that space. Without it, D' (which gradient ascent
    moves away from the offline statistics) is not zero-mean and unit-variance,
    so N(0, I) is not a moment-matched prior for ``editing=False`` (paper: not
    stated; the authors standardise the offline data only, so ``paper()`` keeps
    ``False``)."""

    diffusion_reweighting: bool = False
    """DDOM's training reweighting: the labels are binned in a
    ``reweight_bins``-bin histogram, each bin gets the weight
    ``softmax(upper edge / reweight_temperature) / bin frequency`` (edges
    min-max normalised to [0, 1]) clipped at ``reweight_clip``, and the
    per-example diffusion loss is multiplied by its bin's weight (normalised to
    mean 1), which favours high labels. DDOM samples minibatches with these
    weights instead; the expected loss is the same. Paper: not stated (DEMO's
    code is a fork of DDOM, which uses it). Off by default: it was no better on
    any task of ``docs/robustness_choices.md`` and lower on two of them."""

    reweight_bins: int = 20
    """Histogram bins of ``diffusion_reweighting`` (DDOM: 20)."""

    reweight_clip: float = 5.0
    """Upper clip of the bin weights of ``diffusion_reweighting`` (DDOM: 5)."""

    reweight_temperature: float = 0.1
    """Temperature of the softmax over normalised bin edges in
    ``diffusion_reweighting`` (ours; lower favours high labels more)."""

    condition_dropout: float = 0.15
    """Probability of dropping the label during classifier-free training (paper:
    not stated; authors' code: 0.15)."""

    # ------------------------------------------------------------------- editing
    editing: bool = True
    """Phase 2 switch. ``True``: edit the top-K existing designs (Eq. 9).
    ``False``: sample from the prior N(0, I) at t = 1 (the paper's "w/o editing"
    ablation, Table 3)."""

    edit_source: Literal["auto", "offline", "ascent", "both"] = "auto"
    """Which designs are edited. ``"offline"``: the top-K offline designs (the
    paper). ``"ascent"``: the gradient-ascent outputs of the top-K offline designs
    (the authors' later code, usually with ``pseudo_target=False``). ``"both"``:
    alternately an offline design and an ascent output, down the ranking (the
    top ``ceil(K/2)`` offline designs and the ascents of the top ``floor(K/2)``),
    a portfolio of the two (not in the paper). ``"auto"`` (the default):
    ``"both"`` when the model has D' (``pseudo_target=True``), else
    ``"offline"`` (:attr:`edits_from`), so the paper's ablations keep their
    meaning: without the pseudo-target no ascent runs and the offline designs
    are edited, and ``editing=False`` edits nothing. On the 17 tasks of
    ``docs/batch_quality.md`` (3 seeds, with ``ascent_units="design"``)
    ``"both"`` raised the 100th percentile on all ten tasks with categorical
    columns and kept it within one standard error on five of the seven
    continuous ones (higher on the other two), with medians lower by up to
    0.06 on five continuous tasks; ``paper()`` uses ``"offline"``."""

    m: int = 400
    """Noise level m of Eq. (9) (paper: 400)."""

    edit_draws: int = 4
    """Edits drawn per top design (paper: 1). With more than one, draw ``i``
    (``0..edit_draws-1``) perturbs to the noise level ``m`` raised linearly
    towards ``edit_max_m`` (:func:`~botorch_demo.editing.raised_noise_level`),
    and ``edit_selection`` chooses among the draws. Not in the paper; the
    default 4 is part of the pool described under ``edit_selection``."""

    edit_rounds: int = 6
    """Rounds of editing (paper: 1). Each further round edits every candidate
    again (with ``edit_draws`` draws; without editing, draws new samples from
    the prior instead) and ``edit_selection`` chooses among the old and the
    new designs: an iterated search whose proposals come from the diffusion
    model. Not in the paper; the default 6 is part of the pool
    described under ``edit_selection``."""

    edit_selection: Literal["slot", "pool"] = "pool"
    """How ``edit_draws`` and ``edit_rounds`` choose among edits (not in the
    paper, which keeps its one edit per top design). ``"slot"``: each top
    design keeps its own best draw, and each round keeps, per slot, the better
    of its old and new design, so every candidate descends from its own
    source. ``"pool"`` (the default): every draw of every slot (and, in a
    further round, the current candidates too) goes into one pool, and the
    ``q`` distinct designs the surrogate predicts highest are kept, at most
    ``edit_per_source`` per top design first (repeats only when the pool holds
    fewer than ``q`` distinct designs): a (mu + lambda) search whose proposals
    are the diffusion model's edits. With one draw and one round both keep
    every edit.

    The default pool (4 draws, 6 rounds, 2 per source) was chosen over three
    seeds of the 14 suite tasks and the paper's three (``docs/batch_quality.md``):
    it met the bar of the simplest optimisers on the same surrogate (p100 at
    least the better of Grad and CMA-ES minus one standard error) on 12 of 17
    tasks against 9 for one edit per design, and the median bar (at least
    Grad's) on 14 against 12; it raised the median on 14 tasks and kept every
    batch of 256 distinct (TF Bind 8: 256 against 219). Its cost: 24 edit
    passes instead of one (about 40 s more per task at ``fast``, 85-115 s on
    the 20-letter sequences), and lower p100 on the two continuous tasks whose
    surrogate ranks edits worst (griewank-60 0.370 against 0.527,
    styblinski-tang-30 0.666 against 0.711), where ranking any number of draws
    by the surrogate picks its errors. ``paper()`` uses one edit per design."""

    edit_per_source: int | None = 2
    """With ``edit_selection="pool"``: at most this many candidates descend
    from one top design before the others (``None``: no cap; not in the
    paper). The pool's best designs may all descend from a few sources where
    the surrogate predicts highest; a cap keeps the batch spread over at least
    ``q / edit_per_source`` of them (1: each top design's best distinct
    descendant). Designs over the cap fill the batch only when the capped ones
    are too few. With ``"slot"`` every candidate descends from its own top
    design, so any cap holds already. Default 2: over three seeds of six suite
    tasks it met the bar on 4 against 3 for no cap and for a cap of 1."""

    edit_max_m: int | None = None
    """Highest noise level of the ``edit_draws`` draws (``None``: every draw at
    ``m``, differing only in its noise). Must lie in ``[m, M]``."""

    M: int = 1000
    """Number of discrete noise levels M (paper: 1000); m / M is the continuous
    time the designs are perturbed to."""

    sampler: Literal["heun", "euler"] = "heun"
    """Reverse-SDE integrator. ``"heun"``: stochastic second-order Heun (the
    paper). ``"euler"``: Euler-Maruyama (what the authors' code does in
    practice)."""

    num_steps: int | None = None
    """Denoising steps from t = m / M to 0. ``None`` uses one step per noise
    level (m steps, the paper's discretisation)."""

    guidance_weight: float = 2.0
    """Classifier-free guidance weight w in Eq. (4) (paper: not stated; authors'
    code: 2.0). Allowed range: ``0 <= w <= 100`` (0 is the purely conditional
    score, larger values push harder towards the target; negative weights would
    steer away from it and are rejected)."""

    target_score: float = 1.0
    """Target score y~ that generation is conditioned on, min-max normalised over
    the diffusion model's training labels: 0.0 is the lowest label and 1.0 is the
    reference label set by ``target_quantile`` (the best label with the paper's
    ``target_quantile=1``; paper: 1, following DDOM). The label is then capped by
    ``target_cap``. Higher targets extrapolate the condition beyond the
    trained labels, so the default stays at the paper's 1.0. Allowed range:
    ``-1 <= target_score <= 10`` (the label fed to the score network is
    ``y_min + target_score * (y_max - y_min)``; far outside the trained labels
    the condition means nothing)."""

    target_quantile: float = 0.9
    """Quantile of the diffusion model's training labels that ``target_score =
    1`` maps to. 1.0 (the paper) is the single most extreme surrogate prediction
    in D', which an over-confident surrogate can push far out; conditioning
    every edit on it concentrates the batches of categorical tasks on fewer
    designs. 0.9 keeps more distinct designs; on one seed of the four tasks of
    ``docs/robustness_choices.md`` the paper's 1.0 scored a higher 100th
    percentile on three of them, so this default is to be measured again over
    seeds. A cap above the offline best (``target_cap``) lost 100th percentile
    on every task, so it is off by default."""

    target_cap: float | None = None
    """If set, the conditioning label is capped at the offline best plus
    ``target_cap`` offline standard deviations of y (paper: no cap; the authors'
    code hard-codes a target of 1.5 offline standard deviations above the
    offline mean)."""

    # ------------------------------------------------------------------ guards
    sampler_bound: float = 3.0
    """Divergence guard: a reverse-SDE state whose coordinate leaves
    ``+- sampler_bound * (max |x| + 1)`` (the largest magnitude of that
    coordinate in the diffusion model's training data, in the network's space)
    is counted as diverging, and one
    :class:`~botorch_demo.diagnostics.SamplerDivergenceWarning` is issued per
    ``generate`` call. The bound is loose: with the defaults states stay inside
    it, while settings that diverge cross it by far
    (``docs/robustness_choices.md``). Not in the paper."""

    sampler_clamp: bool = True
    """Whether the divergence guard also clamps states back into that bound at
    every step (paper: no clamping, so ``paper()`` only warns)."""

    # ----------------------------------------------------------------- refitting
    warm_start_fraction: float | None = None
    """How a refit on grown data starts (not in the paper, which fits once).
    ``None``: from freshly initialised networks. A number in (0, 1]: a fit given
    ``warm_start`` (:meth:`DEMO.fit <botorch_demo.DEMO.fit>`) starts from that
    earlier model's surrogate and score-network weights and trains this
    fraction of ``surrogate_epochs`` and ``diffusion_epochs`` (at least one
    each); the Ax generator then warm-starts each retraining from the model it
    trained before, in the same process (after a reload from storage the first
    retraining is cold, or its checkpoint is loaded)."""

    # ------------------------------------------------------------------- runtime
    network_dtype: Literal["float32", "float64"] | None = "float32"
    """dtype of the networks. ``None`` follows the inputs' dtype. Outputs always
    come back in the inputs' dtype and device; float32 training is ~2x faster and
    loses nothing measurable."""

    mixed_precision: Literal["off", "bf16", "auto"] = "off"
    """Arithmetic of the surrogate's training, the gradient ascent and the score
    network's training (paper: float32 throughout). ``"bf16"`` runs their
    matmuls in bfloat16 under ``torch.autocast`` with float32 master weights,
    inputs and gradients of the designs; D' is labelled, and designs are edited
    and predicted, in the networks' dtype. ``"auto"`` takes bfloat16 only where
    the device multiplies it natively (:func:`botorch_demo.runtime.native_bf16`:
    CUDA from compute capability 8.0, CPUs with AVX-512 BF16 or AMX), else
    float32; ``"bf16"`` on other devices warns that it is emulated, which is
    far slower than float32 (``docs/benchmarks.md``)."""

    progress: bool = True
    """Show tqdm progress bars (auto-hidden when output is not a terminal)."""

    def __post_init__(self) -> None:
        _check_field_types(self)
        for name, (low, high, low_open, high_open) in _LIMITS.items():
            value = getattr(self, name)
            if value is None:
                continue
            if (value <= low if low_open else value < low) or (
                value >= high if high_open else value > high
            ):
                raise ValueError(
                    f"DEMOConfig.{name} must {_describe_limit(low, high, low_open, high_open)}"
                    f", got {value!r}."
                )
        if not self.m <= self.M:
            raise ValueError(f"DEMOConfig.m must lie in [0, M={self.M}], got {self.m}.")
        if self.edit_max_m is not None and not self.m <= self.edit_max_m <= self.M:
            raise ValueError(
                f"DEMOConfig.edit_max_m must lie in [m={self.m}, M={self.M}] or be None, "
                f"got {self.edit_max_m}."
            )
        if not self.beta_min < self.beta_max:
            raise ValueError(
                "DEMOConfig needs 0 < beta_min < beta_max, got "
                f"beta_min={self.beta_min}, beta_max={self.beta_max}."
            )
        if self.edit_source not in ("auto", "offline") and not self.editing:
            raise ValueError(f"DEMOConfig.edit_source={self.edit_source!r} needs editing=True.")

    @property
    def edits_from(self) -> Literal["offline", "ascent", "both"]:
        """The edit source ``edit_source`` resolves to (``"auto"``: ``"both"``
        with ``pseudo_target``, else ``"offline"``)."""
        if self.edit_source != "auto":
            return self.edit_source
        return "both" if self.pseudo_target else "offline"

    # ----------------------------------------------------------------- helpers
    def replace(self, **changes: Any) -> DEMOConfig:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-friendly dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DEMOConfig:
        """Build a config from :meth:`to_dict` output, rejecting unknown keys.

        Args:
            data: ``{field: value}``.

        Returns:
            The config.

        Raises:
            TypeError: If ``data`` is not a dict with string keys.
            ValueError: For unknown fields or invalid values.
        """
        if not isinstance(data, dict):
            raise TypeError(
                f"DEMOConfig.from_dict needs a dict of fields, got {type(data).__name__}."
            )
        if not all(isinstance(k, str) for k in data):
            bad = [k for k in data if not isinstance(k, str)]
            raise TypeError(f"DEMOConfig.from_dict: field names must be strings, got {bad}.")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Unknown DEMOConfig fields: {unknown}. Known: {sorted(known)}.")
        return cls(**data)

    # ----------------------------------------------------------------- presets
    @classmethod
    def preset(cls, name: str, **overrides: Any) -> DEMOConfig:
        """The named preset (``"default"``, ``"fast"``, ``"paper"``, ``"smoke"``).

        Args:
            name: The preset's name (see :data:`PRESETS`).
            **overrides: Fields replacing the preset's values.

        Raises:
            ValueError: For an unknown name; the message lists the known ones.
        """
        if not isinstance(name, str) or name not in PRESETS:
            raise ValueError(
                f"Unknown DEMOConfig preset {name!r}; choose one of {sorted(PRESETS)}."
            )
        return PRESETS[name](**overrides)

    @classmethod
    def paper(cls, **overrides: Any) -> DEMOConfig:
        """Exactly the values stated in the paper's Section 5.4.

        Fields the paper does not state keep the authors' code values (guidance
        weight 2.0, condition dropout 0.15, diffusion lr 1e-3, DDOM's beta range
        0.01..2.0 that the paper follows). The ascent step sizes 1e-3 / 1e-1 are
        Adam learning rates on x, as in the authors' code (whose comments give
        those numbers), not plain gradient steps. None of this project's
        robustness additions are on: no trust region, the target is the best D'
        label, D' is not re-standardised, no reweighting, and the divergence
        guard warns but does not clamp. Meant for a GPU.
        """
        # "A 3-layer MLP with ReLU activation is used for both f and s, with a
        # hidden layer size of 2048."
        mlp = {
            f"{net}_{key}": value
            for net in ("surrogate", "diffusion")
            for key, value in (("hidden", 2048), ("layers", 2), ("activation", "relu"))
        }
        values: dict[str, Any] = dict(
            **mlp,
            surrogate_epochs=200,
            surrogate_batch_size=128,
            surrogate_lr=1e-1,
            ascent_steps=100,
            ascent_step_size_continuous=1e-3,
            ascent_step_size_discrete=1e-1,
            ascent_optimizer="adam",
            ascent_trust_radius=None,
            ascent_units="standard",
            ascent_decoded=False,
            pseudo_target=True,
            editing=True,
            edit_source="offline",
            edit_draws=1,
            edit_rounds=1,
            edit_selection="slot",
            edit_per_source=None,
            edit_max_m=None,
            diffusion_epochs=1000,
            diffusion_batch_size=128,
            diffusion_lr=1e-3,
            beta_min=0.01,
            beta_max=2.0,
            m=400,
            M=1000,
            sampler="heun",
            num_steps=None,
            target_score=1.0,
            target_quantile=1.0,
            target_cap=None,
            diffusion_standardize=False,
            diffusion_reweighting=False,
            sampler_clamp=False,
        )
        values.update(overrides)
        return cls(**values)

    @classmethod
    def fast(cls, **overrides: Any) -> DEMOConfig:
        """A quick CPU preset: fewer epochs and 100 Heun steps instead of m.

        On an 8,000 x 60 continuous dataset the whole pipeline with K = 256
        takes well under 3 minutes on 2 CPU cores; it kept 96-99% of the
        defaults' 100th percentile on Levy and TF Bind 8 (``docs/benchmarks.md``).
        """
        values: dict[str, Any] = dict(
            surrogate_epochs=20,
            diffusion_epochs=60,
            num_steps=100,
        )
        values.update(overrides)
        return cls(**values)

    @classmethod
    def smoke(cls, **overrides: Any) -> DEMOConfig:
        """A tiny preset for tests and CI smoke runs; it trains in seconds."""
        values: dict[str, Any] = dict(
            surrogate_hidden=64,
            surrogate_epochs=5,
            surrogate_batch_size=256,
            ascent_steps=20,
            diffusion_hidden=64,
            diffusion_layers=2,
            diffusion_epochs=5,
            diffusion_batch_size=256,
            num_steps=20,
            progress=False,
        )
        values.update(overrides)
        return cls(**values)


#: Phase-2 fields of one edit (or prior sample) per top design, kept as it
#: is: the paper's phase 2 and DDOM's sampling, without the default pool.
ONE_EDIT_PER_DESIGN: Mapping[str, Any] = types.MappingProxyType(
    {"edit_draws": 1, "edit_rounds": 1, "edit_selection": "slot"}
)

#: The part of DEMO that each field shapes. ``"encoding"`` and ``"surrogate"``
#: fields (with ``network_dtype`` and ``mixed_precision``) decide the surrogate,
#: ``"ascent"`` fields D', ``"diffusion"`` fields the score network, and
#: ``"generation"`` fields act in phase 2 only, so ``DEMO.generate`` may override
#: them without retraining. ``"runtime"`` fields decide how the work runs:
#: ``progress`` and ``ascent_batch_size`` change no number, ``network_dtype`` and
#: ``mixed_precision`` the rounding only.
FIELD_PHASES: dict[str, str] = {
    "categorical_encoding": "encoding",
    "logit_smoothing": "encoding",
    "surrogate_hidden": "surrogate",
    "surrogate_layers": "surrogate",
    "surrogate_activation": "surrogate",
    "surrogate_epochs": "surrogate",
    "surrogate_batch_size": "surrogate",
    "surrogate_lr": "surrogate",
    "surrogate_weight_decay": "surrogate",
    "warm_start_fraction": "surrogate",
    "ascent_steps": "ascent",
    "ascent_step_size_continuous": "ascent",
    "ascent_step_size_discrete": "ascent",
    "ascent_optimizer": "ascent",
    "ascent_trust_radius": "ascent",
    "ascent_units": "ascent",
    "ascent_decoded": "ascent",
    "pseudo_target": "diffusion",
    "diffusion_hidden": "diffusion",
    "diffusion_layers": "diffusion",
    "diffusion_activation": "diffusion",
    "diffusion_epochs": "diffusion",
    "diffusion_batch_size": "diffusion",
    "diffusion_lr": "diffusion",
    "beta_min": "diffusion",
    "beta_max": "diffusion",
    "diffusion_standardize": "diffusion",
    "diffusion_reweighting": "diffusion",
    "reweight_bins": "diffusion",
    "reweight_clip": "diffusion",
    "reweight_temperature": "diffusion",
    "condition_dropout": "diffusion",
    "target_quantile": "diffusion",
    "target_cap": "diffusion",
    "editing": "generation",
    "edit_source": "generation",
    "m": "generation",
    "edit_draws": "generation",
    "edit_rounds": "generation",
    "edit_selection": "generation",
    "edit_per_source": "generation",
    "edit_max_m": "generation",
    "M": "generation",
    "sampler": "generation",
    "num_steps": "generation",
    "guidance_weight": "generation",
    "target_score": "generation",
    "sampler_bound": "generation",
    "sampler_clamp": "generation",
    "ascent_batch_size": "runtime",
    "network_dtype": "runtime",
    "mixed_precision": "runtime",
    "progress": "runtime",
}


def fields_of(*phases: str) -> tuple[str, ...]:
    """The names of the ``DEMOConfig`` fields of the given phases (see :data:`FIELD_PHASES`)."""
    return tuple(name for name, phase in FIELD_PHASES.items() if phase in phases)


#: Fields that :meth:`DEMO.generate <botorch_demo.DEMO.generate>` may override per
#: call: they act in phase 2 only, so changing them needs no retraining.
GENERATION_FIELDS: tuple[str, ...] = fields_of("generation")

#: Fields that two fits must share for one's surrogate to serve the other.
SURROGATE_FIELDS: tuple[str, ...] = (
    *fields_of("encoding", "surrogate"),
    "network_dtype",
    "mixed_precision",
)

#: Fields that two fits must share for one's synthetic set D' to serve the other.
ASCENT_FIELDS: tuple[str, ...] = fields_of("ascent")

#: The named presets: ``DEMOConfig.preset(name)`` builds one.
PRESETS: dict[str, Callable[..., DEMOConfig]] = {
    "default": DEMOConfig,
    "fast": DEMOConfig.fast,
    "paper": DEMOConfig.paper,
    "smoke": DEMOConfig.smoke,
}


_INF = math.inf
#: Largest magnitude of an integer field (sizes, epochs and steps fit in int32).
MAX_INT_FIELD = 2**31 - 1
#: Limits of the numeric fields: ``(low, high, low_open, high_open)``; a field
#: that may be ``None`` is checked only when it is set. The ranges of
#: ``guidance_weight`` and ``target_score`` are choices rather than necessities:
#: far outside them the guidance or the condition means nothing.
_AT_LEAST_ONE = (1, _INF, False, True)
_NON_NEGATIVE = (0, _INF, False, True)
_POSITIVE = (0, _INF, True, True)
_LIMITS: dict[str, tuple[float, float, bool, bool]] = {
    **dict.fromkeys(
        (
            "surrogate_hidden",
            "surrogate_layers",
            "surrogate_epochs",
            "surrogate_batch_size",
            "ascent_batch_size",
            "diffusion_hidden",
            "diffusion_layers",
            "diffusion_epochs",
            "diffusion_batch_size",
            "reweight_bins",
            "edit_draws",
            "edit_rounds",
            "edit_per_source",
            "M",
            "num_steps",
        ),
        _AT_LEAST_ONE,
    ),
    **dict.fromkeys(
        (
            "ascent_steps",
            "m",
            "ascent_step_size_continuous",
            "ascent_step_size_discrete",
            "surrogate_weight_decay",
            "target_cap",
        ),
        _NON_NEGATIVE,
    ),
    **dict.fromkeys(
        (
            "surrogate_lr",
            "diffusion_lr",
            "ascent_trust_radius",
            "sampler_bound",
            "reweight_clip",
            "reweight_temperature",
            "beta_min",
        ),
        _POSITIVE,
    ),
    "target_quantile": (0, 1, True, False),
    "warm_start_fraction": (0, 1, True, False),
    "condition_dropout": (0, 1, False, True),
    "logit_smoothing": (0, 1, True, False),
    "guidance_weight": (0.0, 100.0, False, False),
    "target_score": (-1.0, 10.0, False, False),
}


def _describe_limit(low: float, high: float, low_open: bool, high_open: bool) -> str:
    """``"be >= 0"``, ``"be > 0"``, ``"lie in (0, 1]"`` ..."""
    if high == _INF:
        return f"be {'>' if low_open else '>='} {low}"
    return f"lie in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"


def _check_field_types(config: DEMOConfig) -> None:
    """Check every field against its annotation, and floats for finiteness.

    Driven by the annotations, so new fields are covered without a new rule:
    ``bool`` fields take only ``True``/``False`` (not ``"no"`` or ``None``),
    ``int`` fields take ints and integer-like values such as ``np.int64`` (not
    ``2.5`` or ``True``) of magnitude at most :data:`MAX_INT_FIELD`, ``float``
    fields take finite real numbers (not NaN, inf, strings or bools),
    ``Literal`` fields one of their values, and ``X | None`` fields also
    ``None``. Integer-like and numeric values are normalised to plain
    ``int``/``float`` so that the config stays JSON-friendly.

    Raises:
        TypeError: On a value of the wrong type.
        ValueError: On a non-finite float or a value outside a ``Literal``.
    """
    hints = typing.get_type_hints(type(config), localns={"Activation": Activation})
    for field in dataclasses.fields(config):
        hint = hints[field.name]
        value = getattr(config, field.name)
        normalised = _check_value(field.name, hint, value)
        if normalised is not value:
            object.__setattr__(config, field.name, normalised)


def _check_value(name: str, hint: Any, value: Any) -> Any:
    """Return ``value`` (normalised) if it fits ``hint``, else raise naming ``name``."""
    options = typing.get_args(hint) if _is_union(hint) else (hint,)
    allows_none = type(None) in options
    if value is None:
        if allows_none:
            return value
        raise TypeError(f"DEMOConfig.{name} must not be None; expected {_describe(hint)}.")
    options = tuple(o for o in options if o is not type(None))
    literals = [v for o in options if typing.get_origin(o) is Literal for v in typing.get_args(o)]
    kinds = [o for o in options if typing.get_origin(o) is not Literal]
    if literals and not kinds:
        if isinstance(value, str) and value in literals:
            return value
        raise ValueError(
            f"DEMOConfig.{name} must be one of {tuple(literals) + ((None,) if allows_none else ())}"
            f", got {value!r}."
        )
    if bool in kinds:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        raise TypeError(f"DEMOConfig.{name} must be True or False, got {value!r}.")
    if int in kinds:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"DEMOConfig.{name} must be an int, got {value!r}.")
        if abs(int(value)) > MAX_INT_FIELD:
            raise ValueError(
                f"DEMOConfig.{name} must lie within +-(2**31 - 1) (network sizes, epochs and "
                f"steps are int32 quantities), got {value!r}."
            )
        return int(value)
    if float in kinds:
        if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)
        ):
            raise TypeError(f"DEMOConfig.{name} must be a real number, got {value!r}.")
        if not math.isfinite(value):
            raise ValueError(f"DEMOConfig.{name} must be finite, got {value!r}.")
        return float(value)
    return value


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _describe(hint: Any) -> str:
    return getattr(hint, "__name__", str(hint))
