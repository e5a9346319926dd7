"""The ``explore`` section of an active-learning run, next to the training sections.

One YAML file (or none) holds the training configuration of ``geodl train`` (``data``,
``model``, ``training``) and an ``explore`` section; ``--set explore.committee=3`` or a
leaf name that only ``explore`` has (``--set committee=3``) changes it, any other key goes
to the training configuration (``--set model.r_cut=5``). Unknown keys are errors that
list the valid ones.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geodl.atoms.train import TrainConfig, valid_keys
from geodl.errors import InputError

__all__ = ["STARTS", "ExploreConfig", "ExploreRunConfig", "load_explore_config"]

#: where exploration trajectories start (``explore.starts``) -> what that means
STARTS = {
    "initial": "the initial frames in turn",
    "labelled": "a random labelled frame",
}


@dataclass
class ExploreConfig:
    r"""Settings of the active-learning loop (``explore.*`` keys).

    Attributes
    ----------
    committee : int
        Models per committee (4), seeds ``training.seed + k``.
    temperatures : list of float
        MD temperatures in K, cycled over the trajectories ([300, 600, 900, 1200]).
    pressures : list of float or None
        Pressures in GPa of the MD of cells periodic in all directions (Berendsen
        barostat), cycled with the temperatures ([0.0]); ``null``: fixed cells.
    trajectories : int
        MD runs per iteration (8).
    starts : str
        Where the trajectories start (one of :data:`STARTS`): ``"initial"`` (default) —
        the initial frames, every one in turn, shuffled anew each round, as DP-GEN
        explores from the user's configurations, so the explored composition, surfaces
        and defects stay those the user gave; ``"labelled"`` — a random frame of every
        label so far (the set drifts toward what the committee found uncertain).
    md_steps : int
        Steps per trajectory (400).
    timestep_fs : float or None
        MD time step; ``null``: 0.5 fs for structures with hydrogen, else 2 fs.
    sample_every : int
        Frames are taken every this many steps (10).
    friction_per_fs : float
        Langevin friction (0.02 / fs).
    trust_lo, trust_hi : float or "auto"
        Trust window of the committee's max force deviation (eV/Å). ``"auto"``:
        :math:`\sigma_\text{lo}` = the ``trust_quantile`` quantile of the deviation over
        the committee's own training and validation frames,
        :math:`\sigma_\text{hi} = \text{trust\_ratio}\cdot\sigma_\text{lo}`.
    trust_quantile : float
        Quantile of the automatic lower bound (0.95).
    trust_ratio : float
        Automatic ``trust_hi / trust_lo`` (3.0, DP-GEN's customary 0.05/0.15).
    candidate_rate : float
        Adaptive lower level (DP-GEN2's ``adaptive-lower``): when the window holds fewer
        than this share of the explored frames, or fewer than twice the iteration's
        labels (``per_iteration``, less near ``max_labels``), the most uncertain frames
        below :math:`\sigma_\text{lo}` join the pool the pick chooses from until it
        holds the larger of the two (0.25). The reported ``candidate`` fraction is the
        window's own.
    per_iteration : int
        Most frames labelled per iteration (50).
    max_labels : int
        Most reference labels of the whole run, initial frames included (500).
    max_iterations : int
        Most iterations (20).
    epochs, warm_epochs : int
        Epochs of a committee member trained from scratch (120) / initialised from its
        predecessor of the previous iteration (40).
    final_epochs : int
        Epochs of the final model on all labels, initialised from the last committee's
        best member (300).
    final_share : float
        Share of ``--max-time`` kept for the final model (0.25).
    patience : int
        Converged when the last this many iterations, together, improved neither the
        candidate fraction nor the committee's force error on the fixed validation frames
        (those of the initial set) by more than ``tolerance`` (2).
    tolerance : float
        Relative improvement that counts (0.1).
    retries : int
        Times an iteration without candidates and mostly failing frames restarts its MD
        at half the temperatures and time step (3).
    min_distance_ratio : float
        An MD frame blows up when two atoms come closer than this fraction of the sum of
        their covalent radii (0.5).
    abort_ratio : float
        A trajectory ends when the deviation exceeds ``abort_ratio * trust_hi`` (3.0).
    stratify : bool
        Each trajectory (a start and a temperature) gets its share of the pool and the
        pick takes turns over them (true), as DP-GEN caps the frames picked per system
        and condition, so the labels cover every start and temperature instead of the
        hottest, most uncertain runs; false: one pool, picked by uncertainty and
        distance alone.
    swaps : float
        Share of the atoms of a start with several species whose species are shuffled
        among themselves before its trajectory (0.0): new chemical orderings at the same
        composition for alloys, as LAMMPS's ``fix atom/swap`` gives an exploration; keep
        0 for molecules.
    valid_fraction : float
        Share of the labelled frames held out for validation (0.1; each frame keeps its
        role across iterations).
    workers : int
        Processes labelling the picked frames (1).
    seed : int
        Seed of the MD starting frames, velocities and splits (0).
    """

    committee: int = 4
    temperatures: list[float] = field(default_factory=lambda: [300.0, 600.0, 900.0, 1200.0])
    pressures: list[float] | None = field(default_factory=lambda: [0.0])
    trajectories: int = 8
    starts: str = "initial"
    md_steps: int = 400
    timestep_fs: float | None = None
    sample_every: int = 10
    friction_per_fs: float = 0.02
    trust_lo: float | str = "auto"
    trust_hi: float | str = "auto"
    trust_quantile: float = 0.95
    trust_ratio: float = 3.0
    candidate_rate: float = 0.25
    per_iteration: int = 50
    max_labels: int = 500
    max_iterations: int = 20
    epochs: int = 120
    warm_epochs: int = 40
    final_epochs: int = 300
    final_share: float = 0.25
    patience: int = 2
    tolerance: float = 0.1
    retries: int = 3
    min_distance_ratio: float = 0.5
    abort_ratio: float = 3.0
    swaps: float = 0.0
    stratify: bool = True
    valid_fraction: float = 0.1
    workers: int = 1
    seed: int = 0

    @classmethod
    def keys(cls) -> list[str]:
        """The valid keys (``explore.<key>``)."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None, source: str = "config") -> ExploreConfig:
        """Build and validate; unknown keys raise :class:`~geodl.errors.InputError`.

        Examples
        --------
        >>> ExploreConfig.from_dict({"committee": 3, "trust_lo": 0.05}).trust_lo
        0.05
        >>> ExploreConfig.from_dict({"comittee": 3})
        Traceback (most recent call last):
        ...
        geodl.errors.InputError: config: unknown key 'explore.comittee'. Did you mean ...
        """
        d = dict(d or {})
        names = cls.keys()
        for key in d:
            if key not in names:
                close = difflib.get_close_matches(str(key), names, n=2)
                hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
                raise InputError(
                    f"{source}: unknown key 'explore.{key}'.{hint} Valid keys in 'explore': "
                    f"{', '.join(names)}."
                )
        values = {k: _coerce(k, v, source) for k, v in d.items()}
        cfg = cls(**values)
        cfg.validate(source)
        return cfg

    def validate(self, source: str = "config") -> None:
        """Raise :class:`~geodl.errors.InputError` for out-of-range values."""

        def bad(key: str, expected: str) -> InputError:
            return InputError(
                f"{source}: explore.{key} must be {expected}, got {getattr(self, key)!r}."
            )

        for key in ("committee", "trajectories", "md_steps", "sample_every", "per_iteration"):
            if getattr(self, key) < 1:
                raise bad(key, ">= 1")
        for key in ("max_labels", "max_iterations", "epochs", "warm_epochs", "final_epochs"):
            if getattr(self, key) < 1:
                raise bad(key, ">= 1")
        if self.committee < 2:
            raise bad("committee", ">= 2 (a deviation needs two models)")
        if not self.temperatures or any(t <= 0 for t in self.temperatures):
            raise bad("temperatures", "a non-empty list of temperatures > 0 K")
        if self.starts not in STARTS:
            raise bad("starts", "one of " + ", ".join(repr(k) for k in STARTS))
        if not isinstance(self.stratify, bool):
            raise bad("stratify", "true or false")
        if self.pressures is not None and not self.pressures:
            raise bad("pressures", "a non-empty list of GPa or null")
        for key in ("timestep_fs",):
            if getattr(self, key) is not None and getattr(self, key) <= 0:
                raise bad(key, "> 0 or null")
        for key in ("trust_lo", "trust_hi"):
            v = getattr(self, key)
            if v != "auto" and (isinstance(v, str) or v <= 0):
                raise bad(key, "'auto' or a deviation > 0 eV/Å")
        if isinstance(self.trust_lo, float) and isinstance(self.trust_hi, float):
            if self.trust_hi <= self.trust_lo:
                raise bad("trust_hi", f"> trust_lo ({self.trust_lo})")
        checks = {
            "trust_quantile": (0.0 < self.trust_quantile <= 1.0, "in (0, 1]"),
            "trust_ratio": (self.trust_ratio > 1.0, "> 1"),
            "candidate_rate": (0.0 <= self.candidate_rate <= 1.0, "in [0, 1]"),
            "final_share": (0.0 <= self.final_share < 1.0, "in [0, 1)"),
            "valid_fraction": (0.0 < self.valid_fraction < 1.0, "in (0, 1)"),
            "tolerance": (0.0 <= self.tolerance < 1.0, "in [0, 1)"),
            "patience": (self.patience >= 1, ">= 1"),
            "retries": (self.retries >= 0, ">= 0"),
            "workers": (self.workers >= 1, ">= 1"),
            "friction_per_fs": (self.friction_per_fs > 0, "> 0"),
            "min_distance_ratio": (0.0 <= self.min_distance_ratio < 1.0, "in [0, 1)"),
            "abort_ratio": (self.abort_ratio >= 1.0, ">= 1"),
            "swaps": (0.0 <= self.swaps <= 1.0, "in [0, 1]"),
        }
        for key, (ok, expected) in checks.items():
            if not ok:
                raise bad(key, expected)


_INT_KEYS = {f.name for f in dataclasses.fields(ExploreConfig) if f.type in ("int", int)}


def _coerce(key: str, value: Any, source: str) -> Any:
    where = f"{source}: explore.{key}"
    if key in ("temperatures", "pressures"):
        if value is None and key == "pressures":
            return None
        values = value if isinstance(value, (list, tuple)) else [value]
        try:
            return [float(v) for v in values]
        except (TypeError, ValueError):
            raise InputError(f"{where}: expected a list of numbers, got {value!r}.") from None
    if key in ("trust_lo", "trust_hi"):
        if value == "auto":
            return "auto"
        return _number(value, where, "'auto' or a number (eV/Å)")
    if key in ("starts", "stratify"):
        return value  # checked by ExploreConfig.validate
    if key == "timestep_fs":
        return None if value is None else _number(value, where, "a number (fs) or null")
    if key in _INT_KEYS:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise InputError(f"{where}: expected an integer, got {value!r}.")
        return int(value)
    return _number(value, where, "a number")


def _number(value: Any, where: str, expected: str) -> float:
    if isinstance(value, bool):
        raise InputError(f"{where}: expected {expected}, got {value!r}.")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: expected {expected}, got {value!r}.") from None


@dataclass
class ExploreRunConfig:
    """The training configuration of the committee members plus the ``explore`` section."""

    train: TrainConfig = field(default_factory=TrainConfig)
    explore: ExploreConfig = field(default_factory=ExploreConfig)

    def to_dict(self) -> dict[str, Any]:
        """Nested dict: the training sections and ``explore``."""
        d = self.train.to_dict()
        d["explore"] = dataclasses.asdict(self.explore)
        return d

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def _split_override(pair: str) -> tuple[str, str] | None:
    """``("committee", "3")`` when ``pair`` sets an explore key, else ``None``."""
    key, sep, text = pair.partition("=")
    key = key.strip()
    if not sep:
        raise InputError(f"--set: expected KEY=VALUE (e.g. explore.committee=3), got {pair!r}.")
    if key.startswith("explore."):
        return key[len("explore.") :], text
    train_leaves = {k.split(".")[-1] for k in valid_keys()}
    if key in ExploreConfig.keys():
        if key in train_leaves:
            raise InputError(
                f"--set: {key!r} is both explore.{key} and a training key; write "
                f"explore.{key}=... or its full training name."
            )
        return key, text
    return None


def load_explore_config(
    path: str | Path | None = None, overrides: Iterable[str] = ()
) -> ExploreRunConfig:
    """Read a YAML file (or the defaults) and apply ``--set`` overrides.

    Examples
    --------
    >>> cfg = load_explore_config(overrides=["committee=3", "model.r_cut=4.5"])
    >>> cfg.explore.committee, cfg.train.model["r_cut"]
    (3, 4.5)
    """
    import yaml

    raw: dict[str, Any] = {}
    source = "config"
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"config: no such file {str(p)!r}; pass the path to a YAML file.")
        try:
            raw = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as exc:
            raise InputError(f"{p}: not valid YAML ({exc}).") from exc
        if not isinstance(raw, dict):
            raise InputError(f"{p}: expected a mapping of sections, got {type(raw).__name__}.")
        source = str(p)
    explore = dict(raw.pop("explore", None) or {})
    train_pairs = []
    for pair in overrides:
        split = _split_override(pair)
        if split is None:
            train_pairs.append(pair)
        else:
            explore[split[0]] = yaml.safe_load(split[1]) if split[1].strip() else None
    try:
        train = TrainConfig.from_dict(raw, source=source).override(train_pairs)
    except (TypeError, ValueError) as exc:
        raise InputError(str(exc)) from None
    return ExploreRunConfig(train, ExploreConfig.from_dict(explore, source=source))
