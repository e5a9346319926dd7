"""A tour of geodl.nn: the classic models and the symmetry each one declares.

Run:  .venv/bin/python examples/classic_models.py
"""

from __future__ import annotations

import torch

from geodl.nn import (
    LSTM,
    MLP,
    Conv1d,
    Conv2d,
    ConvNet1d,
    LeNet5,
    ResNet,
    VanillaRNN,
    check_causality,
)
from geodl.symmetry import verify_declarations


def main() -> None:
    torch.manual_seed(0)
    torch.set_default_dtype(torch.float64)  # symmetry checks in float64
    cases = [
        ("MLP on a (6, 16) input", MLP(16, [32], 5), torch.randn(6, 16)),
        ("Conv1d circular", Conv1d(2, 4, 5, padding="circular"), torch.randn(2, 64)),
        ("Conv1d zero padding", Conv1d(2, 4, 3, padding="same"), torch.randn(2, 1024)),
        ("Conv1d stride 2", Conv1d(2, 4, 5, padding="circular", stride=2), torch.randn(2, 64)),
        ("Conv2d circular", Conv2d(1, 4, 3, padding="circular"), torch.randn(1, 16, 16)),
        (
            "ConvNet1d global head",
            ConvNet1d(1, 10, 40, channels=(8, 8), head="global"),
            torch.randn(1, 40),
        ),
        ("ConvNet1d flatten head", ConvNet1d(1, 10, 40, channels=(8, 8)), torch.randn(1, 40)),
        ("LeNet-5", LeNet5(), torch.randn(1, 32, 32)),
        ("ResNet (2D, circular)", ResNet(1, 10, width=8, blocks=2), torch.randn(1, 16, 16)),
        ("VanillaRNN", VanillaRNN(2, 8, 1), torch.randn(20, 2)),
        ("LSTM", LSTM(2, 8, 1), torch.randn(20, 2)),
    ]
    print(f"{'model':26s} {'group':11s} {'output':12s} {'declared':12s} {'measured':12s} rel.err")
    for name, model, x in cases:
        for r in verify_declarations(model, x):
            print(
                f"{name:26s} {r.group:11s} {r.out_rep:12s} {r.declared:12s} {r.verdict:12s} "
                f"{r.max_rel_error:.1e}"
            )
    print()
    for name, model in (
        ("VanillaRNN", VanillaRNN(2, 8, 1)),
        ("LSTM (lecture)", LSTM(2, 8, 1, variant="lecture")),
    ):
        print(name, check_causality(model, torch.randn(20, 2)))


if __name__ == "__main__":
    main()
