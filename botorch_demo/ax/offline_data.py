"""Bulk import of an offline dataset into an Ax experiment.

Ax's tutorial loop (``attach_trial`` then ``complete_trial`` per row) is
quadratic in the number of trials. The bulk path creates the trials directly and
attaches all results as one ``Data``. Two layouts:

- one completed ``Trial`` per design (the default for an Ax ``Client``). Even a
  bare ``experiment.new_trial()`` scans all existing trials, so this is ~16 s
  for 32,898 designs on two cores;
- ONE completed ``BatchTrial`` whose arms are the designs (the default for an
  ``Experiment``): ~4 s for the same data. For a ``Client``, whose
  ``get_best_parameterization`` names the ``Trial`` that holds the best
  design, the best design(s) of the import become one-arm ``Trial``s first and
  the ``BatchTrial`` holds the others.

Each observation may come with its SEM: a ``sem`` column, ``(mean, sem)`` pairs
in a metric's column (as ``Client.complete_trial`` takes them), or one ``sem``
for all rows; NaN (or None) means unknown.

Either way, every observation is attached with a single ``Data`` object, and the
whole input is validated before the experiment is touched, so a bad input never
leaves a partial import behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from ax.api.client import Client
from ax.core.arm import Arm
from ax.core.base_trial import BaseTrial
from ax.core.data import Data
from ax.core.experiment import Experiment
from ax.core.parameter import FixedParameter, Parameter, ParameterType
from ax.exceptions.core import UserInputError
from ax.storage.sqa_store.save import save_or_update_trials

from botorch_demo.ax._ax_private import client_experiment, client_generation_strategy
from botorch_demo.ax.adapter import check_problem
from botorch_demo.ax.binding import check_storage_binding
from botorch_demo.ax.registry import uses_demo

_EXAMPLES = 5


def attach_offline_data(
    target: Client | Experiment,
    data: pd.DataFrame | Any,
    scores: Any | None = None,
    *,
    metric_name: str | None = None,
    sem: float | None = None,
    as_batch_trial: bool | None = None,
) -> list[int]:
    """Imports offline designs and their scores as completed trials.

    Args:
        target: An Ax ``Client`` (its experiment must be configured) or an
            ``Experiment``. With a ``Client`` that has a storage config, the new
            trials are saved to its database.
        data: Either a DataFrame with one column per parameter (fixed parameters
            may be omitted), one column per metric (named as the experiment's
            metrics; a cell may hold a ``(mean, sem)`` pair) and optionally a
            ``sem`` column (the SEM of the one metric column), or an ``n x d``
            array of parameter values in the order of
            ``experiment.search_space.parameters`` (then ``scores`` is required).
        scores: For array input: ``n`` (or ``n x 1``) scores of ``metric_name``,
            or ``n x 2`` ``(mean, sem)`` pairs.
        metric_name: For array input: the metric the scores belong to; defaults
            to the objective's metric when there is exactly one.
        sem: Standard error of every observation without a per-row SEM; None
            (default) records it as unknown (NaN), letting models infer the
            noise. Per-row SEMs may be NaN (unknown) too. Results reported later
            with a known SEM (e.g. ``sem=0.0`` from a metric) are fine: the GP
            nodes then infer the noise of all observations (see
            :class:`~botorch_demo.ax.SubsetBoTorchGenerator`).
        as_batch_trial: Import as one ``BatchTrial`` (designs that occur several
            times become one arm with their mean score; see the module
            docstring for a ``Client``) or as one ``Trial`` per row. Default:
            ``Trial``s for a ``Client``, a ``BatchTrial`` for an ``Experiment``.

    Returns:
        The indices of the trials created.

    Raises:
        UnsupportedError: If the Client's generation strategy has a DEMO node
            and the experiment has several objectives or outcome constraints.
        UserInputError: If the input does not match the experiment: missing or
            unknown columns, values outside the search space, scores that are
            missing, NaN or infinite, SEMs that are negative or infinite, or an
            SEM given twice. The experiment is unchanged then.
    """
    experiment = _experiment_of(target)
    if isinstance(target, Client) and uses_demo(client_generation_strategy(target)):
        check_problem(experiment)  # Refuse now, not at the DEMO node.
    if isinstance(target, Client) and target.db_settings_set:
        # Never write a campaign's trials into another campaign's database.
        check_storage_binding(target.db_settings.url)
    if as_batch_trial is None:
        as_batch_trial = not isinstance(target, Client)
    _check_sem(sem)
    frame = _as_frame(experiment, data, scores, metric_name)
    sems = _split_sems(experiment, frame, sem)
    params, metrics = _validated_columns(experiment, frame)
    _check_sems(sems)
    sem_columns = [_sem_column(m) for m in metrics]
    for metric, column in zip(metrics, sem_columns, strict=True):
        frame[column] = sems.get(metric, np.nan)

    singles = 0
    if as_batch_trial:
        frame = _merge_repeats(frame, params, metrics)
        if isinstance(target, Client):
            # The Client names the Trial of its best design: keep those apart.
            frame, singles = _best_first(experiment, frame, metrics)
    trials, arm_names, trial_indices = _new_trials(
        experiment, _arms(experiment, frame), as_batch_trial, singles
    )
    for trial in trials:
        trial.mark_running(no_runner_required=True)
    _attach_results(experiment, frame, metrics, arm_names, trial_indices)
    for trial in trials:
        trial.mark_completed()
    if isinstance(target, Client) and target.db_settings_set:
        save_or_update_trials(
            experiment=experiment, trials=trials, config=target.db_settings.encoder.config
        )
    return [t.index for t in trials]


def _check_sem(sem: Any) -> None:
    """Refuses an SEM that is not None or a finite, non-negative number."""
    if sem is not None and (
        isinstance(sem, (bool, np.bool_))
        or not isinstance(sem, (int, float, np.integer, np.floating))
        or not (np.isfinite(sem) and sem >= 0)
    ):
        raise UserInputError(f"`sem` must be a finite, non-negative float; got {sem}.")


#: Name of the optional column of per-row SEMs.
SEM_COLUMN = "sem"


def _sem_column(metric: str) -> str:
    """A column name for ``metric``'s SEMs that no parameter or metric can take."""
    return f"\0sem\0{metric}"


