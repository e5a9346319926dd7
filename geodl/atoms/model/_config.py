"""Model configurations: the keys every family shares, and those of ``se_e2_a``.

Each family of :data:`~geodl.atoms.MODEL_TYPES` has one dataclass deriving from
:class:`ModelConfig`; its class attribute ``type`` is the family's name (the
``model.type`` key of a training config).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from geodl.errors import InputError
from geodl.training import Bound, bounded, validate_fields

__all__ = ["DTYPES", "ModelConfig", "SeE2AConfig", "EnergyModelConfig"]

#: Largest width of one layer (the size check of geodl.atoms.model.check_model_size bounds
#: the whole model).
_MAX_WIDTH = 65536

#: dtype name -> torch dtype (the registry for the ``dtype`` option).
DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}


def _check_e0s(e0s: Any, type_map: list[str], owner: str) -> str | dict[str, float]:
    if isinstance(e0s, str):
        if e0s != "fit":
            raise ValueError(
                f"{owner}: 'e0s' must be \"fit\" or a mapping element -> energy (eV), got {e0s!r}."
            )
        return e0s
    if not isinstance(e0s, Mapping):
        raise TypeError(
            f"{owner}: 'e0s' must be \"fit\" or a mapping element -> energy (eV), got "
            f"{type(e0s).__name__}."
        )
    out = {}
    for k, v in e0s.items():
        e = Bound("float").check(v, f"model.e0s.{k}")
        out[str(k)] = float(e)
    missing = sorted(set(type_map) - set(out))
    if missing:
        raise ValueError(
            f"{owner}: 'e0s' gives no reference energy for {missing}; give one for every "
            f"element of type_map {type_map} or use e0s: fit."
        )
    return out


@dataclass
class ModelConfig:
    """Keys shared by every model family.

    Parameters
    ----------
    type_map : list of str
        Element symbols; ``species`` index ``k`` means ``type_map[k]``.
    r_cut : float
        Cutoff radius :math:`r_c` in Å.
    min_distance : float
        Inputs with two atoms closer than this (Å) are rejected; 0 disables the check.
    dtype : str
        ``"float32"`` or ``"float64"``.
    e0s : "fit" or dict
        Per-element reference energies :math:`e_t` (eV) added to the atomic energies:
        ``"fit"`` (least squares on the training compositions) or ``{element: energy}``.

    Examples
    --------
    >>> ModelConfig.type, ModelConfig(type_map=["Cu"]).r_cut
    ('base', 6.0)
    """

    type: str = field(default="base", kw_only=True)
    type_map: list[str] = field(default_factory=lambda: ["H"])
    r_cut: float = bounded(6.0, kind="float", low=0, high=100, low_open=True)
    min_distance: float = bounded(0.3, kind="float", low=0, high=100, kw_only=True)
    dtype: str = field(default="float32", kw_only=True)
    e0s: Any = field(default="fit", kw_only=True)

    def __post_init__(self) -> None:
        owner = type(self).__name__
        family = type(self).type
        validate_fields(self, "model.")
        if self.type != family:
            raise ValueError(
                f"{owner}: this config is for model type {family!r}, got type {self.type!r}; "
                "use geodl.atoms.model_config_from_dict to pick the family."
            )
        if isinstance(self.type_map, str) or not all(isinstance(t, str) for t in self.type_map):
            raise TypeError(
                f"{owner}: 'type_map' must be a list of element symbols, got {self.type_map!r}."
            )
        self.type_map = list(self.type_map)
        if len(self.type_map) == 0 or len(set(self.type_map)) != len(self.type_map):
            raise ValueError(
                f"{owner}: 'type_map' must be non-empty without duplicates, got {self.type_map}."
            )
        if self.dtype not in DTYPES:
            raise ValueError(
                f"{owner}: unknown dtype {self.dtype!r}. Valid dtypes: {', '.join(DTYPES)}."
            )
        self.e0s = _check_e0s(self.e0s, self.type_map, owner)

    @property
    def torch_dtype(self) -> torch.dtype:
        """The torch dtype named by :attr:`dtype`."""
        return DTYPES[self.dtype]

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict (lists, numbers, strings) safe for ``weights_only`` loading;
        includes ``"type"``."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        for key, value in out.items():
            if isinstance(value, dict):
                out[key] = dict(value)
        return out

    @classmethod
    def keys(cls) -> list[str]:
        """The keys this family accepts (``type`` included)."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError`` listing valid ones."""
        valid = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - valid)
        if unknown:
            raise ValueError(
                f"{cls.__name__}: unknown keys {unknown} for model type {cls.type!r}. Valid "
                f"keys: {', '.join(sorted(valid))}."
            )
        return cls(**data)


