"""Small organic molecules labelled by RDKit's MMFF94 (an MD17-like set made here),
Langevin MD at 300, 600 and 1000 K. ``python datasets/organics_mmff94.py --molecule aspirin``
regenerates ``datasets/aspirin_mmff94.extxyz.gz``; ``--molecule all`` every shipped one."""

import argparse
import time
from pathlib import Path

import ase.io

from geodl.atoms.ase import MOLECULES, make_molecule_mmff94

HERE = Path(__file__).resolve().parent
SHIPPED = ("ethanol", "malonaldehyde", "aspirin")

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--molecule",
        default="all",
        help=f"one of {', '.join(sorted(MOLECULES))}, or 'all' (the shipped ones)",
    )
    parser.add_argument("--n", type=int, default=300, help="structures per molecule (300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=HERE)
    args = parser.parse_args()
    names = SHIPPED if args.molecule == "all" else (args.molecule,)
    for name in names:
        t0 = time.perf_counter()
        frames = make_molecule_mmff94(name, n_structures=args.n, seed=args.seed)
        out = args.out_dir / f"{name}_mmff94.extxyz.gz"
        ase.io.write(out, frames, format="extxyz")
        print(f"wrote {len(frames)} structures to {out} in {time.perf_counter() - t0:.0f} s")
