"""Universal approximation: regenerate docs/img/uap.png (two-layer nets of growing width).

Run:  .venv/bin/python examples/uap_plot.py [--out docs/img/uap.png] [--seed 0]
Equivalent to ``geodl bench uap --set plot=docs/img/uap.png``.
"""

from __future__ import annotations

import argparse

from geodl.bench.uap import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="docs/img/uap.png")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    result = run(seed=args.seed, plot=args.out)
    for name, row in result["results"].items():
        print(f"{name:24s} test MSE {row['test_mse']:.2e}   sup error {row['sup_error']:.2e}")
    print("wrote", result["plot"])


if __name__ == "__main__":
    main()
