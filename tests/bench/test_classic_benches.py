"""Smoke tests of the classic benchmarks (``quick=True``: tiny sizes, one epoch)."""

import json

import pytest

from geodl.bench import resolve_benchmark
from geodl.cli.main import main


def _check(result: dict, task: str, metric: str, models: set[str]) -> None:
    assert result["task"] == task and result["seed"] == 3
    assert set(result["results"]) >= models
    for name, row in result["results"].items():
        assert metric in row, name
        assert {"params", "seconds"} <= set(row), name
    json.dumps(result)  # serialisable


def test_mnist1d_quick() -> None:
    r = resolve_benchmark("mnist1d")(seed=3, quick=True)
    _check(r, "mnist1d", "test_accuracy", {"logistic", "mlp", "cnn", "lstm"})
    assert r["results"]["cnn"]["anchor"] == 0.94


def test_mnist1d_shuffled_quick_subset() -> None:
    r = resolve_benchmark("mnist1d-shuffled")(seed=3, quick=True, models="mlp,cnn")
    _check(r, "mnist1d-shuffled", "test_accuracy", {"mlp", "cnn"})
    with pytest.raises(ValueError, match="Valid: logistic, mlp, cnn, lstm"):
        resolve_benchmark("mnist1d")(seed=0, quick=True, models="gru")


def test_digits_quick() -> None:
    r = resolve_benchmark("digits")(seed=3, quick=True)
    _check(r, "digits", "test_accuracy", {"svc", "lenet5", "mlp"})
    assert r["results"]["svc"]["test_accuracy"] > 0.8


def test_adding_quick() -> None:
    r = resolve_benchmark("adding")(seed=3, quick=True, models="lstm,rnn,lstm_lecture")
    _check(r, "adding", "test_mse", {"predict_1", "lstm", "rnn", "lstm_lecture"})
    with pytest.raises(ValueError, match="unknown model"):
        resolve_benchmark("adding")(seed=0, quick=True, models="gru")


def test_uap_quick_cli(tmp_path, capsys) -> None:
    out = tmp_path / "uap.json"
    assert main(["bench", "uap", "--seed", "3", "--quick", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    _check(r, "uap", "test_mse", {"two_layer m=1", "random_features m=2"})
    assert "two_layer m=1" in capsys.readouterr().out


def test_uap_plot(tmp_path) -> None:
    r = resolve_benchmark("uap")(
        seed=0,
        quick=False,
        widths=[1, 4],
        steps=30,
        polish=5,
        n_train=64,
        threads=1,
        plot=str(tmp_path / "fig.png"),
    )
    assert (tmp_path / "fig.png").stat().st_size > 1000 and r["plot"].endswith("fig.png")


def test_shuffled_augmentation_acts_in_the_original_frame() -> None:
    import torch

    from geodl.bench.mnist1d import shift_augmentation

    perm = torch.randperm(40)
    x = torch.randn(6, 1, 40)
    plain = shift_augmentation(3, "signal")(x, torch.Generator().manual_seed(0))
    # each signal is circularly rolled by some s in [-3, 3], and not all by 0
    shifts = []
    for i in range(6):
        found = [s for s in range(-3, 4) if torch.equal(plain[i], x[i].roll(s, -1))]
        assert len(found) == 1, i
        shifts += found
    assert any(shifts)
    for layout, view in (("signal", x[..., perm]), ("flat", x[..., perm].flatten(1))):
        shuffled = shift_augmentation(3, layout, perm)(view, torch.Generator().manual_seed(0))
        torch.testing.assert_close(shuffled.reshape(6, 1, 40), plain[..., perm])
    seq = shift_augmentation(3, "sequence", perm)(
        x[..., perm].transpose(1, 2), torch.Generator().manual_seed(0)
    )
    torch.testing.assert_close(seq.transpose(1, 2), plain[..., perm])


def test_find_permutation_recovers_the_shuffle() -> None:
    import torch

    from geodl.bench.mnist1d import _find_permutation
    from geodl.data import Split

    perm = torch.randperm(40)
    x = torch.randn(50, 1, 40)
    plain = Split(x, torch.zeros(50), x, torch.zeros(50))
    shuffled = Split(x[..., perm], torch.zeros(50), x[..., perm], torch.zeros(50))
    assert torch.equal(_find_permutation(plain, shuffled), perm)


def test_digits_random_shift_translates_with_zero_fill() -> None:
    import torch
    import torch.nn.functional as F

    from geodl.bench.digits import random_shift

    x = torch.rand(16, 1, 8, 8) + 1.0  # no zeros, so the fill is visible
    out = random_shift(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    padded = F.pad(x, (1, 1, 1, 1))
    offsets = []
    for i in range(16):
        found = [
            (dy, dx)
            for dy in range(3)
            for dx in range(3)
            if torch.equal(out[i], padded[i, :, dy : dy + 8, dx : dx + 8])
        ]
        assert len(found) == 1, i
        offsets += found
    assert len(set(offsets)) > 1  # the shifts are random, not constant
