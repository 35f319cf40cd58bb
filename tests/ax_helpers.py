"""Shared fixtures of the Ax integration tests: a TF Bind 8 Client and oracle."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import torch
from ax.api.client import Client
from ax.api.configs import ChoiceParameterConfig

from botorch_demo.tasks import load_task

LETTERS = np.array(list("ACGT"))
NAMES = [f"p{i}" for i in range(8)]
SMOKE = {"config": "smoke", "config_overrides": {"surrogate_epochs": 1, "diffusion_epochs": 1}}


@functools.cache
def tf8():
    return load_task("tfbind8")


def offline_frame(n: int | None = None, seed: int = 0) -> pd.DataFrame:
    """The TF8 offline set (or a seeded random subset of n rows) as a DataFrame."""
    task = tf8()
    X, Y = task.train_X, task.train_Y
    if n is not None:
        rows = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(seed))[:n]
        X, Y = X[rows], Y[rows]
    frame = pd.DataFrame(LETTERS[X.long().numpy()], columns=NAMES)
    frame["score"] = Y.squeeze(-1).numpy()
    return frame


def tf8_client(storage_config=None, minimize: bool = False, name: str = "tf8") -> Client:
    client = Client(storage_config=storage_config, random_seed=0)
    client.configure_experiment(
        name=name,
        parameters=[
            ChoiceParameterConfig(
                name=n, values=list("ACGT"), parameter_type="str", is_ordered=False
            )
            for n in NAMES
        ],
    )
    client.configure_optimization(objective="-score" if minimize else "score")
    return client


def oracle(parameters: dict) -> float:
    """Exact TF8 score of one parameterization."""
    tokens = [list("ACGT").index(parameters[n]) for n in NAMES]
    return float(tf8().oracle(torch.tensor([tokens], dtype=torch.double)).item())


def design(parameters: dict) -> tuple[str, ...]:
    return tuple(parameters[n] for n in NAMES)


def complete_all(client: Client, trials: dict[int, dict]) -> None:
    for index, parameters in trials.items():
        client.complete_trial(index, {"score": oracle(parameters)})