def _split_sems(experiment: Experiment, frame: pd.DataFrame, sem: float | None) -> dict:
    """Takes the SEMs out of ``frame`` (in place): a ``sem`` column, and
    ``(mean, sem)`` pairs in metric columns (which keep the means).

    Returns:
        ``{metric: n SEMs}`` (NaN: unknown) for the metrics with per-row SEMs;
        the others get ``sem`` (NaN if None).

    Raises:
        UserInputError: For a ``sem`` column next to several metric columns or
            next to ``sem=``, or for pairs next to ``sem=``.
    """
    names = set(experiment.search_space.parameters) | set(experiment.metrics)
    metrics = [str(c) for c in frame.columns if str(c) in experiment.metrics]
    default = np.nan if sem is None else float(sem)
    sems: dict[str, Any] = {m: default for m in metrics}
    for metric in metrics:
        column = frame[metric]
        if column.dtype != object or not column.map(_is_pair).any():
            continue
        if sem is not None:
            raise UserInputError(
                f"Column {metric!r} holds (mean, sem) pairs; do not pass `sem` as well."
            )
        pairs = column.map(lambda v: v if _is_pair(v) else (v, np.nan))
        frame[metric] = pairs.map(lambda p: p[0])
        sems[metric] = pd.to_numeric(pairs.map(lambda p: p[1]), errors="coerce").to_numpy(
            dtype=float
        )
    if SEM_COLUMN in frame.columns and SEM_COLUMN not in names:
        if len(metrics) != 1 or sem is not None:
            raise UserInputError(
                "A `sem` column gives the SEM of the one metric column; with several "
                "metric columns put (mean, sem) pairs in them, and do not pass `sem` "
                "as well."
            )
        column = frame.pop(SEM_COLUMN)
        if _bool_mask(column).any():
            raise UserInputError("The `sem` column must hold numbers, not booleans.")
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        if np.isnan(values[column.notna().to_numpy()]).any():
            raise UserInputError("The `sem` column must hold numbers (NaN: unknown).")
        sems[metrics[0]] = values
    return sems


