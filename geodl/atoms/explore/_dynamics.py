"""Exploration MD with a committee's mean model; blow-ups end a trajectory, never the run.

A trajectory runs Langevin dynamics (NVT) — or, for cells periodic in all three
directions with a pressure, Berendsen NPT — and keeps a frame every ``sample_every``
steps with its committee deviation. It ends early, and says why, when

* two atoms come closer than ``min_distance_ratio`` times the sum of their covalent
  radii (``"overlap"``);
* an energy, force, position or deviation is not finite (``"nan"``);
* the deviation exceeds ``abort_deviation`` (``"deviation"``): the model is lost there;
  that frame is kept (it is a sound geometry the committee does not know);
* the cell volume changes by more than a factor 2 (``"cell"``);
* a member raises on the geometry (``"error"``: e.g. the model's own distance check).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ase import Atoms, units

from geodl.atoms.explore._committee import CommitteeCalculator

__all__ = ["Trajectory", "default_timestep", "explore_md", "swap_species"]


def default_timestep(atoms: Atoms) -> float:
    """0.5 fs when the structure has hydrogen, else 2 fs.

    Examples
    --------
    >>> from ase.build import molecule, bulk
    >>> default_timestep(molecule("H2O")), default_timestep(bulk("Cu"))
    (0.5, 2.0)
    """
    return 0.5 if 1 in set(atoms.numbers.tolist()) else 2.0


def swap_species(atoms: Atoms, fraction: float, rng: np.random.Generator) -> Atoms:
    """A copy of ``atoms`` whose species are shuffled among ``round(fraction * N)``
    randomly chosen atoms: the composition stays, the chemical ordering changes (a
    structure with one species comes back unchanged).

    Symmetry
    --------
    Keeps the composition (the multiset of species), positions, cell and ``info``.

    Examples
    --------
    >>> from ase.build import bulk
    >>> a = bulk("Cu", cubic=True).repeat(2); a.numbers[:16] = 79
    >>> b = swap_species(a, 0.5, np.random.default_rng(0))
    >>> sorted(b.numbers) == sorted(a.numbers), (b.numbers != a.numbers).any()
    (True, np.True_)
    """
    out = atoms.copy()  # (ASE's copy leaves the calculator behind)
    m = int(round(fraction * len(out)))
    if m < 2 or len(set(out.numbers.tolist())) < 2:
        return out
    chosen = rng.choice(len(out), size=m, replace=False)
    out.numbers[chosen] = out.numbers[rng.permutation(chosen)]
    return out


@dataclass
class Trajectory:
    """Frames of one exploration run.

    Attributes
    ----------
    frames : list of ase.Atoms
        Sampled frames (bare: numbers, positions, cell, pbc, ``info`` of the start), and
        the last frame of a ``"deviation"`` stop.
    deviations : ndarray
        ``(F,)`` max force deviation of each frame (eV/Å).
    blowup : str or None
        Why the trajectory ended early (see the module docstring), or None.
    blowup_deviation : float
        Deviation at the blow-up (nan when not known).
    steps : int
        Steps integrated.
    error : str
        The exception text when ``blowup == "error"``.
    """

    frames: list[Atoms] = field(default_factory=list)
    deviations: np.ndarray = field(default_factory=lambda: np.zeros(0))
    blowup: str | None = None
    blowup_deviation: float = float("nan")
    steps: int = 0
    error: str = ""


class _BlowUp(Exception):
    def __init__(self, reason: str, deviation: float = float("nan")) -> None:
        super().__init__(reason)
        self.reason = reason
        self.deviation = deviation


def _dynamics(
    atoms: Atoms,
    timestep_fs: float,
    temperature_K: float,
    pressure_GPa: float | None,
    friction_per_fs: float,
    rng: np.random.Generator,
) -> Any:
    if pressure_GPa is not None and bool(np.all(atoms.pbc)):
        from ase.md.nptberendsen import NPTBerendsen

        return NPTBerendsen(
            atoms,
            timestep_fs * units.fs,
            temperature_K=temperature_K,
            pressure_au=pressure_GPa * units.GPa,
            taut=100 * units.fs,
            taup=1000 * units.fs,
            compressibility_au=4.57e-5 / units.bar,
            fixcm=False,
        )
    from ase.md.langevin import Langevin

    return Langevin(
        atoms,
        timestep_fs * units.fs,
        temperature_K=temperature_K,
        friction=friction_per_fs / units.fs,
        fixcm=False,
        rng=rng,
    )


def explore_md(
    start: Atoms,
    calc: CommitteeCalculator,
    *,
    temperature_K: float,
    steps: int,
    timestep_fs: float,
    sample_every: int,
    pressure_GPa: float | None = None,
    friction_per_fs: float = 0.02,
    seed: int = 0,
    abort_deviation: float = math.inf,
    min_distance_ratio: float = 0.5,
) -> Trajectory:
    """Run one exploration trajectory from ``start`` (see the module docstring).

    Examples
    --------
    >>> import torch
    >>> from ase.build import bulk
    >>> from geodl.atoms import EnergyModel, EnergyModelConfig
    >>> from geodl.atoms.explore import Committee
    >>> cfg = dict(type_map=["Cu"], r_cut=4.0, r_smooth=3.0, embed_widths=(4,),
    ...            axis_neurons=2, fitting_widths=(8,))
    >>> calc = CommitteeCalculator(Committee([EnergyModel(EnergyModelConfig(**cfg))
    ...                                       for _ in range(2)]))
    >>> traj = explore_md(bulk("Cu", cubic=True).repeat(2), calc, temperature_K=300,
    ...                   steps=20, timestep_fs=2.0, sample_every=10)
    >>> len(traj.frames), traj.deviations.shape
    (2, (2,))
    """
    from geodl.atoms.ase import thermalize

    rng = np.random.default_rng(seed)
    atoms = Atoms(numbers=start.numbers, positions=start.positions, cell=start.cell, pbc=start.pbc)
    atoms.info.update({k: v for k, v in start.info.items() if k in ("charge", "spin", "smiles")})
    atoms.calc = calc
    thermalize(atoms, temperature_K, rng)
    dyn = _dynamics(atoms, timestep_fs, temperature_K, pressure_GPa, friction_per_fs, rng)
    watch = _Watch(atoms, calc, sample_every, abort_deviation, min_distance_ratio)
    dyn.attach(watch, interval=1)
    traj = watch.traj
    try:
        dyn.run(steps)
    except _BlowUp as exc:
        traj.blowup, traj.blowup_deviation = exc.reason, exc.deviation
        if exc.reason == "deviation":
            watch.keep(exc.deviation)
    except (ValueError, FloatingPointError, RuntimeError) as exc:
        # a member rejected the geometry (e.g. its min_distance check): the MD went wrong
        traj.blowup = "error"
        traj.error = f"{type(exc).__name__}: {exc}"
    traj.deviations = np.asarray(watch.deviations, dtype=float)
    traj.steps = watch.steps
    return traj


class _Watch:
    """The observer called after every MD step: blow-up checks, and a frame every
    ``sample_every`` steps."""

    def __init__(
        self,
        atoms: Atoms,
        calc: CommitteeCalculator,
        sample_every: int,
        abort_deviation: float,
        min_distance_ratio: float,
    ) -> None:
        self.atoms, self.calc = atoms, calc
        self.sample_every = sample_every
        self.abort_deviation = abort_deviation
        self.min_distance_ratio = min_distance_ratio
        self.volume0 = atoms.get_volume() if np.all(atoms.pbc) else None
        self.traj = Trajectory()
        self.deviations: list[float] = []
        self.steps = 0

    def __call__(self) -> None:
        atoms = self.atoms
        self.steps += 1
        forces = atoms.get_forces()  # evaluated (and cached) at the current positions
        res = self.calc.results
        dev = float(res["max_force_deviation"])
        if not (np.isfinite(forces).all() and np.isfinite(atoms.positions).all()):
            raise _BlowUp("nan", dev)
        if not math.isfinite(dev):
            raise _BlowUp("nan")
        if res["min_distance_ratio"] < self.min_distance_ratio:
            raise _BlowUp("overlap", dev)
        if self.volume0 is not None and not 0.5 < atoms.get_volume() / self.volume0 < 2.0:
            raise _BlowUp("cell", dev)
        if dev > self.abort_deviation:
            raise _BlowUp("deviation", dev)
        if self.steps % self.sample_every == 0:
            self.keep(dev)

    def keep(self, dev: float) -> None:
        a = self.atoms
        frame = Atoms(numbers=a.numbers, positions=a.positions, cell=a.cell, pbc=a.pbc)
        frame.info.update(a.info)
        self.traj.frames.append(frame)
        self.deviations.append(dev)
