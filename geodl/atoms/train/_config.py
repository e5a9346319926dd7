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
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

__all__ = [
    "DataConfig",
    "LossConfig",
    "TrainingConfig",
    "TrainConfig",
    "load_config",
]


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
    valid_fraction: float = 0.1
    test_fraction: float = 0.0
    split_seed: int = 0
    index: str = ":"
    energy_key: str = "energy"
    forces_key: str = "forces"
    stress_key: str = "stress"
    use_stress: bool | str = "auto"
    max_structures: int | None = None
    format: str = "auto"


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

    start_pref_e: float = 5.0
    limit_pref_e: float = 100.0
    start_pref_f: float = 1000.0
    limit_pref_f: float = 1.0
    start_pref_s: float = 0.02
    limit_pref_s: float = 1.0


@dataclass
class TrainingConfig:
    """Optimiser, schedules, budget and checkpoints.

    Attributes
    ----------
    epochs : int
        Maximum number of passes over the training set (200).
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
        torch intra-op threads; ``null`` keeps torch's default.
    progress : bool or None
        tqdm progress bar; ``null`` = only on a terminal.
    resume : bool or "auto"
        ``"auto"`` resumes from ``out/checkpoint.pt`` when it exists.
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

    epochs: int = 200
    batch_size: int = 4
    lr: float = 2e-3
    lr_final: float = 2e-5
    ema_decay: float | None = 0.99
    device: str = "auto"
    seed: int = 0
    max_time: float | None = None
    patience: int | None = 30
    valid_every: int = 1
    grad_clip: float | None = 100.0
    num_threads: int | None = None
    progress: bool | None = None
    resume: bool | str = "auto"
    plots: bool = True
    refit_energy_shift: bool = True
    init_model: str | None = None
    loss: LossConfig = field(default_factory=LossConfig)


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

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (YAML/JSON serialisable)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None, *, source: str = "config") -> TrainConfig:
        """Build from a nested mapping; unknown keys raise ``ValueError`` listing valid ones."""
        return _build(cls, d or {}, source, "")

    def override(self, pairs: Iterable[str], *, source: str = "--set") -> TrainConfig:
        """Return a copy with ``key=value`` overrides applied (see the module docstring)."""
        d = self.to_dict()
        for pair in pairs:
            if "=" not in pair:
                raise ValueError(
                    f"{source}: expected KEY=VALUE (e.g. training.lr=1e-3), got {pair!r}."
                )
            key, text = pair.split("=", 1)
            path = resolve_key(key.strip())
            node = d
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = _parse_value(text)
        return TrainConfig.from_dict(d, source=source)

    def to_yaml(self) -> str:
        """The config as YAML text (what ``geodl train`` writes to ``out/config.yaml``)."""
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def _parse_value(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _sections() -> dict[str, type]:
    return {"data": DataConfig, "training": TrainingConfig, "training.loss": LossConfig}


def _model_keys(model_type: str | None = None) -> list[str]:
    """Keys of ``model.type``'s config, or of every registered family when ``None``."""
    from geodl.atoms.model import MODEL_TYPES, resolve_model_type

    if model_type is not None:
        return resolve_model_type(model_type).config.keys()
    keys: list[str] = []
    for family in MODEL_TYPES.values():
        keys += [k for k in family.config.keys() if k not in keys]
    return keys


def valid_keys() -> list[str]:
    """Every dotted key a config accepts (``model.*``: the keys of every model family)."""
    keys = []
    for prefix, cls in _sections().items():
        for f in dataclasses.fields(cls):
            if f.name != "loss":
                keys.append(f"{prefix}.{f.name}")
    keys.append("out")
    keys += [f"model.{k}" for k in _model_keys()]
    return keys


def resolve_key(key: str) -> list[str]:
    """Turn ``"lr"`` or ``"training.lr"`` into the path ``["training", "lr"]``.

    Raises
    ------
    ValueError
        Unknown or ambiguous key; the message suggests close matches and lists valid keys.
    """
    keys = valid_keys()
    if key in keys:
        return key.split(".")
    matches = [k for k in keys if k.split(".")[-1] == key]
    if len(matches) == 1:
        return matches[0].split(".")
    if len(matches) > 1:
        raise ValueError(f"Config key {key!r} is ambiguous: use one of {', '.join(matches)}.")
    close = difflib.get_close_matches(key, keys + [k.split(".")[-1] for k in keys], n=3)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"Unknown config key {key!r}.{hint} Valid keys: {', '.join(keys)}.")


