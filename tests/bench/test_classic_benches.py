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
    for layout, view in (("signal", x[..., perm]), ("flat", x[..., perm].flatten(1))):
        shuffled = shift_augmentation(3, layout, perm)(view, torch.Generator().manual_seed(0))
        torch.testing.assert_close(shuffled.reshape(6, 1, 40), plain[..., perm])
    seq = shift_augmentation(3, "sequence", perm)(
        x[..., perm].transpose(1, 2), torch.Generator().manual_seed(0)
    )
    torch.testing.assert_close(seq.transpose(1, 2), plain[..., perm])
