"""Phase 2 of Algorithm 1: proposing a batch from the fitted parts.

Edits of the top-q designs (Eq. 9, with the guided score of Eq. 4), or samples
from the prior without editing; the refill of slots whose candidate is excluded
or repeated (not in the paper); and the diagnostics of the batch. Every function
reads a fitted model (:class:`FittedModel`) and changes nothing in it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor

from botorch_demo.config import DEMOConfig
from botorch_demo.diagnostics import (
    COLLAPSE_FRACTION,
    CollapseWarning,
    GenerationDiagnostics,
    SamplerDivergenceWarning,
    SamplerGuard,
    collapse_message,
    divergence_message,
)
from botorch_demo.diffusion import ScoreNetwork
from botorch_demo.editing import (
    Guidance,
    edit_designs,
    raised_noise_level,
    sample_from_prior,
)
from botorch_demo.encoding import DesignEncoder
from botorch_demo.exceptions import CandidateShortfallError
from botorch_demo.neighbours import best_new_mutants, best_unseen_designs
from botorch_demo.reach import measure_reach
from botorch_demo.rows import n_distinct, novel_rows, ranked_distinct_rows
from botorch_demo.sde import VPSDE
from botorch_demo.validation import require_finite

Feasible = Callable[[Tensor], Tensor]
"""Makes ``n x d`` raw designs feasible (see :func:`~botorch_demo.constraints.feasibility_map`)."""


class FittedModel(Protocol):
    """What phase 2 reads of a fitted DEMO model."""

    sde: VPSDE
    encoder: DesignEncoder
    score_net: ScoreNetwork
    train_X: Tensor
    ranked_rows: Tensor
    synthetic_X: Tensor | None

    def predict(self, X: Tensor) -> Tensor:
        """Surrogate predictions ``n x 1`` in raw units."""
        ...


@dataclass(frozen=True)
class Proposal:
    """One call's settings, validated by the caller.

    Attributes:
        config: The configuration with the call's phase-2 overrides.
        q: Number of candidates.
        generator: Seeded generator on the model's device.
        feasible: Constraint map applied to every decoded batch, or ``None``.
        exclude: Raw designs no candidate may equal, or ``None``.
        unique: Whether candidates must be distinct.
        max_rounds: Refill rounds before giving up.
        sources: ``q x d`` raw designs to edit instead of the top-q training
            designs, or ``None``.
    """

    config: DEMOConfig
    q: int
    generator: torch.Generator
    feasible: Feasible | None = None
    exclude: Tensor | None = None
    unique: bool = False
    max_rounds: int = 20
    sources: Tensor | None = None


def propose_batch(
    model: FittedModel, proposal: Proposal
) -> tuple[Tensor, Tensor, GenerationDiagnostics]:
    """Propose ``q`` candidates: edits (or prior samples), refilled if asked to.

    Args:
        model: The fitted model.
        proposal: The call's settings.

    Returns:
        ``(candidates, predicted, diagnostics)``: ``q x d`` raw designs in the
        training data's dtype and device, their ``q`` surrogate predictions,
        and what the call did.

    Raises:
        DivergenceError: If the reverse SDE produced NaN or infinite states.
        CandidateShortfallError: If ``exclude``/``unique`` cannot be met.
    """
    cfg = proposal.config
    guard = SamplerGuard(model.score_net.state_bound(cfg.sampler_bound), cfg.sampler_clamp)
    sources = None
    if cfg.editing:
        given = proposal.sources
        sources = (
            edit_sources(model, proposal.q, cfg) if given is None else model.encoder.encode(given)
        )
    cands, origin = propose(
        model, cfg, proposal.q, sources, proposal.generator, proposal.feasible, guard
    )
    for _ in range(cfg.edit_rounds - 1):
        cands, origin = refine(
            model, cfg, cands, origin, proposal.generator, proposal.feasible, guard
        )
    if sources is not None:
        sources = sources[origin]
    n_raw = n_distinct(cands)
    if proposal.exclude is not None or proposal.unique:
        cands = fill_novel(model, proposal, cands, sources, guard)
    predicted = model.predict(cands).squeeze(-1)
    diagnostics = diagnose(model, cands, predicted, sources, n_raw, guard)
    return cands, predicted, diagnostics


def refine(
    model: FittedModel,
    cfg: DEMOConfig,
    cands: Tensor,
    origin: Tensor,
    generator: torch.Generator,
    feasible: Feasible | None = None,
    guard: SamplerGuard | None = None,
) -> tuple[Tensor, Tensor]:
    """One more round: edit every candidate again and select.

    With ``edit_selection="slot"`` each slot keeps whichever of its old and new
    design the surrogate predicts higher; with ``"pool"`` the old candidates and
    all new draws form one pool, of which the ``n`` best distinct designs are
    kept (:func:`select_from_pool`). Without editing (``editing=False``) the
    new draws are fresh samples from the prior, not edits of the candidates, so
    the "w/o editing" ablation never edits.

    Args:
        model: The fitted model.
        cfg: The call's configuration.
        cands: ``n x d`` current candidates (raw designs).
        origin: ``n`` indices of the sources the candidates descend from.
        generator: Seeded generator.
        feasible: Constraint map, or ``None``.
        guard: The sampler's divergence guard.

    Returns:
        ``(candidates, origin)`` of the next round.
    """
    n = cands.shape[0]
    sources = model.encoder.encode(cands) if cfg.editing else None
    if cfg.edit_selection == "pool":
        X, src = _draw_all(model, cfg, n, sources, generator, feasible, guard)
        pool = torch.cat([cands, X])
        owner = torch.cat([origin, origin[src]])
        predicted = model.predict(pool).squeeze(-1)
        keep = select_from_pool(pool, predicted, n, owner, cfg.edit_per_source)
        return pool[keep], owner[keep]
    edited, _ = propose(model, cfg, n, sources, generator, feasible, guard)
    better = model.predict(edited).squeeze(-1) > model.predict(cands).squeeze(-1)
    return torch.where(better.unsqueeze(-1), edited, cands), origin


def select_from_pool(
    pool: Tensor,
    predicted: Tensor,
    n: int,
    origin: Tensor | None = None,
    per_source: int | None = None,
) -> Tensor:
    """Indices of the ``n`` best designs of a pool, distinct ones first.

    The distinct designs of ``pool`` ranked by ``predicted`` come first, at
    most ``per_source`` of them per ``origin`` when a cap is given; then the
    distinct designs over the cap, and when there are still fewer than ``n``,
    the best remaining rows (repeats), each group by decreasing prediction.

    Args:
        pool: ``p x d`` designs, ``p >= n``.
        predicted: ``p`` surrogate predictions.
        n: How many to keep.
        origin: ``p`` indices of the sources the designs descend from (needed
            with ``per_source``).
        per_source: Most designs kept per source before the others, or ``None``.

    Returns:
        ``n`` row indices into ``pool``.
    """
    distinct = ranked_distinct_rows(pool, predicted)
    groups = [distinct]
    if per_source is not None and origin is not None:
        within = _rank_within_groups(origin[distinct])
        groups = [distinct[within < per_source], distinct[within >= per_source]]
    rest = torch.ones(pool.shape[0], dtype=torch.bool, device=pool.device)
    rest[distinct] = False
    others = rest.nonzero().squeeze(-1)
    others = others[torch.sort(predicted[others], descending=True, stable=True).indices]
    return torch.cat([*groups, others])[:n]


def _rank_within_groups(labels: Tensor) -> Tensor:
    """For each entry, how many earlier entries carry the same label."""
    n = labels.numel()
    order = torch.sort(labels, stable=True).indices
    ranked = labels[order]
    positions = torch.arange(n, device=labels.device)
    starts = torch.ones(n, dtype=torch.bool, device=labels.device)
    starts[1:] = ranked[1:] != ranked[:-1]
    first = torch.cummax(torch.where(starts, positions, 0), dim=0).values
    within = torch.empty_like(positions)
    within[order] = positions - first
    return within


def edit_sources(model: FittedModel, q: int, cfg: DEMOConfig) -> Tensor:
    """Encoded starting points: the top-q offline designs, their ascents, or both
    alternately (``edit_source``, resolved by :attr:`DEMOConfig.edits_from`)."""
    rows = model.ranked_rows[:q]
    if cfg.edits_from == "ascent":
        return model.synthetic_X[rows]
    offline = model.encoder.encode(model.train_X[rows])
    if cfg.edits_from == "offline":
        return offline
    half = (q + 1) // 2
    out = torch.empty_like(offline)
    out[0::2] = offline[:half]
    out[1::2] = model.synthetic_X[rows[: q - half]].to(offline)
    return out


def edit_levels(cfg: DEMOConfig) -> list[int]:
    """Noise levels of the ``edit_draws`` draws: ``m`` raised linearly to ``edit_max_m``."""
    top = cfg.m if cfg.edit_max_m is None else cfg.edit_max_m
    if cfg.edit_draws == 1:
        return [cfg.m]
    return [raised_noise_level(cfg.m, top, i, cfg.edit_draws - 1) for i in range(cfg.edit_draws)]


def propose(
    model: FittedModel,
    cfg: DEMOConfig,
    n: int,
    sources: Tensor | None,
    generator: torch.Generator,
    feasible: Feasible | None = None,
    guard: SamplerGuard | None = None,
) -> tuple[Tensor, Tensor]:
    """Edit ``sources`` (Eq. 9), or sample ``n`` designs from the prior without them.

    With ``edit_draws > 1`` every slot gets that many draws (at the noise levels
    of :func:`edit_levels`); ``edit_selection="slot"`` keeps each slot's draw
    the surrogate predicts highest, ``"pool"`` the ``n`` best distinct draws of
    all slots (:func:`select_from_pool`).

    Returns:
        ``(X, origin)``: ``n x d`` raw designs, made feasible when ``feasible``
        is given, and the ``n`` indices of the slots (sources) they came from.
    """
    X, src = _draw_all(model, cfg, n, sources, generator, feasible, guard)
    if X.shape[0] == n:
        return X, src
    predicted = model.predict(X).squeeze(-1)
    if cfg.edit_selection == "pool":
        keep = select_from_pool(X, predicted, n, src, cfg.edit_per_source)
        return X[keep], src[keep]
    best = predicted.reshape(-1, n).argmax(dim=0)
    slots = torch.arange(n, device=X.device)
    return X.reshape(-1, n, X.shape[-1])[best, slots], slots


def _draw_all(
    model: FittedModel,
    cfg: DEMOConfig,
    n: int,
    sources: Tensor | None,
    generator: torch.Generator,
    feasible: Feasible | None,
    guard: SamplerGuard | None,
) -> tuple[Tensor, Tensor]:
    """All ``edit_draws`` draws of every slot, draw by draw: one edit of each
    source at each level of :func:`edit_levels` (or ``n`` prior samples per
    draw), decoded and made feasible.

    Returns:
        ``(X, slots)``: ``(draws * n) x d`` raw designs and the slot each came from.
    """
    guidance = Guidance(
        target_score=cfg.target_score,
        guidance_weight=cfg.guidance_weight,
        method=cfg.sampler,
        generator=generator,
        progress=cfg.progress,
        guard=guard,
    )
    draws = []
    for m in edit_levels(cfg):
        if sources is not None:
            Z = edit_designs(
                model.score_net,
                model.sde,
                sources,
                m=m,
                M=cfg.M,
                num_steps=cfg.num_steps,
                guidance=guidance,
            )
        else:
            steps = cfg.num_steps or cfg.M
            dim = model.encoder.encoded_dim
            Z = sample_from_prior(
                model.score_net, model.sde, n, dim, num_steps=steps, guidance=guidance
            )
        require_finite("The reverse SDE", [Z], "beta_max, guidance_weight or target_score")
        X = model.encoder.decode(Z).to(model.train_X)
        draws.append(X if feasible is None else feasible(X))
    X = torch.cat(draws)
    slots = torch.arange(n, device=X.device).repeat(len(draws))
    return X, slots


def fill_novel(
    model: FittedModel,
    proposal: Proposal,
    cands: Tensor,
    sources: Tensor | None,
    guard: SamplerGuard | None = None,
) -> Tensor:
    """Replace rejected candidates by re-editing their sources harder.

    A candidate is rejected when it equals an excluded design or an earlier
    candidate. Its source is edited again with fresh noise at a noise level
    raised step by step from ``m`` to ``M`` over the first half of the rounds
    (:func:`~botorch_demo.editing.raised_noise_level`): an edit that keeps
    falling back onto a known design needs more noise, not just new noise. The
    second half samples those slots from the prior (as ``editing=False``), the
    most diverse fallback; on a space whose columns are all categorical it
    instead moves each rejected design to its best new single-site neighbour by
    the surrogate (:func:`~botorch_demo.neighbours.best_new_mutants`), because
    there the guided prior samples collapse onto the same few known sequences
    too; its last round takes the best unseen designs of the whole space by the
    surrogate when the space has at most 2^20 designs
    (:func:`~botorch_demo.neighbours.best_unseen_designs`). Only the rejected
    slots are recomputed, all of them in one batch. None of this is in the
    paper, whose protocol keeps repeats.

    Raises:
        CandidateShortfallError: If slots stay empty after ``max_rounds`` rounds.
    """
    cfg, exclude, max_rounds = proposal.config, proposal.exclude, proposal.max_rounds
    q = cands.shape[0]
    filled = torch.zeros(q, dtype=torch.bool, device=cands.device)
    out = cands.clone()
    pending = torch.arange(q, device=cands.device)
    ramp = max(max_rounds // 2, 1)
    for r in range(1, max_rounds + 2):
        known = out[filled] if exclude is None else torch.cat([exclude, out[filled]])
        ok = novel_rows(cands, known)
        out[pending[ok]] = cands[ok]
        filled[pending[ok]] = True
        pending = pending[~ok]
        if pending.numel() == 0:
            return out
        if r > max_rounds:
            break
        if r > ramp and _all_categorical(model):
            known = out[filled] if exclude is None else torch.cat([exclude, out[filled]])
            cands = _categorical_moves(
                model, cands[~ok], known, pending.numel(), r == max_rounds, proposal.generator
            )
            if cands is None:
                break  # Fewer unseen designs than empty slots.
            if proposal.feasible is not None:
                cands = proposal.feasible(cands)
            continue
        src = None if sources is None or r > ramp else sources[pending]
        m_r = raised_noise_level(cfg.m, cfg.M, r, ramp)
        top = None if cfg.edit_max_m is None else max(cfg.edit_max_m, m_r)
        retry = cfg.replace(m=m_r, edit_max_m=top)
        cands, _ = propose(
            model, retry, pending.numel(), src, proposal.generator, proposal.feasible, guard
        )
    raise CandidateShortfallError(
        f"Could not find {pending.numel()} of {q} new, distinct candidates after "
        f"{max_rounds} rounds of re-editing and sampling from the prior: the excluded "
        "designs may cover most of the design space. Lower q, exclude fewer designs, "
        "or allow repeats.",
        requested=q,
        missing=pending.numel(),
    )


def _categorical_moves(
    model: FittedModel,
    rejected: Tensor,
    known: Tensor,
    n: int,
    last_round: bool,
    generator: torch.Generator,
) -> Tensor | None:
    """New designs for ``n`` empty slots of an all-categorical space.

    Edits and prior samples of a categorical space can keep landing on the same
    few known designs: move each rejected design to its best new single-site
    neighbour, and in the last round take the best unseen designs of a small
    space instead.

    Returns:
        The designs, or ``None`` when the space holds fewer than ``n`` unseen ones.
    """
    cats = model.encoder.categorical_features

    def predict(X: Tensor) -> Tensor:
        return model.predict(X).squeeze(-1)

    if last_round:
        best = best_unseen_designs(cats, known, n, predict, rejected)
        if best is not None:
            return None if best.shape[0] < n else best
    return best_new_mutants(rejected, cats, known, predict, generator)


def _all_categorical(model: FittedModel) -> bool:
    """Whether every design column is categorical."""
    return len(model.encoder.categorical_features) == model.train_X.shape[-1]


def diagnose(
    model: FittedModel,
    cands: Tensor,
    predicted: Tensor,
    sources: Tensor | None,
    n_raw: int,
    guard: SamplerGuard,
) -> GenerationDiagnostics:
    """Describe a batch and issue the guards' warnings (once per call each).

    Args:
        model: The fitted model.
        cands: ``q x d`` final candidates.
        predicted: Their ``q`` surrogate predictions.
        sources: The encoded designs they were edited from, or ``None``.
        n_raw: Distinct raw edits before any refill.
        guard: The sampler's divergence guard.

    Returns:
        The diagnostics.
    """
    q = cands.shape[0]
    above = reach = None
    if sources is not None:
        start = model.encoder.decode(sources).to(model.train_X)
        above = int((model.predict(start).squeeze(-1) < predicted).sum())
        cats = model.encoder.categorical_features
        reach = measure_reach(start, cands, cats, model.train_X.std(dim=0))
    messages = []
    if guard.diverged:
        messages.append(divergence_message(guard))
        warnings.warn(messages[-1], SamplerDivergenceWarning, stacklevel=4)
    collapsed = n_raw < COLLAPSE_FRACTION * q
    if collapsed:
        messages.append(collapse_message(n_raw, q))
        warnings.warn(messages[-1], CollapseWarning, stacklevel=4)
    return GenerationDiagnostics(
        q=q,
        n_distinct=n_distinct(cands),
        n_distinct_raw=n_raw,
        n_predicted_above_source=above,
        n_states_outside=guard.n_outside,
        max_state_ratio=guard.max_ratio,
        clamped=guard.clamp and guard.diverged,
        collapsed=collapsed,
        messages=tuple(messages),
        reach=reach,
    )
