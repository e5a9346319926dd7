"""``geodl demo`` — geodl's main job on bundled data, in a couple of minutes:

1. train a small potential (DeepPot-SE, or another family with ``--model-type``) on the
   bundled Cu/Au EMT set (``datasets/``) and print the per-epoch table and the test errors;
2. run a short NVE molecular dynamics with it through ASE (:class:`GeoDLCalculator`) and
   print the energy drift;
3. print a symmetry audit of the trained model (``geodl.symmetry.audit``, "atoms" input).

Exit codes: 0 done and no symmetry broken, 1 a symmetry of the trained model is broken,
2 a bad option.
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
    check_output_dir,
    positive_float,
    positive_int,
)

_QUICK_MODEL = {
    "r_cut": 4.0,
    "r_smooth": 0.5,
    "embed_widths": [4, 8],
    "axis_neurons": 2,
    "fitting_widths": [16],
}
#: the other families: their defaults (tiny ones with --quick), at the demo's cutoffs
_QUICK_FAMILY_MODELS: dict[str, dict[str, Any]] = {
    "equivariant": {"r_cut": 4.0, "channels": 4, "radial_mlp": [8], "readout_mlp": [4]},
}
_MODEL = {
    "r_cut": 5.0,
    "r_smooth": 0.5,
    "embed_widths": [16, 32, 64],
    "axis_neurons": 8,
    "fitting_widths": [128, 128, 128],
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_checked(
        parser,
        "--out",
        type=Path,
        default=Path("runs/demo"),
        metavar="DIR",
        help="output directory (default runs/demo; overwritten)",
        check=check_output_dir,
    )
    add_checked(
        parser,
        "--max-time",
        type=float,
        default=90.0,
        metavar="SECONDS",
        help="training budget in seconds (default 90)",
        check=positive_float,
    )
    add_checked(
        parser,
        "--md-steps",
        type=int,
        default=200,
        help="NVE steps of 2 fs (default 200)",
        check=positive_int,
    )
    parser.add_argument(
        "--model-type",
        default="se_e2_a",
        metavar="TYPE",
        help="the model family to train (model.type; default se_e2_a, e.g. equivariant)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a tiny version (a few seconds; for tests)"
    )


def _model_section(model_type: str, quick: bool) -> dict[str, Any]:
    """The ``model`` section of the demo's run for ``model_type`` (checked by the registry:
    an unknown type is an InputError that lists the valid ones)."""
    from geodl.atoms import resolve_model_type

    family = resolve_model_type(model_type)
    if family.name == "se_e2_a":
        return {"type": "se_e2_a", **(_QUICK_MODEL if quick else _MODEL)}
    if quick:
        return {"type": family.name, **_QUICK_FAMILY_MODELS.get(family.name, {"r_cut": 4.0})}
    return {"type": family.name, "r_cut": 5.0}


def _train(args: argparse.Namespace, data: Path) -> Any:
    """Step 1: train on the bundled set; returns the TrainResult."""
    from geodl.atoms import TrainConfig, format_metrics, train

    quick = bool(args.quick)
    cfg = TrainConfig.from_dict(
        {
            "data": {
                "train": str(data),
                "test_fraction": 0.1,
                "max_structures": 16 if quick else None,
            },
            "model": _model_section(args.model_type, quick),
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
        f"== 1. training a {cfg.model['type']} potential on {data.name} "
        f"({'quick' if quick else f'{args.max_time:.0f} s budget'}) =="
    )
    result = train(cfg)
    print("\ntest errors:")
    print(format_metrics(result.test_metrics or result.valid_metrics))
    print(f"model, log and plots in {args.out}/")
    return result


def _md(args: argparse.Namespace, atoms: Any, model: Any) -> Any:
    """Step 2: NVE MD through the ASE calculator; returns the float64 calculator."""
    from geodl.atoms import GeoDLCalculator, run_md

    steps = 20 if args.quick else args.md_steps
    calc = GeoDLCalculator(model, dtype="float64")
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
    return calc


def _audit(args: argparse.Namespace, atoms: Any, model64: Any) -> list[str]:
    """Step 3: symmetry audit of the energy and forces; returns the broken groups."""
    import numpy as np
    import torch

    from geodl.symmetry import audit, check_forces, get_group

    print("\n== 3. symmetry audit of the trained model (atoms input: species, positions, cell) ==")
    energy = model64.energy_function()
    inputs = (
        torch.as_tensor([model64.type_map.index(s) for s in atoms.get_chemical_symbols()]),
        torch.as_tensor(atoms.get_positions(), dtype=torch.float64),
        torch.as_tensor(np.asarray(atoms.cell), dtype=torch.float64),
    )
    samples = 2 if args.quick else 4
    report = audit(energy, inputs, "invariant", kind="atoms", samples=samples)
    print(report)
    forces = check_forces(energy, get_group("SO3"), inputs, samples=samples)
    print(f"forces under SO3: {forces.verdict} (max rel. error {forces.max_rel_error:.1e})")
    broken = [g for g, v in report.verdicts.items() if v == "broken"]
    return broken + (["SO3 (forces)"] if forces.verdict == "broken" else [])


def run(args: argparse.Namespace) -> int:
    import torch

    from geodl.atoms import bundled_dataset, read_structures

    torch.set_num_threads(1)  # robust on shared machines; training scales by processes (torchrun)
    data = bundled_dataset("cuau")
    result = _train(args, data)
    atoms = read_structures(data, index="0").structures[0].copy()  # a bulk Cu/Au alloy
    calc = _md(args, atoms, result.model)
    broken = _audit(args, atoms, calc.model)  # the float64 copy made for MD
    if broken:
        sys.stderr.write(f"geodl demo: broken symmetries: {broken}\n")
        return EXIT_BROKEN
    return EXIT_OK
