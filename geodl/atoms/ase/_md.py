"""Molecular dynamics through ASE with any calculator (NVE velocity Verlet or Langevin),
and the energy drift of an NVE run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from ase import Atoms, units

__all__ = ["MDResult", "run_md", "energy_drift", "ENSEMBLES"]


def thermalize(atoms: Atoms, temperature_K: float, rng: Any) -> None:
    """Maxwell-Boltzmann momenta at ``temperature_K`` with zero total momentum
    (``thermalize_momenta`` on ASE >= 3.29, ``MaxwellBoltzmannDistribution`` before)."""
    from ase.md import velocitydistribution as vd

    if hasattr(vd, "thermalize_momenta"):
        vd.thermalize_momenta(atoms, temperature_K, rng=rng)
    else:  # pragma: no cover - older ASE
        vd.MaxwellBoltzmannDistribution(atoms, temperature_K=temperature_K, rng=rng)
    vd.Stationary(atoms)


def _nve(
    atoms: Atoms, timestep: float, temperature_K: float, friction: float, rng: np.random.Generator
) -> Any:
    from ase.md.verlet import VelocityVerlet

    return VelocityVerlet(atoms, timestep)


def _langevin(
    atoms: Atoms, timestep: float, temperature_K: float, friction: float, rng: np.random.Generator
) -> Any:
    from ase.md.langevin import Langevin

    return Langevin(
        atoms,
        timestep,
        temperature_K=temperature_K,
        friction=friction / units.fs,
        fixcm=False,
        rng=rng,
    )


#: ensemble name -> factory(atoms, timestep, temperature_K, friction_per_fs, rng).
ENSEMBLES: dict[str, Callable[..., Any]] = {"nve": _nve, "langevin": _langevin}
#: the names of :data:`ENSEMBLES`, for type checkers
Ensemble = Literal["nve", "langevin"]


@dataclass
class MDResult:
    """Energies along an MD run (one row per logged step).

    Attributes
    ----------
    time_ps : ndarray
        ``(T,)`` time in ps.
    potential, kinetic, total : ndarray
        ``(T,)`` energies in eV.
    temperature : ndarray
        ``(T,)`` kinetic temperature in K.
    n_atoms : int
    drift_per_atom_per_ps : float
        Slope of the total energy per atom against time (eV/atom/ps), see
        :func:`energy_drift`.
    """

    time_ps: np.ndarray
    potential: np.ndarray
    kinetic: np.ndarray
    total: np.ndarray
    temperature: np.ndarray
    n_atoms: int
    drift_per_atom_per_ps: float

    def summary(self) -> str:
        """One line: duration, mean temperature, drift and fluctuation."""
        fluct = float(np.std(self.total) / self.n_atoms)
        return (
            f"{len(self.time_ps) - 1} frames over {self.time_ps[-1]:.3f} ps, "
            f"<T> = {self.temperature.mean():.0f} K, total-energy drift "
            f"{self.drift_per_atom_per_ps * 1e3:+.2g} meV/atom/ps, fluctuation "
            f"{fluct * 1e3:.3f} meV/atom"
        )


def energy_drift(time_ps: np.ndarray, total: np.ndarray, n_atoms: int) -> float:
    r"""Least-squares slope of the total energy per atom against time, eV/atom/ps.

    .. math::

        \text{drift} = \frac{\sum_t (t-\bar t)(E_t/N - \bar E/N)}{\sum_t (t-\bar t)^2}

    Examples
    --------
    >>> energy_drift(np.array([0.0, 1.0, 2.0]), np.array([0.0, 2.0, 4.0]), 2)
    1.0
    """
    t = np.asarray(time_ps, dtype=float)
    e = np.asarray(total, dtype=float) / n_atoms
    if len(t) < 2:
        raise ValueError("energy_drift: need at least two frames.")
    tc = t - t.mean()
    return float((tc * (e - e.mean())).sum() / (tc * tc).sum())


def run_md(
    atoms: Atoms,
    calculator: Any = None,
    *,
    ensemble: Ensemble = "nve",
    steps: int = 100,
    timestep_fs: float = 1.0,
    temperature_K: float = 300.0,
    friction_per_fs: float = 0.01,
    log_every: int = 1,
    seed: int = 0,
    trajectory: str | None = None,
) -> MDResult:
    """Run MD with ASE and record the energies.

    Velocities start from a Maxwell-Boltzmann distribution at ``temperature_K`` (zero
    total momentum) unless the atoms already carry momenta.

    Parameters
    ----------
    atoms : ase.Atoms
        The structure (modified in place: positions and momenta advance).
    calculator : ase Calculator, optional
        Attached to ``atoms`` when given (e.g. :class:`~geodl.atoms.GeoDLCalculator`).
    ensemble : str
        ``"nve"`` (velocity Verlet) or ``"langevin"``.
    steps, timestep_fs, temperature_K, friction_per_fs, log_every, seed
        Integration settings.
    trajectory : str, optional
        Write an ASE trajectory file.

    Examples
    --------
    >>> from ase.build import bulk
    >>> from ase.calculators.emt import EMT
    >>> res = run_md(bulk("Cu", cubic=True).repeat(2), EMT(), steps=10, timestep_fs=2.0)
    >>> len(res.time_ps)
    11
    """
    if ensemble not in ENSEMBLES:
        raise ValueError(
            f"run_md: unknown ensemble {ensemble!r}. Valid ensembles: {', '.join(ENSEMBLES)}."
        )
    if steps < 1 or log_every < 1:
        raise ValueError("run_md: steps and log_every must be >= 1.")
    if calculator is not None:
        atoms.calc = calculator
    if atoms.calc is None:
        raise ValueError("run_md: the atoms have no calculator; pass calculator=...")
    rng = np.random.default_rng(seed)
    if not atoms.has("momenta") or not np.any(atoms.get_momenta()):
        thermalize(atoms, temperature_K, rng)
    dyn = ENSEMBLES[ensemble](atoms, timestep_fs * units.fs, temperature_K, friction_per_fs, rng)
    rows: list[tuple[float, float, float, float]] = []

    def record() -> None:
        epot = atoms.get_potential_energy()
        ekin = atoms.get_kinetic_energy()
        rows.append((dyn.get_time() / (1000 * units.fs), epot, ekin, atoms.get_temperature()))

    dyn.attach(record, interval=log_every)
    if trajectory is not None:
        from ase.io.trajectory import Trajectory

        traj = Trajectory(trajectory, "w", atoms)
        dyn.attach(traj.write, interval=log_every)
    dyn.run(steps)
    if trajectory is not None:
        traj.close()
    arr = np.array(rows)
    total = arr[:, 1] + arr[:, 2]
    return MDResult(
        time_ps=arr[:, 0],
        potential=arr[:, 1],
        kinetic=arr[:, 2],
        total=total,
        temperature=arr[:, 3],
        n_atoms=len(atoms),
        drift_per_atom_per_ps=energy_drift(arr[:, 0], total, len(atoms)),
    )
