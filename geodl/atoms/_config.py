"""Configuration of :class:`~geodl.atoms.EnergyModel` (one place for the defaults)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import torch

#: dtype name -> torch dtype (the registry for the ``dtype`` option).
DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}


@dataclass
class EnergyModelConfig:
    """Hyper-parameters of the DeepPot-SE energy model.

    Parameters
    ----------
    type_map : list of str
        Element symbols; ``species`` index ``k`` means ``type_map[k]``.
    r_cut : float
        Cutoff radius :math:`r_c` in Å.
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
        ``"tanh"`` (DeePMD), ``"silu"``, ``"gelu"`` or ``"softplus"``.
    resnet : bool
        Residual connections in embedding and fitting networks.
    neighbor_norm : float or None
        Constant :math:`N_c`; ``None``: set from data by ``fit_statistics``.
    min_distance : float
        Inputs with two atoms closer than this (Å) are rejected; 0 disables the check.
    dtype : str
        ``"float32"`` or ``"float64"``.

    Examples
    --------
    >>> cfg = EnergyModelConfig(type_map=["Cu", "Au"], r_cut=5.0)
    >>> EnergyModelConfig.from_dict(cfg.to_dict()) == cfg
    True
    """

    type_map: list[str] = field(default_factory=lambda: ["H"])
    r_cut: float = 6.0
    r_smooth: float = 0.5
    embed_widths: tuple[int, ...] = (25, 50, 100)
    axis_neurons: int = 16
    fitting_widths: tuple[int, ...] = (240, 240, 240)
    type_one_side: bool = True
    activation: str = "tanh"
    resnet: bool = True
    neighbor_norm: float | None = None
    min_distance: float = 0.3
    dtype: str = "float32"

    def __post_init__(self) -> None:
        if isinstance(self.type_map, str) or not all(isinstance(t, str) for t in self.type_map):
            raise TypeError(
                f"EnergyModelConfig: 'type_map' must be a list of element symbols, got "
                f"{self.type_map!r}."
            )
        self.type_map = list(self.type_map)
        if len(self.type_map) == 0 or len(set(self.type_map)) != len(self.type_map):
            raise ValueError(
                f"EnergyModelConfig: 'type_map' must be non-empty without duplicates, got "
                f"{self.type_map}."
            )
        self.embed_widths = tuple(int(w) for w in self.embed_widths)
        self.fitting_widths = tuple(int(w) for w in self.fitting_widths)
        if not 0.0 <= float(self.r_smooth) < float(self.r_cut):
            raise ValueError(
                f"EnergyModelConfig: expected 0 <= r_smooth < r_cut, got r_smooth="
                f"{self.r_smooth}, r_cut={self.r_cut}."
            )
        if self.dtype not in DTYPES:
            raise ValueError(
                f"EnergyModelConfig: unknown dtype {self.dtype!r}. Valid dtypes: "
                f"{', '.join(DTYPES)}."
            )

    @property
    def torch_dtype(self) -> torch.dtype:
        """The torch dtype named by :attr:`dtype`."""
        return DTYPES[self.dtype]

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict (lists, numbers, strings) safe for ``weights_only`` loading."""
        out = dataclasses.asdict(self)
        out["embed_widths"] = list(self.embed_widths)
        out["fitting_widths"] = list(self.fitting_widths)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EnergyModelConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        valid = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - valid)
        if unknown:
            raise ValueError(
                f"EnergyModelConfig: unknown keys {unknown}. Valid keys: "
                f"{', '.join(sorted(valid))}."
            )
        return cls(**data)