def _is_pair(value: Any) -> bool:
    return isinstance(value, tuple | list) and len(value) == 2


def _check_sems(sems: dict) -> None:
    """Refuses negative or infinite per-row SEMs (NaN means unknown)."""
    for metric, values in sems.items():
        values = np.asarray(values, dtype=float)
        bad = np.flatnonzero(~np.isnan(values) & ~(np.isfinite(values) & (values >= 0)))
        if bad.size:
            raise UserInputError(
                f"SEMs of {metric!r} must be finite and non-negative (NaN: unknown); "
                f"rows {bad[:_EXAMPLES].tolist()} are not."
            )


def _merge_repeats(frame: pd.DataFrame, params: list[str], metrics: list[str]) -> pd.DataFrame:
    """One row per distinct design: the mean of its scores, and the SEM of that
    mean (NaN if any of its SEMs is unknown)."""
    if not frame.duplicated(params).any():
        return frame.reset_index(drop=True)
    work = frame.copy()
    helpers = {}
    for metric in metrics:
        column = _sem_column(metric)
        helpers[metric] = (f"{column}\0variance", f"{column}\0unknown")
        work[helpers[metric][0]] = work[column].pow(2)
        work[helpers[metric][1]] = work[column].isna().astype(float)
    groups = work.groupby(params, sort=False, dropna=False)
    merged = groups[metrics].mean()
    sums = groups[[c for pair in helpers.values() for c in pair]].sum()
    counts = groups.size()
    for metric, (variance, unknown) in helpers.items():
        merged[_sem_column(metric)] = np.where(
            sums[unknown] > 0, np.nan, np.sqrt(sums[variance]) / counts
        )
    return merged.reset_index()


def _best_first(
    experiment: Experiment, frame: pd.DataFrame, metrics: list[str]
) -> tuple[pd.DataFrame, int]:
    """``frame`` with the rows of the best objective value first, and how many."""
    config = experiment.optimization_config
    if config is None or config.is_moo_problem:
        return frame, 0
    names = config.objective.metric_names
    if len(names) != 1 or names[0] not in metrics:
        return frame, 0
    values = frame[names[0]].to_numpy(dtype=float)
    best = values.min() if config.objective.minimize else values.max()
    first = values == best
    return pd.concat([frame[first], frame[~first]], ignore_index=True), int(first.sum())


def _attach_results(
    experiment: Experiment,
    frame: pd.DataFrame,
    metrics: list[str],
    arm_names: list[str],
    trial_indices: list[int],
) -> None:
    """Attaches every metric column of ``frame`` as one ``Data``; a row per arm."""
    rows = [
        pd.DataFrame(
            {
                "trial_index": trial_indices,
                "arm_name": arm_names,
                "metric_name": metric,
                "metric_signature": experiment.metrics[metric].signature,
                "mean": frame[metric].to_numpy(dtype=float),
                "sem": frame[_sem_column(metric)].to_numpy(dtype=float),
            }
        )
        for metric in metrics
    ]
    experiment.attach_data(Data(df=pd.concat(rows, ignore_index=True)))


def _arms(experiment: Experiment, frame: pd.DataFrame) -> list[Arm]:
    """One arm per row of ``frame``, with values cast to the parameters' types."""
    parameters = list(experiment.search_space.parameters.values())
    columns = [[p.cast(v) for v in frame[p.name].tolist()] for p in parameters]
    names = [p.name for p in parameters]
    return [
        Arm(parameters=dict(zip(names, row, strict=True))) for row in zip(*columns, strict=True)
    ]


