"""gen_candidates_demo: the BoTorch-style functional entry point."""

from __future__ import annotations

import pytest
import torch

from botorch_demo import gen_candidates_demo


@pytest.mark.parametrize("encoding", ["logits", "onehot"])
def test_candidates_hold_valid_categories_and_keep_the_quality_of_their_sources(
    encoding: str, smoke_config, make_mixed
) -> None:
    X, Y, bounds, cats = make_mixed()
    cfg = smoke_config.replace(categorical_encoding=encoding)
    cands, _ = gen_candidates_demo(X, Y, bounds, 16, cats, cfg, seed=1)
    for j in cats:
        col = cands[:, j]
        assert torch.equal(col, col.round())
        assert ((col >= 0) & (col <= 3)).all()
    assert ((cands[:, 1] >= 0) & (cands[:, 1] <= 1)).all()
    # Edits of the top designs keep most of their quality: the batch's true
    # scores beat the offline median by a clear margin.
    true = (cands[:, :1] == 2).double() + cands[:, 1:2] - (cands[:, 2:] - 1).abs()
    assert true.median().item() > Y.median().item() + 0.25 * Y.std().item()
