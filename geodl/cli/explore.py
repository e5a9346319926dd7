"""``geodl explore [CONFIG.yaml] --data INIT --reference NAME --out DIR --max-time S [--set
KEY=VALUE ...]`` — active learning: a committee of potentials explores with MD, the
frames where the members disagree are labelled by the reference, until the committee
stops improving (or ``explore.max_labels`` / ``--max-time``).

``--set explore.committee=3`` (or ``committee=3``) sets the loop, ``--set model.r_cut=5``
the members' training config, ``--set reference.accuracy=0.1`` the reference calculator.
Writes ``DIR/model.pt``, ``DIR/dataset.extxyz`` and ``DIR/summary.json``; the same
command resumes a killed run.

Exit codes: 0 done, 2 bad input (an unknown key, reference or file, a missing extra), 3
the user's factory raised.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from geodl.cli._common import EXIT_OK, add_checked, check_output_dir, positive_float
from geodl.cli.label import REFERENCE_HELP


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "config",
        nargs="?",
        type=Path,
        default=None,
        metavar="CONFIG.yaml",
        help="YAML with the training sections and an 'explore' section (optional)",
    )
    parser.add_argument(
        "--data", required=True, metavar="INIT", help="initial frames (labelled here first)"
    )
    parser.add_argument("--reference", required=True, metavar="NAME", help=REFERENCE_HELP)
    add_checked(
        parser,
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="output directory (a run there is resumed)",
        check=check_output_dir,
    )
    add_checked(
        parser,
        "--max-time",
        type=float,
        required=True,
        metavar="S",
        help="wall-clock budget of the whole run in seconds (restarts included)",
        check=positive_float,
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="explore.KEY, a training key (model.r_cut=5) or reference.KEY (repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    from geodl.atoms.explore import explore, load_explore_config
    from geodl.cli.label import parse_options

    reference_pairs = [p for p in args.set if p.strip().startswith("reference.")]
    config_pairs = [p for p in args.set if p not in reference_pairs]
    config = load_explore_config(args.config, config_pairs)
    result = explore(
        args.data,
        args.reference,
        args.out,
        config=config,
        max_time=args.max_time,
        options=parse_options(reference_pairs),
    )
    s = result.summary
    final = s.get("final") or {}
    print(
        f"\n{s['stop_reason']} after {s['iterations']} iterations: {s['labels_used']} labels, "
        f"converged={s['converged']}, {s['elapsed']:.0f} s"
    )
    if final:
        print(
            f"final model: valid force RMSE {1e3 * final['valid_forces_rmse']:.1f} meV/Å, "
            f"energy RMSE {1e3 * final['valid_energy_rmse_per_atom']:.2f} meV/atom"
        )
    for name, path in (("model", result.model), ("dataset", result.dataset)):
        print(f"{name:>8}: {path}")
    print(f"{'summary':>8}: {result.out / 'summary.json'}")
    return EXIT_OK
