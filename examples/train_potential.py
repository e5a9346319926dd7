"""Train a DeepPot-SE potential on the bundled Cu/Au EMT set, evaluate it, save it.

    .venv/bin/python examples/train_potential.py --max-time 120 --out runs/example

The same as ``geodl train --data bundled:cuau --out runs/example
--max-time 120 --set model.r_cut=5.0``, written with the Python API.
"""

from __future__ import annotations

import argparse

from geodl.atoms import bundled_dataset, format_metrics, load_config, train

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-time", type=float, default=120.0)
    parser.add_argument("--out", default="runs/example")
    args = parser.parse_args()
    config = load_config(
        overrides=[
            f"data.train={bundled_dataset('cuau')}",
            "data.test_fraction=0.1",
            "model.r_cut=5.0",
            f"training.max_time={args.max_time}",
            "training.epochs=10000",
            f"out={args.out}",
        ]
    )
    result = train(config)
    print(format_metrics(result.test_metrics))
    print("files:", result.files)
