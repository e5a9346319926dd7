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

__all__ = ["DTYPES", "ModelConfig", "SeE2AConfig", "EnergyModelConfig", "EquivariantConfig"]

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
    out = {str(k): float(v) for k, v in e0s.items()}
    missing = sorted(set(type_map) - set(out))
    if missing:
        raise ValueError(
            f"{owner}: 'e0s' gives no reference energy for {missing}; give one for every "
            f"element of type_map {type_map} or use e0s: fit."
        )
    bad = [k for k, v in out.items() if not math.isfinite(v)]
    if bad:
        raise ValueError(f"{owner}: 'e0s' values must be finite numbers; check {bad}.")
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
    r_cut: float = 6.0
    min_distance: float = field(default=0.3, kw_only=True)
    dtype: str = field(default="float32", kw_only=True)
    e0s: Any = field(default="fit", kw_only=True)

    def __post_init__(self) -> None:
        owner = type(self).__name__
        family = type(self).type
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
        if not (math.isfinite(float(self.r_cut)) and float(self.r_cut) > 0):
            raise ValueError(f"{owner}: 'r_cut' must be a positive number of Å, got {self.r_cut}.")
        if not float(self.min_distance) >= 0:
            raise ValueError(
                f"{owner}: 'min_distance' must be >= 0 Å (0 disables the check), got "
                f"{self.min_distance}."
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
        if isinstance(self.e0s, dict):
            out["e0s"] = dict(self.e0s)
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


@dataclass
class SeE2AConfig(ModelConfig):
    """Hyper-parameters of the DeepPot-SE ``se_e2_a`` model (``model.type: se_e2_a``).

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

    Examples
    --------
    >>> cfg = SeE2AConfig(type_map=["Cu", "Au"], r_cut=5.0)
    >>> SeE2AConfig.from_dict(cfg.to_dict()) == cfg
    True
    >>> cfg.to_dict()["type"]
    'se_e2_a'
    """

    type: str = field(default="se_e2_a", kw_only=True)
    r_smooth: float = 0.5
    embed_widths: tuple[int, ...] = (25, 50, 100)
    axis_neurons: int = 16
    fitting_widths: tuple[int, ...] = (240, 240, 240)
    type_one_side: bool = True
    activation: str = "tanh"
    resnet: bool = True
    neighbor_norm: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.embed_widths = tuple(int(w) for w in self.embed_widths)
        self.fitting_widths = tuple(int(w) for w in self.fitting_widths)
        if not 0.0 <= float(self.r_smooth) < float(self.r_cut):
            raise ValueError(
                f"SeE2AConfig: expected 0 <= r_smooth < r_cut, got r_smooth={self.r_smooth}, "
                f"r_cut={self.r_cut}."
            )


#: The first family's config under its historical name.
EnergyModelConfig = SeE2AConfig


def _int_in(owner: str, name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]``; the error names the valid range."""
    valid = f"{low}..{high}" if high is not None else f">= {low}"
    if isinstance(value, bool) or not isinstance(value, int):
        if not (isinstance(value, float) and value.is_integer()):
            raise InputError(f"{owner}: {name!r} must be an integer ({valid}), got {value!r}.")
    value = int(value)
    if value < low or (high is not None and value > high):
        raise InputError(f"{owner}: {name!r} must be in {valid}, got {value}.")
    return value


def _widths(owner: str, name: str, value: Any) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise InputError(f"{owner}: {name!r} must be a list of layer widths, got {value!r}.")
    return tuple(_int_in(owner, f"{name}[{k}]", w, 1) for k, w in enumerate(value))


@dataclass
class EquivariantConfig(ModelConfig):
    """Hyper-parameters of the equivariant message-passing family (``model.type:
    equivariant``), named as in MACE / NequIP.

    Parameters
    ----------
    type_map, min_distance, dtype, e0s
        As :class:`ModelConfig`.
    r_cut : float
        Cutoff :math:`r_c` of each message-passing step (Å); the receptive field is
        ``layers * r_cut`` (MACE's ``r_max``).
    l_max : int
        Largest degree of the edge spherical harmonics and of the messages, 0..3
        (NequIP's ``l_max``, MACE's ``max_ell``).
    hidden_l_max : int
        Largest degree of the node features passed between layers, 0..3, at most
        ``l_max`` (MACE's ``max_L``; NequIP uses ``l_max``).
    channels : int
        Multiplicity of each irrep of the node features (MACE's ``num_channels``,
        NequIP's ``num_features``), >= 1.
    layers : int
        Message-passing layers (MACE's ``num_interactions``, NequIP's ``num_layers``), >= 1.
    correlation : int
        Body order of the per-layer product basis, 1..3 (MACE's ``correlation``; 1: plain
        two-body messages as NequIP).
    num_radial_basis : int
        Bessel functions of the radial basis (MACE's ``num_radial_basis``, NequIP's
        ``num_basis``), >= 1.
    envelope_exponent : int
        :math:`p` of the polynomial envelope, >= 2 (NequIP's ``PolynomialCutoff_p``,
        MACE's ``num_cutoff_basis``).
    radial_mlp : tuple of int
        Hidden widths of the radial MLP giving the tensor-product weights (MACE's
        ``radial_MLP``).
    readout_mlp : tuple of int
        Hidden widths of the last layer's energy read-out (MACE's ``MLP_irreps``); the
        other layers read out linearly.
    activation : str
        Scalar activation (a name of :data:`geodl.nn.ACTIVATIONS`).
    avg_num_neighbors : float or None
        Normalisation :math:`\\bar n` of the aggregated messages; ``None``: the mean
        neighbour count of the training data (``fit_statistics``).

    Examples
    --------
    >>> cfg = EquivariantConfig(type_map=["Cu", "Au"], l_max=1)
    >>> EquivariantConfig.from_dict(cfg.to_dict()) == cfg
    True
    >>> cfg.to_dict()["type"], cfg.layers * cfg.r_cut
    ('equivariant', 10.0)
    """

    type: str = field(default="equivariant", kw_only=True)
    r_cut: float = 5.0
    l_max: int = 1
    hidden_l_max: int = 1
    channels: int = 32
    layers: int = 2
    correlation: int = 1
    num_radial_basis: int = 8
    envelope_exponent: int = 6
    radial_mlp: tuple[int, ...] = (64, 64)
    readout_mlp: tuple[int, ...] = (16,)
    activation: str = "silu"
    avg_num_neighbors: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        owner = "EquivariantConfig"
        self.l_max = _int_in(owner, "l_max", self.l_max, 0, 3)
        self.hidden_l_max = _int_in(owner, "hidden_l_max", self.hidden_l_max, 0, 3)
        self.channels = _int_in(owner, "channels", self.channels, 1)
        self.layers = _int_in(owner, "layers", self.layers, 1)
        self.correlation = _int_in(owner, "correlation", self.correlation, 1, 3)
        self.num_radial_basis = _int_in(owner, "num_radial_basis", self.num_radial_basis, 1)
        self.envelope_exponent = _int_in(owner, "envelope_exponent", self.envelope_exponent, 2)
        self.radial_mlp = _widths(owner, "radial_mlp", self.radial_mlp)
        self.readout_mlp = _widths(owner, "readout_mlp", self.readout_mlp)
        from geodl.nn import ACTIVATIONS

        if self.activation not in ACTIVATIONS:
            raise InputError(
                f"{owner}: unknown activation {self.activation!r}. Valid activations: "
                f"{', '.join(ACTIVATIONS)}."
            )
        if self.avg_num_neighbors is not None:
            v = self.avg_num_neighbors
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise InputError(
                    f"{owner}: 'avg_num_neighbors' must be a positive number or null "
                    f"(fit from the data), got {v!r}."
                )
            self.avg_num_neighbors = float(v)
