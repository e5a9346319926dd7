import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from geodl.nn import PADDINGS, Conv1d, Conv2d, GlobalPool, Pool1d, Pool2d
from geodl.symmetry import check_equivariance, check_invariance, verify_declarations


def _conv1d(w: list[float], padding: str) -> Conv1d:
    conv = Conv1d(1, 1, len(w), padding=padding, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(w).reshape(1, 1, -1))
    return conv


def test_lecture_worked_example_zero_padding() -> None:
    x = torch.tensor([[1.0, 2.0, -1.0, 1.0, -3.0]])
    y = _conv1d([1.0, 0.0, -1.0], "same")(x)
    torch.testing.assert_close(y, torch.tensor([[-2.0, 2.0, 1.0, 2.0, 1.0]]))


def test_valid_conv_is_the_lecture_sum(float64) -> None:
    # y_s = sum_i x_{s+i} w_i, s = 1..n-k+1
    n, k = 11, 4
    x, w = torch.randn(n), torch.randn(k)
    y = _conv1d(w.tolist(), "valid")(x.unsqueeze(0)).squeeze(0)
    expected = torch.stack([sum(x[s + i] * w[i] for i in range(k)) for s in range(n - k + 1)])
    torch.testing.assert_close(y, expected)


def _banded(w: torch.Tensor, n: int, padding: str) -> torch.Tensor:
    """The lecture's matrix: rows (w_1 .. w_k) sliding along the diagonal."""
    k = len(w)
    if padding == "valid":
        m = torch.zeros(n - k + 1, n, dtype=w.dtype)
        for s in range(n - k + 1):
            m[s, s : s + k] = w
        return m
    left = (k - 1) // 2
    m = torch.zeros(n, n, dtype=w.dtype)
    for s in range(n):
        for i in range(k):
            j = s + i - left
            if padding == "circular":
                m[s, j % n] += w[i]
            elif 0 <= j < n:
                m[s, j] = w[i]
    return m


