"""Row-set helpers used for de-duplication and top-K selection."""

import torch
from botorch.utils.testing import BotorchTestCase

from botorch_demo.rows import novel_rows, ranked_distinct_rows


class TestRows(BotorchTestCase):
    def test_novel_rows(self) -> None:
        cands = torch.tensor([[0.0, 1.0], [2.0, 3.0], [0.0, 1.0], [4.0, 5.0], [6.0, 7.0]])
        ref = torch.tensor([[4.0, 5.0], [9.0, 9.0]])
        self.assertEqual(novel_rows(cands, ref).tolist(), [True, True, False, False, True])
        self.assertEqual(novel_rows(cands).tolist(), [True, True, False, True, True])
        self.assertEqual(novel_rows(cands[:0], ref).shape, (0,))

    def test_ranked_distinct_rows_keeps_best_copy(self) -> None:
        X = torch.tensor([[1.0], [2.0], [1.0], [3.0]])
        y = torch.tensor([0.5, 0.1, 0.9, 0.7])
        rows = ranked_distinct_rows(X, y)
        self.assertEqual(rows.tolist(), [2, 3, 1])
