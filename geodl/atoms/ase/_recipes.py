"""Deterministic dataset recipes: structures sampled by ASE molecular dynamics at several
temperatures and labelled by a reference calculator (see :mod:`geodl.atoms.ase._reference`).

Every recipe is a pure function of its arguments (same ``seed`` -> same structures, same
labels). The scripts in ``datasets/`` call them to write the shipped files and larger ones.

* :func:`make_cuau_emt` — Cu/Au alloys with ASE's EMT: bulk, bulk with a vacancy, and a
  (111) surface slab, random compositions, Langevin MD at several temperatures.
* :func:`make_molecule_mmff94` — one small organic molecule (ethanol, aspirin, ...) with
  RDKit's MMFF94 (an MD17-like set made here).
* :func:`make_argon_lj` — Lennard-Jones argon, solid and liquid.
* :func:`make_molecule_xtb` — one small molecule sampled by MD with GFN2-xTB (tblite)
  itself and labelled by it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import Calculator
from ase.calculators.singlepoint import SinglePointCalculator

from geodl.atoms.ase._reference import (
    ARGON_SIGMA,
    MMFF94Calculator,
    molecule_from_smiles,
    reference_calculator,
)

#: SMILES of the organic molecules of the MD17-like set.
MOLECULES: dict[str, str] = {
    "ethanol": "CCO",
    "malonaldehyde": "O=CC=CO",
    "aspirin": "CC(=O)Oc1ccccc1C(=O)O",
    "benzene": "c1ccccc1",
    "uracil": "O=C1C=CNC(=O)N1",
}


def _labelled_copy(atoms: Atoms, stress: bool) -> Atoms:
    """Copy of ``atoms`` carrying its current reference labels in a SinglePointCalculator."""
    calc = atoms.calc
    assert calc is not None
    results = {
        "energy": float(atoms.get_potential_energy()),
        "forces": atoms.get_forces().copy(),
    }
    if stress:
        results["stress"] = atoms.get_stress(voigt=True).copy()
    out = Atoms(
        numbers=atoms.numbers.copy(),
        positions=atoms.positions.copy(),
        cell=atoms.cell.copy(),
        pbc=atoms.pbc.copy(),
    )
    out.calc = SinglePointCalculator(out, **results)
    return out


def sample_md(
    atoms: Atoms,
    calc: Calculator,
    temperature_K: float,
    n_frames: int,
    *,
    timestep_fs: float,
    every: int,
    equilibrate: int,
    seed: int,
    friction_per_fs: float = 0.02,
    stress: bool = False,
    info: dict | None = None,
) -> list[Atoms]:
    """Run Langevin MD with ``calc`` and return ``n_frames`` labelled snapshots.

    Snapshots are taken every ``every`` steps after ``equilibrate`` steps. Deterministic
    for a given ``seed``.
    """
    from ase.md.langevin import Langevin

    from geodl.atoms.ase._md import thermalize

    rng = np.random.RandomState(seed)
    atoms = atoms.copy()
    atoms.calc = calc
    thermalize(atoms, temperature_K, rng)
    dyn = Langevin(
        atoms,
        timestep_fs * units.fs,
        temperature_K=temperature_K,
        friction=friction_per_fs / units.fs,
        fixcm=False,
        rng=rng,
    )
    dyn.run(equilibrate)
    frames = []
    for _ in range(n_frames):
        dyn.run(every)
        frame = _labelled_copy(atoms, stress)
        frame.info.update(info or {})
        frame.info["temperature_K"] = float(temperature_K)
        frames.append(frame)
    return frames


def _check_runs(name: str, temperatures: Sequence[float], frames_per_run: int = 1) -> None:
    """Reject settings that would divide by zero or never finish."""
    if len(temperatures) == 0:
        raise ValueError(f"{name}: 'temperatures' is empty; pass at least one temperature in K.")
    if frames_per_run < 1:
        raise ValueError(f"{name}: 'frames_per_run' must be >= 1, got {frames_per_run!r}.")


def _cuau_structure(
    kind: str, x_au: float, rng: np.random.RandomState, others: Mapping[str, float] | None = None
) -> Atoms:
    from ase.build import bulk, fcc111

    a = 3.61 * (1.0 - x_au) + 4.08 * x_au  # Vegard's law between Cu and Au
    if kind in ("bulk", "vacancy"):
        atoms = bulk("Cu", "fcc", a=a, cubic=True).repeat((2, 2, 2))  # 32 atoms
        strain = np.eye(3) + rng.uniform(-0.02, 0.02, size=(3, 3))
        strain = 0.5 * (strain + strain.T)
        atoms.set_cell(atoms.cell[:] @ strain, scale_atoms=True)
    elif kind == "slab":
        atoms = fcc111("Cu", size=(2, 2, 8), a=a, vacuum=5.0)  # 32 atoms, pbc (T, T, F)
    else:  # pragma: no cover - make_cuau_emt validates kinds
        raise ValueError(kind)
    n = len(atoms)
    n_au = int(round(x_au * n))
    symbols = np.array(["Cu"] * n, dtype=object)
    order = rng.permutation(n)
    symbols[order[:n_au]] = "Au"
    start = n_au
    for element, fraction in (others or {}).items():  # further EMT elements on random sites
        count = int(round(fraction * n))
        symbols[order[start : start + count]] = element
        start += count
    atoms.set_chemical_symbols(list(symbols))
    if kind == "vacancy":
        del atoms[int(rng.randint(n))]
    atoms.rattle(0.05, seed=int(rng.randint(2**31)))
    return atoms


def make_cuau_emt(
    n_structures: int = 1000,
    seed: int = 0,
    temperatures: Sequence[float] = (300.0, 600.0, 900.0, 1200.0),
    kinds: Sequence[str] = ("bulk", "vacancy", "slab"),
    frames_per_run: int = 10,
    progress: Callable[[int], None] | None = None,
    others: Mapping[str, float] | None = None,
) -> list[Atoms]:
    """Cu/Au alloys labelled by EMT, sampled by Langevin MD (2 fs steps, every 20 steps).

    Runs cycle through (kind, temperature); each run starts from a fresh random composition
    (Au fraction uniform in [0, 1]) and contributes ``frames_per_run`` snapshots. Periodic
    structures (bulk, vacancy) carry the stress; slabs do not. ``others`` puts further
    EMT elements on random sites (``{"Ag": 0.25}``: a quarter of the sites; the Au fraction
    is then drawn in [0, 1 - 0.25]).

    Examples
    --------
    >>> frames = make_cuau_emt(n_structures=4, frames_per_run=2)
    >>> len(frames), len(frames[0])
    (4, 32)
    """
    bad = [k for k in kinds if k not in ("bulk", "vacancy", "slab")]
    if bad or not kinds:
        raise ValueError(
            f"make_cuau_emt: kinds must be a non-empty subset of 'bulk', 'vacancy', 'slab'; "
            f"got {list(kinds)!r}."
        )
    _check_runs("make_cuau_emt", temperatures, frames_per_run)
    rng = np.random.RandomState(seed)
    frames: list[Atoms] = []
    combos = [(k, t) for t in temperatures for k in kinds]
    run = 0
    while len(frames) < n_structures:
        kind, temp = combos[run % len(combos)]
        x_au = float(rng.uniform(0.0, 1.0 - sum((others or {}).values())))
        atoms = _cuau_structure(kind, x_au, rng, others)
        n = min(frames_per_run, n_structures - len(frames))
        frames += sample_md(
            atoms,
            reference_calculator("emt"),
            temp,
            n,
            timestep_fs=2.0,
            every=20,
            equilibrate=100,
            seed=int(rng.randint(2**31)),
            stress=kind != "slab",
            info={"kind": kind, "x_au": round(x_au, 4)},
        )
        run += 1
        if progress is not None:
            progress(len(frames))
    return frames


def make_molecule_mmff94(
    name: str = "ethanol",
    n_structures: int = 200,
    seed: int = 0,
    temperatures: Sequence[float] = (300.0, 600.0, 1000.0),
    smiles: str | None = None,
) -> list[Atoms]:
    """One molecule labelled by MMFF94 (RDKit), Langevin MD at several temperatures.

    0.5 fs steps, one snapshot every 20 steps; ``n_structures`` are split evenly over the
    temperatures.

    Examples
    --------
    >>> frames = make_molecule_mmff94("ethanol", n_structures=3)
    >>> frames[0].get_chemical_formula()
    'C2H6O'
    """
    return _molecule_md(
        "make_molecule_mmff94",
        name,
        smiles,
        n_structures,
        seed,
        temperatures,
        lambda atoms, mol: MMFF94Calculator(mol),
        with_smiles=False,
    )


def make_molecule_xtb(
    name: str = "ethanol",
    n_structures: int = 300,
    seed: int = 0,
    temperatures: Sequence[float] = (300.0, 600.0, 1000.0),
    method: str = "gfn2-xtb",
    smiles: str | None = None,
) -> list[Atoms]:
    """One molecule sampled by Langevin MD with an xTB method (tblite) and labelled by it.

    The start is the MMFF94-optimised geometry of the SMILES; 0.5 fs steps, one snapshot
    every 20 steps after 200; ``n_structures`` split evenly over the temperatures.
    ``info["smiles"]`` records the molecule.

    Examples
    --------
    >>> frames = make_molecule_xtb("ethanol", n_structures=2, temperatures=(300.0,))
    >>> frames[0].get_chemical_formula(), sorted(frames[0].calc.results)
    ('C2H6O', ['energy', 'forces'])
    """
    return _molecule_md(
        "make_molecule_xtb",
        name,
        smiles,
        n_structures,
        seed,
        temperatures,
        lambda atoms, mol: reference_calculator(method, atoms),
        with_smiles=True,
    )


def _molecule_md(
    recipe: str,
    name: str,
    smiles: str | None,
    n_structures: int,
    seed: int,
    temperatures: Sequence[float],
    make_calc: Callable[[Atoms, object], Calculator],
    with_smiles: bool,
) -> list[Atoms]:
    """Langevin MD of one molecule (0.5 fs steps, a frame every 20 after 200) with the
    calculator ``make_calc(atoms, mol)``; frames split evenly over the temperatures."""
    if smiles is None:
        if name not in MOLECULES:
            raise ValueError(
                f"name: unknown molecule {name!r}. Valid names: {', '.join(sorted(MOLECULES))}"
                "; or pass smiles=..."
            )
        smiles = MOLECULES[name]
    _check_runs(recipe, temperatures)
    atoms, mol = molecule_from_smiles(smiles, seed=seed)
    rng = np.random.RandomState(seed)
    frames: list[Atoms] = []
    per = [n_structures // len(temperatures)] * len(temperatures)
    for i in range(n_structures - sum(per)):
        per[i] += 1
    info = {"molecule": name, **({"smiles": smiles} if with_smiles else {})}
    for temp, n in zip(temperatures, per, strict=False):
        if n == 0:
            continue
        frames += sample_md(
            atoms,
            make_calc(atoms, mol),
            temp,
            n,
            timestep_fs=0.5,
            every=20,
            equilibrate=200,
            seed=int(rng.randint(2**31)),
            friction_per_fs=0.01,
            info=info,
        )
    return frames


def make_argon_lj(
    n_structures: int = 300,
    seed: int = 0,
    temperatures: Sequence[float] = (40.0, 80.0, 120.0),
) -> list[Atoms]:
    """Lennard-Jones argon, 32 atoms in a periodic fcc box (a = 5.26 Å, scaled by a random
    ±3 % strain per run), Langevin MD with 5 fs steps, one snapshot every 20 steps.
    Carries energy, forces and stress.

    Examples
    --------
    >>> frames = make_argon_lj(n_structures=2)
    >>> len(frames[0]), bool(frames[0].pbc.all())
    (32, True)
    """
    from ase.build import bulk

    _check_runs("make_argon_lj", temperatures)
    rng = np.random.RandomState(seed)
    a0 = 2 ** (2 / 3) * ARGON_SIGMA * 1.09  # ~5.26 Å, near the fcc minimum
    frames: list[Atoms] = []
    run = 0
    while len(frames) < n_structures:
        temp = temperatures[run % len(temperatures)]
        scale = 1.0 + rng.uniform(-0.03, 0.03)
        atoms = bulk("Ar", "fcc", a=a0 * scale, cubic=True).repeat((2, 2, 2))
        atoms.rattle(0.02, seed=int(rng.randint(2**31)))
        n = min(10, n_structures - len(frames))
        frames += sample_md(
            atoms,
            reference_calculator("lj-argon"),
            temp,
            n,
            timestep_fs=5.0,
            every=20,
            equilibrate=100,
            seed=int(rng.randint(2**31)),
            friction_per_fs=0.005,
            stress=True,
        )
        run += 1
    return frames
