"""``geodl train [CONFIG.yaml] [--data FILE] [--valid FILE] [--out DIR] [--max-time SECONDS]
[--set key=value ...]`` — train an interatomic potential; writes ``model.pt``,
``checkpoint.pt``, ``log.csv``, ``config.yaml`` and PNG plots into ``--out``.

Several processes: ``torchrun --nproc_per_node=2 --no-python geodl train ...``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "config",
        nargs="?",
        type=Path,
        default=None,
        metavar="CONFIG.yaml",
        help="YAML config (optional; every key has a default, see docs/training.md)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="FILE",
        help="training structures: any ASE-readable file, a DeePMD system folder (or a root "
        "of many), a dpdata-readable file, or bundled:NAME (data.train)",
    )
    parser.add_argument(
        "--data-format",
        default=None,
        metavar="FMT",
        help="format of --data/--valid: auto (default), extxyz, deepmd/npy, deepmd/raw, "
        "ase:FORMAT or a dpdata format such as vasp/outcar (data.format)",
    )
    parser.add_argument(
        "--valid",
        type=Path,
        default=None,
        metavar="FILE",
        help="validation structures (data.valid; default: 10%% of --data)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output directory (out; default geodl-run)",
    )
    parser.add_argument(
        "--max-time",
        type=float,
        default=None,
        metavar="SECONDS",
        help="wall-clock budget in seconds (training.max_time)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set training.lr=1e-3 or "
        "--set model.r_cut=5 (repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    import dataclasses

    import torch

    from geodl.atoms import format_metrics, load_config, train
    from geodl.atoms.train import init_distributed

    try:
        cfg = load_config(args.config, args.set)
        data = cfg.data
        if args.data is not None:
            data = dataclasses.replace(data, train=str(args.data))
        if args.valid is not None:
            data = dataclasses.replace(data, valid=str(args.valid))
        if args.data_format is not None:
            data = dataclasses.replace(data, format=str(args.data_format))
        training = cfg.training
        if args.max_time is not None:
            if args.max_time <= 0:
                raise ValueError("--max-time must be a positive number of seconds.")
            training = dataclasses.replace(training, max_time=float(args.max_time))
        cfg = dataclasses.replace(
            cfg,
            data=data,
            training=training,
            out=str(args.out) if args.out is not None else cfg.out,
        )
    except (ValueError, TypeError) as exc:
        sys.stderr.write(f"geodl train: error: {exc}\n")
        return 2
    distributed = init_distributed()
    rank = torch.distributed.get_rank() if distributed else 0
    try:
        result = train(cfg)
    except (ValueError, TypeError) as exc:
        sys.stderr.write(f"geodl train: error: {exc}\n")
        return 2
    except FloatingPointError as exc:
        sys.stderr.write(f"geodl train: training diverged: {exc}\n")
        return 1
    finally:
        if distributed and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    if rank != 0:
        return 0
    print("\nvalidation errors of the saved model:")
    print(format_metrics(result.valid_metrics))
    if result.test_metrics:
        print("\ntest errors:")
        print(format_metrics(result.test_metrics))
    for name, path in result.files.items():
        print(f"{name:>16}: {path}")
    return 0