def _new_trials(
    experiment: Experiment, arms: list[Arm], as_batch_trial: bool, singles: int = 0
) -> tuple[list[BaseTrial], list[str], list[int]]:
    """New trials holding ``arms``: one ``Trial`` each, or one ``Trial`` each for
    the first ``singles`` arms and one ``BatchTrial`` for the others.

    Returns:
        The trials, and the name and trial index of each arm, in ``arms``' order.
    """
    trials: list[BaseTrial] = []
    names: list[str] = []
    indices: list[int] = []
    for arm in arms if not as_batch_trial else arms[:singles]:
        trial = experiment.new_trial()
        trial.add_arm(arm)
        trials.append(trial)
        names.append(trial.arm.name)
        indices.append(trial.index)
    rest = arms[singles:] if as_batch_trial else []
    if rest:
        batch = experiment.new_batch_trial()
        batch.add_arms_and_weights(arms=rest)
        trials.append(batch)
        names += [a.name for a in batch.arms]
        indices += [batch.index] * len(rest)
    return trials, names, indices


def _experiment_of(target: Client | Experiment) -> Experiment:
    if isinstance(target, Experiment):
        return target
    if isinstance(target, Client):
        experiment = client_experiment(target)
        if experiment is None:
            raise UserInputError("The Client has no experiment: call `configure_experiment` first.")
        return experiment
    raise UserInputError(f"Expected an Ax Client or Experiment; got {type(target).__name__}.")


def _as_frame(
    experiment: Experiment, data: Any, scores: Any | None, metric_name: str | None
) -> pd.DataFrame:
    """Normalises the two input forms into one DataFrame (a copy)."""
    if isinstance(data, pd.DataFrame):
        if scores is not None or metric_name is not None:
            raise UserInputError(
                "With a DataFrame, put the scores in metric-named columns; "
                "`scores` and `metric_name` are for array input."
            )
        frame = data.reset_index(drop=True).copy()
    else:
        designs = np.asarray(data, dtype=object)
        names = list(experiment.search_space.parameters)
        if designs.ndim != 2 or designs.shape[1] != len(names):
            raise UserInputError(
                f"Designs must be an n x {len(names)} array with columns {names}; "
                f"got shape {designs.shape}."
            )
        if scores is None:
            raise UserInputError("Array input needs `scores`.")
        if np.asarray(scores).dtype == bool:
            raise UserInputError("`scores` must be numbers, got booleans.")
        values = np.asarray(scores, dtype=float)
        sems = None
        if values.ndim == 2 and values.shape[1] == 2:
            values, sems = values[:, 0], values[:, 1]
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.shape != (designs.shape[0],):
            raise UserInputError(
                f"`scores` must have shape ({designs.shape[0]},), ({designs.shape[0]}, 1) "
                f"or ({designs.shape[0]}, 2) for (mean, sem) pairs; got {np.shape(scores)}."
            )
        frame = pd.DataFrame(designs, columns=names)
        metric = metric_name or _objective_metric(experiment)
        frame[metric] = values if sems is None else list(zip(values, sems, strict=True))
    if len(frame) == 0:
        raise UserInputError("The offline data has no rows.")
    return frame


def _objective_metric(experiment: Experiment) -> str:
    config = experiment.optimization_config
    names = [] if config is None else list(config.objective.metric_names)
    if len(names) != 1:
        raise UserInputError(
            "Pass `metric_name`: the experiment has no single objective metric "
            f"(objective metrics: {names})."
        )
    return names[0]


