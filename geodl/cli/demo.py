"""``geodl demo`` — geodl's main job on bundled data, in a couple of minutes:

1. train a small DeepPot-SE potential on the bundled Cu/Au EMT set (``datasets/``) and
   print the per-epoch table and the test errors;
2. run a short NVE molecular dynamics with it through ASE (:class:`GeoDLCalculator`) and
   print the energy drift;
3. print a symmetry audit of the trained model (``geodl.symmetry.audit``, "atoms" input).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs/demo"),
        metavar="DIR",
        help="output directory (default runs/demo; overwritten)",
    )
    parser.add_argument(
        "--max-time",
        type=float,
        default=90.0,
        metavar="SECONDS",
        help="training budget in seconds (default 90)",
    )
    parser.add_argument("--md-steps", type=int, default=200, help="NVE steps of 2 fs (default 200)")
    parser.add_argument(
        "--quick", action="store_true", help="a tiny version (a few seconds; for tests)"
    )


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from geodl.atoms import (
        GeoDLCalculator,
        TrainConfig,
        bundled_dataset,
        format_metrics,
        run_md,
        train,
    )
    from geodl.symmetry import audit, check_forces, get_group

    torch.set_num_threads(1)  # robust on shared machines; training scales by processes (torchrun)
    data = bundled_dataset("cuau")
    quick = bool(args.quick)
    model = (
        {
            "r_cut": 4.0,
            "r_smooth": 0.5,
            "embed_widths": [4, 8],
            "axis_neurons": 2,
            "fitting_widths": [16],
        }
        if quick
        else {
            "r_cut": 5.0,
            "r_smooth": 0.5,
            "embed_widths": [16, 32, 64],
            "axis_neurons": 8,
            "fitting_widths": [128, 128, 128],
        }
    )
    cfg = TrainConfig.from_dict(
        {
            "data": {
                "train": str(data),
                "test_fraction": 0.1,
                "max_structures": 16 if quick else None,
            },
            "model": model,
            "training": {
                "max_time": None if quick else args.max_time,
                "epochs": 2 if quick else 10000,
                "patience": None,
                "resume": False,
                "progress": False,
            },
            "out": str(args.out),
        },
        source="geodl demo",
    )
    print(
        f"== 1. training a DeepPot-SE potential on {data.name} "
        f"({'quick' if quick else f'{args.max_time:.0f} s budget'}) =="
    )
    try:
        result = train(cfg)
    except (ValueError, TypeError) as exc:
        sys.stderr.write(f"geodl demo: error: {exc}\n")
        return 2
    print("\ntest errors:")
    print(format_metrics(result.test_metrics or result.valid_metrics))
    print(f"model, log and plots in {args.out}/")

    # 2. MD
    from geodl.atoms import read_structures

    atoms = read_structures(data, index="0").structures[0].copy()  # a bulk Cu/Au alloy
    steps = 20 if quick else args.md_steps
    calc = GeoDLCalculator(result.model, dtype="float64")
    print(
        f"\n== 2. NVE molecular dynamics with GeoDLCalculator: {len(atoms)} atoms "
        f"({atoms.get_chemical_formula()}), {steps} steps of 2 fs from 300 K =="
    )
    md = run_md(
        atoms,
        calc,
        ensemble="nve",
        steps=steps,
        timestep_fs=2.0,
        temperature_K=300.0,
        log_every=max(1, steps // 10),
    )
    for t, epot, etot, temp in zip(
        md.time_ps, md.potential, md.total, md.temperature, strict=False
    ):
        print(
            f"  t = {t * 1e3:6.0f} fs  E_pot = {epot:10.4f} eV  E_tot = {etot:10.4f} eV  "
            f"T = {temp:6.1f} K"
        )
    print("  " + md.summary())

    # 3. symmetry audit of the trained model (energy of one structure)
    print("\n== 3. symmetry audit of the trained model (atoms input: species, positions, cell) ==")
    model64 = calc.model  # the float64 copy made for MD
    energy = model64.energy_function()
    inputs = (
        torch.as_tensor([model64.type_map.index(s) for s in atoms.get_chemical_symbols()]),
        torch.as_tensor(atoms.get_positions(), dtype=torch.float64),
        torch.as_tensor(np.asarray(atoms.cell), dtype=torch.float64),
    )
    report = audit(energy, inputs, "invariant", kind="atoms", samples=2 if quick else 4)
    print(report)
    forces = check_forces(energy, get_group("SO3"), inputs, samples=2 if quick else 4)
    print(f"forces under SO3: {forces.verdict} (max rel. error {forces.max_rel_error:.1e})")
    broken = [g for g, v in report.verdicts.items() if v == "broken"]
    if broken or forces.verdict == "broken":
        sys.stderr.write(f"geodl demo: broken symmetries: {broken}\n")
        return 1
    return 0
