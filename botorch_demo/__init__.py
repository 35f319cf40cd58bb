"""botorch-demo: DEMO (Design Editing for offline Model-based Optimization).

DEMO proposes new designs from an offline dataset in two phases: a conditional
diffusion model is trained on a pseudo-target distribution built by gradient
ascent on a surrogate, and the top existing designs are noised and denoised with
that model towards a high target score.
"""

from botorch_demo.botorch_model import DEMOSurrogateModel, surrogate_model
from botorch_demo.config import DEMOConfig
from botorch_demo.diagnostics import (
    CollapseWarning,
    GenerationDiagnostics,
    SamplerDivergenceWarning,
)
from botorch_demo.exceptions import (
    CandidateShortfallError,
    CheckpointError,
    DivergenceError,
    EmulatedPrecisionWarning,
)
from botorch_demo.generation import gen_candidates_demo
from botorch_demo.model import DEMO

__version__ = "0.1.0"

__all__ = [
    "DEMO",
    "CandidateShortfallError",
    "CheckpointError",
    "CollapseWarning",
    "DEMOConfig",
    "DEMOSurrogateModel",
    "DivergenceError",
    "EmulatedPrecisionWarning",
    "GenerationDiagnostics",
    "SamplerDivergenceWarning",
    "__version__",
    "gen_candidates_demo",
    "surrogate_model",
]