def _check_type(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _check_type(value, option, where)
            except (TypeError, ValueError) as exc:
                errors.append(str(exc))
        raise TypeError(errors[0] if errors else f"{where}: invalid value {value!r}.")
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, str):
                try:
                    return float(value)
                except ValueError:
                    pass
            raise TypeError(f"{where}: expected a number, got {value!r}.")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise TypeError(f"{where}: expected an integer, got {value!r}.")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise TypeError(f"{where}: expected true or false, got {value!r}.")
        return value
    if hint is str:
        if not isinstance(value, (str, Path)):
            raise TypeError(f"{where}: expected a string, got {value!r}.")
        return str(value)
    return value


def _build(cls: type, d: Mapping[str, Any], source: str, prefix: str) -> Any:
    if not isinstance(d, Mapping):
        raise TypeError(
            f"{source}: section {prefix.rstrip('.') or '<top>'!r} must be a mapping "
            f"(key: value lines), got {type(d).__name__}."
        )
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs: dict[str, Any] = {}
    for key, value in d.items():
        where = f"{prefix}{key}"
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=3)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            section = f" in {prefix.rstrip('.')!r}" if prefix else ""
            raise ValueError(
                f"{source}: unknown key {where!r}.{hint} Valid keys{section}: {', '.join(names)}."
            )
        hint_t = hints[key]
        if dataclasses.is_dataclass(hint_t):
            kwargs[key] = _build(hint_t, value or {}, source, f"{where}.")
        elif key == "model" and cls is TrainConfig:
            kwargs[key] = _check_model(value or {}, source)
        else:
            kwargs[key] = _check_type(value, hint_t, f"{source}: {where}")
    obj = cls(**kwargs)
    _validate(obj, source)
    return obj


def _check_model(value: Any, source: str) -> dict[str, Any]:
    from geodl.atoms.model import DEFAULT_MODEL_TYPE

    if not isinstance(value, Mapping):
        raise TypeError(f"{source}: section 'model' must be a mapping, got {value!r}.")
    model_type = value.get("type", DEFAULT_MODEL_TYPE)
    try:
        keys = _model_keys(model_type)
    except ValueError as exc:
        raise ValueError(f"{source}: model.type: {exc}") from None
    for key in value:
        if key not in keys:
            close = difflib.get_close_matches(str(key), keys, n=3)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise ValueError(
                f"{source}: unknown key 'model.{key}' for model.type {model_type!r}.{hint} "
                f"Valid keys in 'model': {', '.join(keys)}."
            )
    return dict(value)


def _validate(obj: Any, source: str) -> None:
    if isinstance(obj, DataConfig):
        for name in ("valid_fraction", "test_fraction"):
            v = getattr(obj, name)
            if not 0.0 <= v < 1.0:
                raise ValueError(f"{source}: data.{name} must be in [0, 1), got {v}.")
        if obj.valid_fraction + obj.test_fraction >= 1.0:
            raise ValueError(f"{source}: data.valid_fraction + data.test_fraction must be < 1.")
        if isinstance(obj.use_stress, str) and obj.use_stress != "auto":
            raise ValueError(
                f"{source}: data.use_stress must be true, false or 'auto', got {obj.use_stress!r}."
            )
    elif isinstance(obj, TrainingConfig):
        for name in ("epochs", "batch_size", "valid_every"):
            if getattr(obj, name) < 1:
                raise ValueError(f"{source}: training.{name} must be >= 1.")
        if obj.lr <= 0 or obj.lr_final <= 0:
            raise ValueError(f"{source}: training.lr and training.lr_final must be > 0.")
        if obj.ema_decay is not None and not 0.0 <= obj.ema_decay < 1.0:
            raise ValueError(f"{source}: training.ema_decay must be in [0, 1) or null.")
        if obj.max_time is not None and obj.max_time <= 0:
            raise ValueError(f"{source}: training.max_time must be > 0 seconds or null.")
        if isinstance(obj.resume, str) and obj.resume != "auto":
            raise ValueError(
                f"{source}: training.resume must be true, false or 'auto', got {obj.resume!r}."
            )


def load_config(path: str | Path | None = None, overrides: Iterable[str] = ()) -> TrainConfig:
    """Read a YAML config (or the defaults when ``path`` is None) and apply ``overrides``.

    Raises
    ------
    ValueError
        If the file is missing or not valid YAML, or a key is unknown (the message lists
        the valid keys), or a value is out of range.

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
            raise ValueError(f"config: no such file {str(p)!r}; pass the path to a YAML file.")
        try:
            raw = yaml.safe_load(p.read_text())
        except yaml.YAMLError as exc:
            raise ValueError(f"{p}: not valid YAML ({exc}).") from exc
        cfg = TrainConfig.from_dict(raw, source=str(p))
    return cfg.override(list(overrides))
