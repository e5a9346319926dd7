"""Lennard-Jones argon (32 atoms, periodic), Langevin MD at 40, 80 and 120 K (solid and
liquid). ``python datasets/argon_lj.py`` regenerates the shipped file."""

from _common import main

from geodl.atoms.ase import make_argon_lj

if __name__ == "__main__":
    main(__doc__, "argon_lj.extxyz.gz", 300, lambda n, seed: make_argon_lj(n, seed=seed))