def _check_compression(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(
            "SeE2AConfig: 'compression' must be None or a mapping with s_max and intervals "
            f"(written by geodl compress), got {type(value).__name__}."
        )
    out = dict(value)
    missing = sorted({"s_max", "intervals"} - set(out))
    if missing:
        raise ValueError(
            f"SeE2AConfig: 'compression' lacks {missing}; re-create the file with geodl compress."
        )
    s_max, intervals = float(out["s_max"]), int(out["intervals"])
    if not (math.isfinite(s_max) and s_max > 0 and intervals >= 1):
        raise ValueError(
            f"SeE2AConfig: 'compression' needs s_max > 0 and intervals >= 1, got "
            f"s_max={out['s_max']}, intervals={out['intervals']}."
        )
    out["s_max"], out["intervals"] = s_max, intervals
    return out


@dataclass
class SeE2AConfig(ModelConfig):
    r"""Hyper-parameters of the DeepPot-SE ``se_e2_a`` model (``model.type: se_e2_a``).

    Parameters
    ----------
    type_map, r_cut, min_distance, dtype, e0s
        As :class:`ModelConfig`.
    r_smooth : float
        Start of the smooth switching :math:`r_s` in Å (DeePMD's ``rcut_smth``).
    embed_widths : tuple of int
        Embedding network widths (last = :math:`M_1`).
    axis_neurons : int
        :math:`M_2`.
    fitting_widths : tuple of int
        Hidden widths of the per-species fitting networks.
    type_one_side : bool
        One embedding net per neighbour type (``True``) or per type pair.
    activation : str
        A name of :data:`geodl.nn.ACTIVATIONS` (``"tanh"`` as DeePMD).
    resnet : bool
        Residual connections in embedding and fitting networks.
    neighbor_norm : float or None
        Constant :math:`N_c`; ``None``: set from data by ``fit_statistics``.
    compression : dict or None
        Set by :func:`~geodl.atoms.compress_model` (``geodl compress``): the embedding is
        a quintic table on ``intervals`` uniform intervals of :math:`s \in [0, s_{\max}]`
        (``s_max``, ``intervals``; also the ``r_min``, ``tolerance`` and measured
        ``table_error`` it was built with). ``None``: the embedding networks are evaluated.

    Examples
    --------
    >>> cfg = SeE2AConfig(type_map=["Cu", "Au"], r_cut=5.0)
    >>> SeE2AConfig.from_dict(cfg.to_dict()) == cfg
    True
    >>> cfg.to_dict()["type"]
    'se_e2_a'
    """

    type: str = field(default="se_e2_a", kw_only=True)
    r_smooth: float = bounded(0.5, kind="float", low=0, high=100)
    embed_widths: tuple[int, ...] = bounded(
        (25, 50, 100), kind="int", low=1, high=_MAX_WIDTH, sequence=True, min_items=1
    )
    axis_neurons: int = bounded(16, kind="int", low=1, high=_MAX_WIDTH)
    fitting_widths: tuple[int, ...] = bounded(
        (240, 240, 240), kind="int", low=1, high=_MAX_WIDTH, sequence=True
    )
    type_one_side: bool = True
    activation: str = "tanh"
    resnet: bool = True
    neighbor_norm: float | None = bounded(
        None, kind="float", low=0, high=1e6, low_open=True, nullable=True
    )
    compression: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.compression is not None:
            self.compression = _check_compression(self.compression)
        self.embed_widths = tuple(int(w) for w in self.embed_widths)
        self.fitting_widths = tuple(int(w) for w in self.fitting_widths)
        if self.axis_neurons > self.embed_widths[-1]:
            raise InputError(
                f"model.axis_neurons must be >= 1 and <= {self.embed_widths[-1]} (an integer, "
                f"at most the last of model.embed_widths), got {self.axis_neurons}."
            )
        if not 0.0 <= float(self.r_smooth) < float(self.r_cut):
            raise InputError(
                f"model.r_smooth must be >= 0 and < model.r_cut = {self.r_cut} (SeE2AConfig), "
                f"got {self.r_smooth}."
            )

    def to_dict(self) -> dict[str, Any]:
        """As :meth:`ModelConfig.to_dict`; ``compression`` only when set, so files of
        uncompressed models stay readable by versions without compression."""
        out = super().to_dict()
        if out.get("compression") is None:
            out.pop("compression", None)
        return out


#: The first family's config under its historical name.
EnergyModelConfig = SeE2AConfig
