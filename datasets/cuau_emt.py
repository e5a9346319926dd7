"""Cu/Au alloys (bulk, vacancy, (111) slab) labelled by ASE's EMT, sampled by Langevin MD
at 300, 600, 900 and 1200 K. ``python datasets/cuau_emt.py`` regenerates the shipped file;
``--n 10000 --out big.extxyz`` a larger one."""

from _common import main

from geodl.atoms.ase import make_cuau_emt

if __name__ == "__main__":
    main(__doc__, "cuau_emt.extxyz.gz", 1000, lambda n, seed: make_cuau_emt(n, seed=seed))
