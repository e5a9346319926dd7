"""Small molecules sampled by Langevin MD with GFN2-xTB (tblite) and labelled by it, at 300,
600 and 1000 K. ``python datasets/molecules_gfn2xtb.py`` regenerates the shipped
``datasets/ethanol_gfn2xtb.extxyz.gz``; ``--molecule aspirin --n 1000`` another one.
Needs the ``qm`` extra (``pip install "geodl[qm]"``)."""

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # tblite: one thread is fastest for ~10 atoms

import ase.io  # noqa: E402

from geodl.atoms.ase import MOLECULES, make_molecule_xtb  # noqa: E402

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--molecule", default="ethanol", help=f"one of {', '.join(MOLECULES)}")
    parser.add_argument("--n", type=int, default=300, help="structures (300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=HERE)
    args = parser.parse_args()
    t0 = time.perf_counter()
    frames = make_molecule_xtb(args.molecule, n_structures=args.n, seed=args.seed)
    out = args.out_dir / f"{args.molecule}_gfn2xtb.extxyz.gz"
    ase.io.write(out, frames, format="extxyz")
    print(f"wrote {len(frames)} structures to {out} in {time.perf_counter() - t0:.0f} s")
