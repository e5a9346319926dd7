import random

import numpy as np
import pytest
import torch

from geodl.data import adding_problem, load_digits, load_mnist1d


def test_mnist1d_small_generation_and_rng_restored() -> None:
    np.random.seed(123)
    random.seed(123)
    expected_np, expected_py = np.random.rand(), random.random()
    np.random.seed(123)
    random.seed(123)
    data = load_mnist1d(num_samples=200)
    assert (np.random.rand(), random.random()) == (expected_np, expected_py)
    assert data.x_train.shape == (160, 1, 40) and data.x_test.shape == (40, 1, 40)
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    assert set(data.y_train.tolist()) <= set(range(10))


def test_mnist1d_seed_and_shuffle() -> None:
    a = load_mnist1d(seed=1, num_samples=100)
    b = load_mnist1d(seed=1, num_samples=100)
    c = load_mnist1d(seed=2, num_samples=100)
    s = load_mnist1d(seed=1, num_samples=100, shuffle_positions=True)
    torch.testing.assert_close(a.x_train, b.x_train)
    assert not torch.allclose(a.x_train, c.x_train)
    # one fixed permutation of the 40 positions, the same for every signal
    perm = [int((a.x_train[0, 0] == v).nonzero()[0]) for v in s.x_train[0, 0]]
    assert sorted(perm) == list(range(40)) and perm != list(range(40))
    torch.testing.assert_close(s.x_train, a.x_train[..., perm])
    torch.testing.assert_close(s.y_train, a.y_train)


def test_mnist1d_unknown_argument() -> None:
    with pytest.raises(ValueError, match="unknown argument"):
        load_mnist1d(num_sample=10)


def test_digits_split() -> None:
    data = load_digits(test_size=0.25, seed=3)
    assert data.x_train.shape[1:] == (1, 8, 8)
    assert len(data.y_train) + len(data.y_test) == 1797
    assert 0.0 <= float(data.x_train.min()) and float(data.x_train.max()) <= 1.0
    assert len(data.y_test) == 450  # ceil(0.25 * 1797)
    # stratified: every class is split 25/75 up to rounding
    n_test = torch.bincount(data.y_test)
    n_all = n_test + torch.bincount(data.y_train)
    assert bool(((n_test - 0.25 * n_all).abs() <= 1).all())
    again = load_digits(test_size=0.25, seed=3)
    assert torch.equal(again.x_test, data.x_test)
    assert not torch.equal(load_digits(test_size=0.25, seed=4).y_test, data.y_test)
    with pytest.raises(ValueError, match="'test_size'"):
        load_digits(test_size=1.5)


def test_adding_problem() -> None:
    x, y = adding_problem(500, length=30, seed=0)
    assert x.shape == (500, 30, 2) and y.shape == (500,)
    assert torch.equal(x[..., 1].sum(1), torch.full((500,), 2.0))
    assert bool((x[:, :15, 1].sum(1) == 1).all())  # one marker in each half
    torch.testing.assert_close(y, (x[..., 0] * x[..., 1]).sum(1))
    baseline = float(((y - 1) ** 2).mean())
    assert abs(baseline - 1 / 6) < 0.03
    x2, _ = adding_problem(500, length=30, seed=0)
    assert torch.equal(x, x2)
    with pytest.raises(ValueError, match="length >= 2"):
        adding_problem(5, length=1)