def _validated_columns(experiment: Experiment, frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Checks columns and values; fills omitted fixed parameters in place.

    Returns:
        The parameter columns and the metric columns.
    """
    search_space = experiment.search_space
    parameters = search_space.parameters
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        raise UserInputError(f"Duplicate column names in {columns}.")
    unknown = [c for c in columns if c not in parameters and c not in experiment.metrics]
    if unknown:
        raise UserInputError(
            f"Unknown column(s) {unknown}: columns must be parameters "
            f"{list(parameters)} or metrics {sorted(experiment.metrics)}."
        )
    missing = [
        name
        for name, p in parameters.items()
        if name not in columns and not isinstance(p, FixedParameter)
    ]
    if missing:
        raise UserInputError(f"Missing parameter column(s) {missing}.")
    metrics = [c for c in columns if c in experiment.metrics]
    if not metrics:
        raise UserInputError(
            f"No metric column: name one column as one of the experiment's metrics "
            f"{sorted(experiment.metrics)}."
        )
    for name, p in parameters.items():
        if name not in columns:
            frame[name] = p.value

    problems = [
        msg for p in parameters.values() if (msg := _invalid_values(p, frame[p.name])) is not None
    ]
    if problems:
        raise UserInputError("Offline designs outside the search space: " + "; ".join(problems))
    params = list(parameters)
    in_design = np.asarray(search_space.check_membership_df(frame[params]))
    if not in_design.all():
        bad = np.flatnonzero(~in_design)
        raise UserInputError(
            f"{bad.size} offline design(s) violate the search space's parameter "
            f"constraints {search_space.parameter_constraints}, e.g. rows "
            f"{bad[:_EXAMPLES].tolist()}."
        )
    for metric in metrics:
        values = pd.to_numeric(frame[metric], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values) | _bool_mask(frame[metric]))
        if bad.size:
            raise UserInputError(
                f"Metric column {metric!r} has {bad.size} missing, non-numeric, boolean, "
                f"NaN or infinite value(s), e.g. rows {bad[:_EXAMPLES].tolist()}."
            )
        frame[metric] = values
    return params, metrics


def _invalid_values(parameter: Parameter, column: pd.Series) -> str | None:
    """Describes the invalid values of one parameter column, or returns None.

    Values are never coerced silently: an integer parameter rejects ``2.5``
    (instead of storing 2) and booleans (instead of storing 1), a float
    parameter rejects booleans, and a boolean parameter takes only booleans.
    """
    is_bool = _bool_mask(column)
    if parameter.is_numeric:
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        valid = ~np.isnan(values) & parameter.validate_array(values) & ~is_bool
        if parameter.parameter_type == ParameterType.INT:
            with np.errstate(invalid="ignore"):
                valid &= values == np.round(values)
        rule = "numbers" if parameter.parameter_type == ParameterType.FLOAT else "integers"
        rule = f"{rule}, not booleans"
    else:
        values = column.where(column.notna(), None).to_numpy(dtype=object)
        valid = np.asarray(parameter.validate_array(values), dtype=bool)
        rule = "one of its values"
        if parameter.parameter_type == ParameterType.BOOL:
            valid &= is_bool
            rule = "booleans True or False"
    bad = np.flatnonzero(~np.asarray(valid, dtype=bool))
    if bad.size == 0:
        return None
    examples: Sequence[Any] = column.iloc[bad[:_EXAMPLES]].tolist()
    return (
        f"{bad.size} row(s) of {parameter.name!r} are not valid for {parameter}, which "
        f"takes {rule} (e.g. rows {bad[:_EXAMPLES].tolist()} with values {examples})"
    )


def _bool_mask(column: pd.Series) -> np.ndarray:
    """Which entries of ``column`` are booleans (Python or NumPy)."""
    if pd.api.types.is_bool_dtype(column.dtype):
        return np.ones(len(column), dtype=bool)
    if column.dtype != object:
        return np.zeros(len(column), dtype=bool)
    return np.fromiter(
        (isinstance(v, (bool, np.bool_)) for v in column), dtype=bool, count=len(column)
    )
