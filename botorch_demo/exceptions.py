"""The errors DEMO raises beside BoTorch's ``InputDataError`` and Python's own."""

from __future__ import annotations


class CheckpointError(ValueError):
    """A file given to :meth:`DEMO.load <botorch_demo.DEMO.load>` is not a valid,
    intact DEMO checkpoint."""


class DivergenceError(RuntimeError):
    """A phase produced NaN or infinite numbers, or a step size overflows the
    networks' dtype; the message names the config fields to lower."""


class CandidateShortfallError(RuntimeError):
    """Fewer new, distinct candidates exist (or were found) than were asked for.

    Attributes:
        requested: Candidates asked for.
        missing: How many of them could not be found.
    """

    def __init__(self, message: str, requested: int, missing: int) -> None:
        super().__init__(message)
        self.requested = requested
        self.missing = missing

    def __reduce__(self) -> tuple:
        return type(self), (self.args[0], self.requested, self.missing)


class DuplicateDataWarning(UserWarning):
    """Designs attached to an Ax experiment are already in it (the same data
    attached twice counts every design twice)."""


class EmulatedPrecisionWarning(UserWarning):
    """Mixed precision was asked for on a device that emulates it (slower than
    float32); ``DEMOConfig.mixed_precision="auto"`` takes it only where native."""