@pytest.mark.parametrize("padding", list(PADDINGS))
@settings(max_examples=15)
@given(n=st.integers(5, 16), k=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_conv1d_equals_the_banded_matrix(padding: str, n: int, k: int, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(k, generator=gen, dtype=torch.float64)
    x = torch.randn(n, generator=gen, dtype=torch.float64)
    conv = _conv1d(w.tolist(), padding).double()
    torch.testing.assert_close(conv(x.unsqueeze(0)).squeeze(0), _banded(w, n, padding) @ x)


def test_conv2d_is_the_lecture_double_sum(float64) -> None:
    # y_{s,t} = sum_{i,j} x_{s+i, t+j} w_{i,j}, channels summed, plus the bias
    conv = Conv2d(2, 3, 3, padding="valid")
    x = torch.randn(2, 6, 5)
    y = conv(x)
    assert y.shape == (3, 4, 3)
    for t in range(3):
        for a in range(4):
            for b in range(3):
                expected = (x[:, a : a + 3, b : b + 3] * conv.weight[t]).sum() + conv.bias[t]
                torch.testing.assert_close(y[t, a, b], expected)


@pytest.mark.parametrize("padding", ["same", "circular"])
def test_conv2d_padding_matches_torch(padding: str, float64) -> None:
    ours = Conv2d(2, 3, 3, padding=padding)
    mode = "zeros" if padding == "same" else "circular"
    ref = torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode=mode)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(4, 2, 7, 6)
    torch.testing.assert_close(ours(x), ref(x))


def test_shapes_batched_unbatched_and_stride() -> None:
    conv = Conv1d(2, 4, 5, padding="circular", stride=2)
    assert conv(torch.randn(2, 10)).shape == (4, 5)
    assert conv(torch.randn(3, 2, 10)).shape == (3, 4, 5)
    assert Conv1d(2, 4, 5, padding="valid")(torch.randn(2, 10)).shape == (4, 6)
    assert Conv2d(1, 2, 4, padding="same")(torch.randn(1, 7, 9)).shape == (2, 7, 9)


def test_repr_and_errors() -> None:
    assert repr(Conv1d(1, 2, 3, padding="circular")) == (
        "Conv1d(1, 2, kernel_size=3, padding='circular', stride=1, bias=True)"
    )
    with pytest.raises(ValueError, match="Valid choices: valid, same, circular"):
        Conv1d(1, 2, 3, padding="reflect")
    with pytest.raises(ValueError, match="expected 2 input channels"):
        Conv1d(2, 2, 3)(torch.randn(3, 10))
    with pytest.raises(ValueError, match=r"\(C, H, W\) or \(B, C, H, W\)"):
        Conv2d(1, 2, 3)(torch.randn(10))
    with pytest.raises(ValueError, match="positive integer"):
        Conv1d(1, 2, 0)


def test_pooling() -> None:
    x = torch.tensor([[1.0, 3.0, -1.0, 0.0, 5.0, 4.0]])
    torch.testing.assert_close(Pool1d(2)(x), torch.tensor([[3.0, 0.0, 5.0]]))
    torch.testing.assert_close(Pool1d(3, mode="avg")(x), torch.tensor([[1.0, 3.0]]))
    img = torch.arange(16.0).reshape(1, 4, 4)
    torch.testing.assert_close(Pool2d(2)(img), torch.tensor([[[5.0, 7.0], [13.0, 15.0]]]))
    assert Pool2d(2, mode="avg")(torch.randn(5, 3, 8, 8)).shape == (5, 3, 4, 4)
    assert repr(Pool1d(2)) == "Pool1d(kernel_size=2, stride=2, mode='max')"
    with pytest.raises(ValueError, match="Valid choices: max, avg"):
        Pool1d(2, mode="median")
    torch.testing.assert_close(GlobalPool(1, "max")(x), torch.tensor([5.0]))
    assert GlobalPool(2)(torch.randn(5, 3, 4, 4)).shape == (5, 3)
    assert "mode='mean'" in repr(GlobalPool(2))


# --- symmetry, measured by the harness ---------------------------------------------


@pytest.mark.parametrize(
    "conv, x",
    [
        (Conv1d(2, 3, 5, padding="circular"), torch.randn(2, 32)),
        (Conv2d(2, 3, 3, padding="circular"), torch.randn(2, 12, 10)),
    ],
)
def test_circular_conv_is_exactly_shift_equivariant(conv, x, float64) -> None:
    report = check_equivariance(conv, "shift", x)
    assert report.verdict == "exact", report
    assert all(r.matches_declaration for r in verify_declarations(conv, x))


def test_zero_padded_conv_is_approximately_equivariant_at_the_boundary(float64) -> None:
    conv = Conv1d(2, 3, 3, padding="same")
    x = torch.randn(2, 1024)
    report = check_equivariance(conv, "shift", x)
    assert report.verdict == "approximate", report
    assert report.where == "boundary"
    assert all(r.matches_declaration for r in verify_declarations(conv, x))
    small = check_equivariance(conv, "shift", torch.randn(2, 16))
    assert small.max_rel_error > report.max_rel_error  # the boundary weighs more


def test_zero_padded_conv2d_error_sits_on_the_boundary(float64) -> None:
    report = check_equivariance(Conv2d(1, 2, 3, padding="same"), "shift", torch.randn(1, 24, 24))
    assert report.verdict != "exact"
    assert report.where == "boundary" and report.boundary_width == 1


def test_strided_conv_only_for_multiples_of_the_stride(float64) -> None:
    conv = Conv1d(2, 3, 5, padding="circular", stride=2)
    x = torch.randn(2, 24)
    # the harness samples arbitrary shifts: broken, as declared
    assert all(r.matches_declaration for r in verify_declarations(conv, x))
    assert check_equivariance(conv, "shift", x).verdict == "broken"
    # shifts by a multiple of the stride move the output by shift / stride, exactly
    for k in range(1, 6):
        torch.testing.assert_close(conv(torch.roll(x, 2 * k, -1)), torch.roll(conv(x), k, -1))
    assert not torch.allclose(conv(torch.roll(x, 1, -1)), torch.roll(conv(x), 1, -1))


@pytest.mark.parametrize(
    "pool, x",
    [
        (GlobalPool(1), torch.randn(3, 17)),
        (GlobalPool(2, "max"), torch.randn(3, 6, 5)),
    ],
)
def test_global_pooling_is_shift_invariant(pool, x, float64) -> None:
    assert check_invariance(pool, "shift", x).verdict == "exact"
    assert all(r.matches_declaration for r in verify_declarations(pool, x))


def test_pooling_declarations(float64) -> None:
    x = torch.randn(2, 16, 16)
    assert all(r.matches_declaration for r in verify_declarations(Pool2d(2), x))
