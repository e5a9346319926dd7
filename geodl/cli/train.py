"""``geodl train [CONFIG.yaml] [--data FILE] [--valid FILE] [--out DIR] [--max-time SECONDS]
[--force] [--allow-large] [--set key=value ...]`` — train an interatomic potential; writes
``model.pt``, ``checkpoint.pt``, ``log.csv``, ``config.yaml`` and PNG plots into ``--out``.

A finished run in ``--out`` is not trained again (exit 0) unless ``--force`` or
``--set training.resume=true``.

Several processes: ``torchrun --nproc_per_node=2 --no-python geodl train ...``.

Exit codes: 0 trained (or resumed and finished, or already complete), 1 training
diverged, 2 a bad option, config key, value or file (a corrupt checkpoint in ``--out``
included, or a config that differs from the run there), 128 + the signal number (130,
143) when Ctrl-C / SIGTERM stopped the run after writing a checkpoint.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from geodl.cli._common import (
    EXIT_BROKEN,
    EXIT_OK,
    add_checked,
    check_device,
    check_input_file,
    check_output_dir,
    check_threads,
    positive_float,
)


def _config_file(value: Any, option: str) -> Path:
    return check_input_file(value, option, "give a YAML file (see docs/training.md).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_checked(
        parser,
        "config",
        nargs="?",
        type=Path,
        default=None,
        metavar="CONFIG.yaml",
        help="YAML config (optional; every key has a default, see docs/training.md)",
        check=_config_file,
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
    add_checked(
        parser,
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output directory (out; default geodl-run)",
        check=check_output_dir,
    )
    add_checked(
        parser,
        "--max-time",
        type=float,
        default=None,
        metavar="SECONDS",
        help="wall-clock budget in seconds (training.max_time)",
        check=positive_float,
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="start over in --out even when it holds a run (its files are replaced)",
    )
    parser.add_argument(
        "--allow-large",
        action="store_true",
        help="train a model above the size limits (training.allow_large)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set training.lr=1e-3 or "
        "--set model.r_cut=5 (repeatable)",
    )


def build_config(args: argparse.Namespace) -> Any:
    """The training config: CONFIG.yaml, then ``--set``, then the named options; checked
    for what only this machine can tell (the device, the threads, the output directory)."""
    import dataclasses

    from geodl.atoms import load_config

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
        training = dataclasses.replace(training, max_time=float(args.max_time))
    if args.allow_large:
        training = dataclasses.replace(training, allow_large=True)
    out = str(args.out) if args.out is not None else cfg.out
    cfg = dataclasses.replace(cfg, data=data, training=training, out=out)
    if cfg.out:
        check_output_dir(cfg.out, "--out" if args.out is not None else "out")
    check_device(cfg.training.device, "training.device")
    if cfg.training.num_threads is not None:
        check_threads(cfg.training.num_threads, "training.num_threads")
    return cfg


def _show_warning(message: Warning | str, *args: object, **kwargs: object) -> None:
    sys.stderr.write(f"geodl train: warning: {message}\n")


def run(args: argparse.Namespace) -> int:
    import warnings

    with warnings.catch_warnings():
        warnings.showwarning = _show_warning  # suspicious values: one line each
        return _train(args)


def _train(args: argparse.Namespace) -> int:
    import torch

    from geodl.atoms import format_metrics, train
    from geodl.atoms.train import TrainingInterrupted, init_distributed

    cfg = build_config(args)
    distributed = init_distributed()
    rank = torch.distributed.get_rank() if distributed else 0
    try:
        result = train(cfg, force=bool(args.force))
    except TrainingInterrupted as exc:  # a checkpoint was written: exit 128 + signal
        sys.stderr.write(f"geodl train: {exc}\n")
        return exc.exit_code
    except FloatingPointError as exc:
        sys.stderr.write(f"geodl train: training diverged: {exc}\n")
        return EXIT_BROKEN
    finally:
        if distributed and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    if rank != 0:
        return EXIT_OK
    print("\nvalidation errors of the saved model:")
    print(format_metrics(result.valid_metrics))
    if result.test_metrics:
        print("\ntest errors:")
        print(format_metrics(result.test_metrics))
    for name, path in result.files.items():
        print(f"{name:>16}: {path}")
    return EXIT_OK
