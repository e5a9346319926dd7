import pytest
import torch

from geodl.nn import MLP, RandomFeatureModel, TwoLayerNet
from geodl.symmetry import check_equivariance, verify_declarations


def test_mlp_is_the_lecture_recursion(float64) -> None:
    net = MLP(3, [5, 4], 2, activation="tanh")
    x = torch.randn(7, 3)
    lin = [m for m in net.layers if isinstance(m, torch.nn.Linear)]
    h = x
    for layer in lin[:-1]:
        h = torch.tanh(h @ layer.weight.T + layer.bias)  # x^{l+1} = sigma(W x + b)
    expected = h @ lin[-1].weight.T + lin[-1].bias  # last layer linear
    torch.testing.assert_close(net(x), expected)


def test_mlp_shapes_and_repr() -> None:
    net = MLP(3, [8], 2)
    assert net(torch.randn(3)).shape == (2,)
    assert net(torch.randn(4, 5, 3)).shape == (4, 5, 2)
    assert MLP(3, [], 2)(torch.randn(3)).shape == (2,)  # linear (logistic) model
    assert "hidden=[8]" in repr(net) and "activation='relu'" in repr(net)


def test_mlp_bad_input() -> None:
    with pytest.raises(ValueError, match=r"expected an input of shape \(\.\.\., 3\)"):
        MLP(3, [8], 2)(torch.randn(4, 5))
    with pytest.raises(ValueError, match="'hidden' must be a positive integer"):
        MLP(3, [0], 2)
    with pytest.raises(ValueError, match="Valid names"):
        MLP(3, [4], 2, activation="nope")


def test_two_layer_net_is_A_sigma_Bx_plus_c(float64) -> None:
    net = TwoLayerNet(2, 16, 3, activation="sigmoid")
    x = torch.randn(5, 2)
    torch.testing.assert_close(net(x), torch.sigmoid(x @ net.B.T + net.c) @ net.A.T)
    assert net.A.shape == (3, 16) and net.B.shape == (16, 2) and net.c.shape == (16,)
    assert "width=16" in repr(net)


def test_random_features_are_frozen() -> None:
    model = RandomFeatureModel(1, 32)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["outer.weight"]
    before = model.B.clone()
    loss = model(torch.randn(10, 1)).pow(2).sum()
    loss.backward()
    torch.optim.SGD(model.parameters(), lr=1.0).step()
    torch.testing.assert_close(model.B, before)
    assert "frozen=(B, c)" in repr(model)


def test_ridge_fit_matches_normal_equations(float64) -> None:
    model = RandomFeatureModel(2, 20, 1, activation="tanh")
    x = torch.randn(100, 2)
    y = torch.sin(x.sum(1, keepdim=True))
    model.fit_ridge(x, y, l2=1e-3)
    phi = torch.tanh(x @ model.B.T + model.c)
    a = torch.linalg.solve(phi.T @ phi + 1e-3 * 100 * torch.eye(20), phi.T @ y)
    torch.testing.assert_close(model.A, a.T)

    # the ridge solution is a minimiser: perturbing A increases the objective
    def obj(A: torch.Tensor) -> torch.Tensor:
        return ((phi @ A.T - y) ** 2).sum() + 1e-3 * 100 * (A**2).sum()

    assert obj(model.A) < obj(model.A + 1e-3 * torch.randn_like(model.A))


def test_ridge_fit_approximates_a_smooth_function(float64) -> None:
    model = RandomFeatureModel(1, 200, weight_scale=3.0, bias_scale=3.0)
    x = torch.linspace(-1, 1, 300).unsqueeze(1)
    mse = model.fit_ridge(x, torch.sin(3 * x), l2=1e-10)
    assert mse < 1e-5


def test_ridge_fit_bad_shapes() -> None:
    model = RandomFeatureModel(2, 8)
    with pytest.raises(ValueError, match="same n"):
        model.fit_ridge(torch.randn(5, 2), torch.randn(4, 1))
    with pytest.raises(ValueError, match="out_features=1"):
        model.fit_ridge(torch.randn(5, 2), torch.randn(5, 2))


def test_mlp_declarations_hold(float64) -> None:
    net = MLP(16, [32], 5)
    x = torch.randn(6, 16)  # a (C=6, L=16) signal and a set of 6 rows with 16 features
    reports = verify_declarations(net, x)
    assert {(r.group, r.out_rep): r.verdict for r in reports} == {
        ("shift", "invariant"): "broken",
        ("permutation", "per-point"): "exact",
    }
    assert all(r.matches_declaration for r in reports)


def test_dense_layer_has_no_shift_symmetry_even_when_shapes_allow(float64) -> None:
    net = MLP(16, [32], 16)  # maps a signal of length 16 to length 16
    report = check_equivariance(net, "shift", torch.randn(1, 16), kind="signal")
    assert report.verdict == "broken"
