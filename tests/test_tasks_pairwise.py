"""The pairwise sequence model: seeded weights, its score and the exact optimum."""

from __future__ import annotations

import pytest
import torch

from botorch_demo.tasks.pairwise import PairwiseSequenceModel, pairwise_optimum


def test_weights_come_from_the_seed() -> None:
    a = PairwiseSequenceModel.from_seed(10, 4, 3, seed=7)
    b = PairwiseSequenceModel.from_seed(10, 4, 3, seed=7)
    c = PairwiseSequenceModel.from_seed(10, 4, 3, seed=8)
    for x, y in ((a.unary, b.unary), (a.pairs, b.pairs), (a.pair_weights, b.pair_weights)):
        assert torch.equal(x, y)
    assert not torch.equal(a.unary, c.unary)
    # neighbours, then long-range pairs at least 3 apart
    assert a.pairs[:9].tolist() == [[i, i + 1] for i in range(9)]
    assert a.pairs.shape == (12, 2)
    assert ((a.pairs[9:, 1] - a.pairs[9:, 0]) >= 3).all()
    # the global RNG is not touched
    torch.manual_seed(0)
    expected = torch.rand(1)
    torch.manual_seed(0)
    PairwiseSequenceModel.from_seed(10, 4, 3, seed=7)
    assert torch.equal(torch.rand(1), expected)
    with pytest.raises(ValueError, match="num_long_range"):
        PairwiseSequenceModel.from_seed(4, 4, 5, seed=0)


@pytest.mark.parametrize(("length", "V"), [(1, 4), (4, 1)])
def test_too_small_a_model_is_refused(length: int, V: int) -> None:
    with pytest.raises(ValueError, match="length >= 2 and num_categories >= 2"):
        PairwiseSequenceModel.from_seed(length, V, 0, seed=0)


def test_score_is_the_sum_of_the_weights() -> None:
    m = PairwiseSequenceModel.from_seed(5, 3, 1, seed=3)
    x = torch.tensor([[0, 2, 1, 1, 0]])
    expected = sum(float(m.unary[i, x[0, i]]) for i in range(5))
    for p, (i, j) in enumerate(m.pairs.tolist()):
        expected += float(m.pair_weights[p, x[0, i], x[0, j]])
    assert round(abs(float(m(x)) - expected), 12) == 0


@pytest.mark.parametrize(
    ("length", "V", "n_long", "seed"), [(6, 4, 3, 0), (7, 3, 4, 1), (5, 5, 2, 2), (8, 2, 6, 3)]
)
def test_variable_elimination_is_exact(
    length: int, V: int, n_long: int, seed: int, make_sequence_space
) -> None:
    m = PairwiseSequenceModel.from_seed(length, V, n_long, seed)
    y = m(make_sequence_space(length, V))
    for maximize, reference in ((True, y.max()), (False, y.min())):
        value, tokens = pairwise_optimum(m, maximize)
        assert round(abs(value - float(reference)), 10) == 0
        assert round(abs(float(m(tokens[None])) - float(reference)), 10) == 0


def test_max_span_bounds_the_long_range_pairs() -> None:
    m = PairwiseSequenceModel.from_seed(40, 5, 12, seed=4, max_span=6)
    spans = (m.pairs[:, 1] - m.pairs[:, 0]).tolist()
    assert spans.count(1) == 39  # every neighbour pair
    long_range = [s for s in spans if s > 1]
    assert len(long_range) == 12 and min(long_range) >= 3 and max(long_range) <= 6
    with pytest.raises(ValueError, match="num_long_range"):
        PairwiseSequenceModel.from_seed(6, 3, 20, seed=0, max_span=4)


def test_variable_elimination_is_exact_with_short_contacts(make_sequence_space) -> None:
    m = PairwiseSequenceModel.from_seed(9, 3, 5, seed=5, max_span=4)
    y = m(make_sequence_space(9, 3))
    value, tokens = pairwise_optimum(m)
    assert round(abs(value - float(y.max())), 10) == 0
    assert float(m(tokens[None])) == pytest.approx(value, abs=1e-10)


@pytest.mark.parametrize("name", ["seq-l32-v20", "seq-l48-v20"])
def test_protein_like_optimum_is_attained_and_no_single_letter_improves_it(name: str) -> None:
    from botorch_demo.tasks.generated import sequence_model
    from botorch_demo.tasks.suite import SUITE_TASKS

    m = sequence_model(SUITE_TASKS[name])
    assert m.num_categories == 20
    value, tokens = pairwise_optimum(m)
    assert float(m(tokens[None])) == pytest.approx(value, abs=1e-9)
    mutants = tokens.repeat(m.length * 20, 1)
    mutants[torch.arange(m.length * 20), torch.arange(m.length).repeat_interleave(20)] = (
        torch.arange(20).repeat(m.length)
    )
    assert float(m(mutants).max()) <= value + 1e-9
    low, _ = pairwise_optimum(m, maximize=False)
    assert low < value
