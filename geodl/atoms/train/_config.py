"""The training configuration: one YAML file, documented defaults, unknown keys are errors.

A config has four sections; every key has a default, so an empty file (or none) is a valid
config once ``data.train`` is given::

    data:      where the labelled structures come from and how they are split
    model:     ``type`` (a family of geodl.atoms.MODEL_TYPES) and that family's keys
               (:class:`geodl.atoms.EnergyModelConfig` for se_e2_a; ``type_map`` defaults to the
               species found in the training data; ``dtype`` float32 or float64)
    training:  optimiser, schedules, budget, checkpoints
    out:       the output directory

Overrides use dotted keys (``training.lr=5e-4``) or a leaf name when it is unique
(``lr=5e-4``); values are parsed as YAML (``1e-3``, ``true``, ``[25, 50]``, ``null``).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geodl.atoms.train._parse import build_dataclass, check_model_section, model_keys, parse_value
from geodl.errors import InputError
from geodl.training import bounded, validate_fields, warn

__all__ = [
    "DataConfig",
    "LossConfig",
    "TrainingConfig",
    "TrainConfig",
    "load_config",
    "resolve_key",
    "suspicious_values",
    "valid_keys",
]

#: Epochs of a run with neither ``training.epochs`` nor a time budget.
DEFAULT_EPOCHS = 200

#: Epochs of a run under a time budget and no ``training.epochs``: the budget ends it.
BUDGET_EPOCHS = 10**9

#: Seeds: what NumPy's and torch's generators both accept.
_SEED = dict(kind="int", low=0, high=2**32 - 1)
_COUNT = dict(kind="int", low=1, high=10**9)
_PREF = dict(kind="float", low=0, high=1e9)


@dataclass
class DataConfig:
    """Where the labelled structures come from and how they are split.

    Attributes
    ----------
    train : str or None
        Training data: any file ``ase.io.read`` understands (extxyz, ASE db, traj...), a
        DeePMD system folder or a root of many, a dpdata-readable file (see ``format``),
        or ``bundled:NAME`` for a shipped dataset.
    valid : str or None
        Validation file. When absent, ``valid_fraction`` of ``train`` is held out.
    test : str or None
        Optional test file, evaluated once at the end of training.
    valid_fraction : float
        Fraction of ``train`` held out for validation when ``valid`` is not given (0.1).
    test_fraction : float
        Fraction of ``train`` held out as a test set when ``test`` is not given (0.0).
    split_seed : int
        Seed of the random split (0).
    index : str
        Which frames of each file to read, ASE's syntax (``":"`` = all, ``"::10"``...).
    energy_key, forces_key, stress_key : str
        Label names; looked up in the single-point calculator that ASE's readers attach
        and then in ``atoms.info`` (energy, stress) / ``atoms.arrays`` (forces).
    use_stress : bool or "auto"
        Train on stress: ``"auto"`` when any periodic training structure carries it.
    max_structures : int or None
        Use at most this many training structures (a random subset).
    format : str
        Data format of ``train``/``valid``/``test``: ``"auto"`` (detect), ``"extxyz"``,
        ``"deepmd/npy"``, ``"deepmd/raw"``, ``"ase:FORMAT"`` or any dpdata format such as
        ``"vasp/outcar"`` (see :data:`geodl.atoms.data.DATA_FORMATS`).
    """

    train: str | None = None
    valid: str | None = None
    test: str | None = None
    valid_fraction: float = bounded(0.1, kind="float", low=0, high=1, high_open=True)
    test_fraction: float = bounded(0.0, kind="float", low=0, high=1, high_open=True)
    split_seed: int = bounded(0, **_SEED)
    index: str = ":"
    energy_key: str = "energy"
    forces_key: str = "forces"
    stress_key: str = "stress"
    use_stress: bool | str = "auto"
    max_structures: int | None = bounded(None, nullable=True, **_COUNT)
    format: str = "auto"

    def __post_init__(self) -> None:
        validate_fields(self, "data.")
        if self.valid_fraction + self.test_fraction >= 1.0:
            raise InputError(
                f"data.valid_fraction + data.test_fraction = "
                f"{self.valid_fraction + self.test_fraction:g} must be < 1 (some data must "
                "be left to train on)."
            )
        if isinstance(self.use_stress, str) and self.use_stress != "auto":
            raise InputError(
                f"data.use_stress must be true, false or 'auto', got {self.use_stress!r}."
            )


@dataclass
class LossConfig:
    r"""Loss prefactors, DeePMD style: each moves from ``start_*`` to ``limit_*`` as the
    learning rate decays,

    .. math::

        p(t) = p_\text{limit} + (p_\text{start} - p_\text{limit})\,
               \frac{\eta(t)}{\eta_0},\qquad
        L = p_e \Big\langle \big(\tfrac{\Delta E}{N}\big)^2 \Big\rangle
          + p_f \langle \Delta F_{i\alpha}^2 \rangle
          + p_s \Big\langle \big(\tfrac{V\,\Delta\sigma_{\alpha\beta}}{N}\big)^2 \Big\rangle .

    Forces dominate early (they carry 3N numbers per structure and shape the surface);
    energies gain weight at the end, when the learning rate is small.
    """

    start_pref_e: float = bounded(5.0, **_PREF)
    limit_pref_e: float = bounded(100.0, **_PREF)
    start_pref_f: float = bounded(1000.0, **_PREF)
    limit_pref_f: float = bounded(1.0, **_PREF)
    start_pref_s: float = bounded(0.02, **_PREF)
    limit_pref_s: float = bounded(1.0, **_PREF)

    def __post_init__(self) -> None:
        validate_fields(self, "training.loss.")


@dataclass
class TrainingConfig:
    """Optimiser, schedules, budget and checkpoints.

    Attributes
    ----------
    epochs : int or None
        Maximum number of passes over the training set. Default ``null``: as many as
        ``max_time`` allows when a budget is set (the budget, not an epoch count, ends
        the run and anneals the learning rate), :data:`DEFAULT_EPOCHS` (200) without one.
    batch_size : int
        Structures per optimisation step, summed over all processes (4).
    lr, lr_final : float
        Adam's learning rate decays exponentially from ``lr`` to ``lr_final`` over the run:
        over ``epochs``, or over ``max_time`` when that budget ends first.
    ema_decay : float or None
        Exponential moving average of the weights used for validation and the saved model
        (0.99); ``null`` turns it off.
    device : str
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
    seed : int
        Seed of initialisation and shuffling.
    max_time : float or None
        Wall-clock budget in seconds (``--max-time``), validation included.
    patience : int or None
        Early stopping: stop after this many validations without improvement (30).
    valid_every : int
        Validate (and checkpoint) every this many epochs (1).
    grad_clip : float or None
        Clip the gradient norm (100.0); ``null`` disables.
    num_threads : int or None
        torch intra-op threads; ``null`` (or 0) keeps torch's default.
    progress : bool or None
        tqdm progress bar; ``null`` = only on a terminal.
    resume : bool or "auto"
        ``"auto"``: continue the run in ``out`` when its stored config matches (a finished
        run is not trained again; a different config is refused, listing what differs);
        ``true``: continue it even with a changed config; ``false``: start over.
    checkpoint_every_s : float or None
        Also write ``checkpoint.pt`` mid-epoch when this many seconds passed since the
        last one (60); ``null``: only at epoch ends.
    allow_large : bool
        Train a model above the size limits of
        :func:`geodl.atoms.model.check_model_size` (``--allow-large``).
    plots : bool
        Write learning-curve and parity plots (PNG) at the end.
    refit_energy_shift : bool
        After training, refit the per-species energy shifts by least squares of the
        training residuals on the composition (forces unchanged; removes any
        composition-dependent energy offset) (true).
    init_model : str or None
        Fine-tune: start from this trained ``model.pt`` instead of a fresh model. Its
        architecture is kept (``model.*`` may set only ``type_map``, ``e0s``, ``dtype``,
        ``min_distance``); elements of the new data it does not know are added; with
        ``model.e0s: fit`` its reference energies are refitted on the new data's residuals.
    loss : LossConfig
        Loss prefactors.
    """

    epochs: int | None = bounded(
        None, nullable=True, null_means="for as many as max_time allows (200 without)", **_COUNT
    )
    batch_size: int = bounded(4, kind="int", low=1, high=10**6)
    lr: float = bounded(2e-3, kind="float", low=0, high=10, low_open=True)
    lr_final: float = bounded(2e-5, kind="float", low=0, high=10, low_open=True)
    ema_decay: float | None = bounded(
        0.99, kind="float", low=0, high=1, high_open=True, nullable=True
    )
    device: str = "auto"
    seed: int = bounded(0, **_SEED)
    max_time: float | None = bounded(
        None, kind="float", low=0, high=1e9, low_open=True, nullable=True, cli="--max-time"
    )
    patience: int | None = bounded(30, nullable=True, **_COUNT)
    valid_every: int = bounded(1, **_COUNT)
    grad_clip: float | None = bounded(
        100.0, kind="float", low=0, high=1e12, low_open=True, nullable=True
    )
    num_threads: int | None = bounded(None, kind="int", low=0, high=4096, nullable=True)
    progress: bool | None = None
    resume: bool | str = "auto"
    plots: bool = True
    refit_energy_shift: bool = True
    init_model: str | None = None
    checkpoint_every_s: float | None = bounded(
        60.0, kind="float", low=0, high=1e9, low_open=True, nullable=True
    )
    allow_large: bool = False
    loss: LossConfig = field(default_factory=LossConfig)

    def epoch_limit(self) -> int:
        """The epochs the run may take: ``epochs`` when given, else unbounded under a
        ``max_time`` budget and :data:`DEFAULT_EPOCHS` without one.

        Examples
        --------
        >>> TrainingConfig().epoch_limit(), TrainingConfig(epochs=7).epoch_limit()
        (200, 7)
        >>> TrainingConfig(max_time=60).epoch_limit() > 10**8
        True
        """
        if self.epochs is not None:
            return int(self.epochs)
        return BUDGET_EPOCHS if self.max_time is not None else DEFAULT_EPOCHS

    def __post_init__(self) -> None:
        validate_fields(self, "training.")
        if isinstance(self.resume, str) and self.resume != "auto":
            raise InputError(f"training.resume must be true, false or 'auto', got {self.resume!r}.")
        if not isinstance(self.device, str) or not self.device:
            raise InputError(f"training.device must be a device name, got {self.device!r}.")


@dataclass
class TrainConfig:
    """The whole training configuration (see the module docstring for the YAML layout).

    Examples
    --------
    >>> cfg = TrainConfig.from_dict({"data": {"train": "x.extxyz"}, "training": {"lr": 1e-3}})
    >>> cfg.training.lr, cfg.training.batch_size
    (0.001, 4)
    >>> cfg.override(["lr=5e-4", "training.epochs=3"]).training.lr
    0.0005
    """

    data: DataConfig = field(default_factory=DataConfig)
    model: dict[str, Any] = field(default_factory=dict)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    out: str = "geodl-run"

    def __post_init__(self) -> None:
        if not isinstance(self.out, (str, Path)):
            raise InputError(f"out must be a directory path, got {self.out!r}.")
        self.out = str(self.out)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (YAML/JSON serialisable)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None, *, source: str = "config") -> TrainConfig:
        """Build from a nested mapping; unknown keys and bad values raise
        :class:`~geodl.errors.InputError` naming the key and listing what is valid."""
        return build_dataclass(cls, d or {}, source, "", special={"model": check_model_section})

    def override(self, pairs: Iterable[str], *, source: str = "--set") -> TrainConfig:
        """Return a copy with ``key=value`` overrides applied (see the module docstring)."""
        d = self.to_dict()
        for pair in pairs:
            if "=" not in pair:
                raise InputError(
                    f"{source}: expected KEY=VALUE (e.g. training.lr=1e-3), got {pair!r}."
                )
            key, text = pair.split("=", 1)
            path = resolve_key(key.strip())
            node = d
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = parse_value(text)
        return TrainConfig.from_dict(d, source=source)

    def to_yaml(self) -> str:
        """The config as YAML text (what ``geodl train`` writes to ``out/config.yaml``)."""
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def _sections() -> dict[str, type]:
    return {"data": DataConfig, "training": TrainingConfig, "training.loss": LossConfig}


def valid_keys() -> list[str]:
    """Every dotted key a config accepts (``model.*``: the keys of every model family)."""
    keys = []
    for prefix, cls in _sections().items():
        for f in dataclasses.fields(cls):
            if f.name != "loss":
                keys.append(f"{prefix}.{f.name}")
    keys.append("out")
    keys += [f"model.{k}" for k in model_keys()]
    return keys


def resolve_key(key: str) -> list[str]:
    """Turn ``"lr"`` or ``"training.lr"`` into the path ``["training", "lr"]``.

    Raises
    ------
    InputError
        Unknown or ambiguous key; the message suggests close matches and lists valid keys.
    """
    keys = valid_keys()
    if key in keys:
        return key.split(".")
    matches = [k for k in keys if k.split(".")[-1] == key]
    if len(matches) == 1:
        return matches[0].split(".")
    if len(matches) > 1:
        raise InputError(f"Config key {key!r} is ambiguous: use one of {', '.join(matches)}.")
    close = difflib.get_close_matches(key, keys + [k.split(".")[-1] for k in keys], n=3)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise InputError(f"Unknown config key {key!r}.{hint} Valid keys: {', '.join(keys)}.")


def suspicious_values(config: TrainConfig, n_train: int | None = None) -> list[str]:
    """Warn (:class:`~geodl.training.SuspiciousValueWarning`) about legal values that are
    probably mistakes; returns the messages.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     found = suspicious_values(TrainConfig.from_dict({"training": {"lr": 2.0}}))
    >>> found[0][:40]
    'training.lr = 2.0 is legal but suspiciou'
    """
    t = config.training
    found = []
    if t.lr > 1:
        found.append(
            warn(
                "training.lr",
                t.lr,
                "Adam with a learning rate above 1 usually diverges; typical values are "
                "1e-4 to 1e-2",
            )
        )
    if t.lr_final > t.lr:
        found.append(
            warn(
                "training.lr_final",
                t.lr_final,
                f"it is above training.lr = {t.lr}, so the learning rate grows during the run",
            )
        )
    if n_train is not None and t.batch_size > n_train:
        found.append(
            warn(
                "training.batch_size",
                t.batch_size,
                f"the training set has only {n_train} structures; each step uses all of them",
            )
        )
    if t.loss.limit_pref_e == 0 and t.loss.limit_pref_f == 0:
        found.append(
            warn(
                "training.loss.limit_pref_e",
                0.0,
                "with limit_pref_f also 0 the validation score is always 0, so early "
                "stopping and the best model see no progress",
            )
        )
    return found


def load_config(path: str | Path | None = None, overrides: Iterable[str] = ()) -> TrainConfig:
    """Read a YAML config (or the defaults when ``path`` is None) and apply ``overrides``.

    Raises
    ------
    InputError
        (a ``ValueError``) If the file is missing or not valid YAML, or a key is unknown
        (the message lists the valid keys), or a value has the wrong type or is out of
        range (the message names the key, the value and the valid range).

    Examples
    --------
    >>> load_config(overrides=["data.train=x.extxyz", "epochs=5"]).training.epochs
    5
    """
    import yaml

    if path is None:
        cfg = TrainConfig()
    else:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"config: no such file {str(p)!r}; pass the path to a YAML file.")
        try:
            raw = yaml.safe_load(p.read_text())
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InputError(f"{p}: not valid YAML ({exc}).") from exc
        cfg = TrainConfig.from_dict(raw, source=str(p))
    return cfg.override(list(overrides))
