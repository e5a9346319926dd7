"""Run NVE and Langevin MD through ASE with a trained geodl potential.

    .venv/bin/python examples/md_with_potential.py runs/example/model.pt

Prints the total-energy drift of the NVE run (meV/atom/ps) and the mean temperature of
the Langevin run, and writes an ASE trajectory.
"""

from __future__ import annotations

import argparse

from geodl.atoms import GeoDLCalculator, bundled_dataset, read_structures, run_md

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", help="model file written by geodl train (out/model.pt)")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--trajectory", default="md.traj")
    args = parser.parse_args()
    atoms = read_structures(bundled_dataset("cuau"), index="0").structures[0].copy()
    calc = GeoDLCalculator(args.model, dtype="float64")
    nve = run_md(
        atoms,
        calc,
        ensemble="nve",
        steps=args.steps,
        timestep_fs=2.0,
        temperature_K=300.0,
        log_every=10,
        trajectory=args.trajectory,
    )
    print("NVE:", nve.summary())
    hot = run_md(
        atoms,
        calc,
        ensemble="langevin",
        steps=args.steps,
        timestep_fs=2.0,
        temperature_K=900.0,
        log_every=10,
    )
    print("Langevin 900 K:", hot.summary())
