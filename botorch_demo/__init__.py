"""botorch-demo: DEMO (Design Editing for offline Model-based Optimization).

DEMO (Yuan et al., "Design Editing for Offline Model-based Optimization") proposes
new designs from an offline dataset in two phases: a conditional diffusion model is
trained on a pseudo-target distribution built by gradient ascent on a surrogate, and
the top existing designs are noised and denoised with that model.
"""

__version__ = "0.1.0"
