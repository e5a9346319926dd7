"""Configuration of the equivariant message-passing family (``model.type: equivariant``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from geodl.atoms.model._config import ModelConfig
from geodl.errors import InputError
from geodl.training import bounded

__all__ = ["EquivariantConfig", "L_MAX_CHOICES"]

#: Valid degrees of ``model.l_max`` / ``model.hidden_l_max``.
L_MAX_CHOICES = (0, 1, 2, 3)
_WIDTH = dict(kind="int", low=1, high=4096)


@dataclass
class EquivariantConfig(ModelConfig):
    r"""Hyper-parameters of the equivariant message-passing family (``model.type:
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
        Largest degree of the node features passed between layers, 0..3 (MACE's
        ``max_L``; NequIP uses ``l_max``); values above ``l_max`` act as ``l_max``.
    channels : int
        Multiplicity of each irrep of the node features (MACE's ``num_channels``,
        NequIP's ``num_features``), 1..4096.
    layers : int
        Message-passing layers (MACE's ``num_interactions``, NequIP's ``num_layers``), 1..16.
    correlation : int
        Body order of the per-layer product basis, 1..3 (MACE's ``correlation``; 1: plain
        two-body messages as NequIP).
    num_radial_basis : int
        Bessel functions of the radial basis (MACE's ``num_radial_basis``, NequIP's
        ``num_basis``), 1..64.
    envelope_exponent : int
        :math:`p` of the polynomial envelope, 2..16 (NequIP's ``PolynomialCutoff_p``,
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
        Normalisation :math:`\bar n` of the aggregated messages; ``None``: the mean
        neighbour count of the training data (``fit_statistics``).

    Examples
    --------
    >>> cfg = EquivariantConfig(type_map=["Cu", "Au"], l_max=1)
    >>> EquivariantConfig.from_dict(cfg.to_dict()) == cfg
    True
    >>> cfg.to_dict()["type"], cfg.layers * cfg.r_cut
    ('equivariant', 10.0)
    >>> EquivariantConfig(type_map=["Cu"], l_max=7)
    Traceback (most recent call last):
    ...
    geodl.errors.InputError: model.l_max must be one of 0, 1, 2, 3 (an integer), got 7.
    """

    type: str = field(default="equivariant", kw_only=True)
    r_cut: float = bounded(5.0, kind="float", low=0, high=100, low_open=True)
    l_max: int = bounded(1, kind="int", low=0, high=3)
    hidden_l_max: int = bounded(1, kind="int", low=0, high=3)
    channels: int = bounded(32, **_WIDTH)
    layers: int = bounded(2, kind="int", low=1, high=16)
    correlation: int = bounded(1, kind="int", low=1, high=3)
    num_radial_basis: int = bounded(8, kind="int", low=1, high=64)
    envelope_exponent: int = bounded(6, kind="int", low=2, high=16)
    radial_mlp: tuple[int, ...] = bounded((64, 64), sequence=True, **_WIDTH)
    readout_mlp: tuple[int, ...] = bounded((16,), sequence=True, **_WIDTH)
    activation: str = "silu"
    avg_num_neighbors: float | None = bounded(
        None, kind="float", low=0, high=1e6, low_open=True, nullable=True
    )

    def __post_init__(self) -> None:
        for name in ("l_max", "hidden_l_max"):
            value = getattr(self, name)
            if value not in L_MAX_CHOICES or isinstance(value, bool):
                choices = ", ".join(str(c) for c in L_MAX_CHOICES)
                raise InputError(
                    f"model.{name} must be one of {choices} (an integer), got {value!r}."
                )
        super().__post_init__()
        from geodl.nn import ACTIVATIONS

        if self.activation not in ACTIVATIONS:
            raise InputError(
                f"model.activation must be one of {', '.join(ACTIVATIONS)}, got "
                f"{self.activation!r}."
            )
