"""One registry of model families, keyed by ``model.type``.

A family is a config dataclass (a :class:`ModelConfig` subclass) and a module that maps a
neighbour graph to per-atom energies; everything else (energy shifts, forces, stress,
saving, the trainer, the calculator, deployment) is shared.

A family module ``m = build(config)`` must provide

* ``m(species (N,), edge_vec (E, 3), edge_index (2, E)) -> (N,)`` atomic energies
  (before the shared scale and reference energies), TorchScript-able;
* ``m.receptive_field`` (float, Å): the distance over which an atom's energy depends on
  the others (``r_cut`` for local models, ``layers * r_cut`` for message passing);
* ``m.fit_statistics(samples) -> dict`` with ``samples`` an iterable of
  ``(species, edge_vec, edge_index)`` float64 tuples of the training set (normalisation).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from torch import nn

from geodl.atoms.model._config import ModelConfig, SeE2AConfig
from geodl.atoms.model._equivariant import Equivariant
from geodl.atoms.model._equivariant_config import EquivariantConfig
from geodl.atoms.model._se_e2_a import SeE2A

__all__ = [
    "DEFAULT_MODEL_TYPE",
    "MODEL_TYPES",
    "ModelFamily",
    "model_config_from_dict",
    "register_model_type",
    "resolve_model_type",
]

DEFAULT_MODEL_TYPE = "se_e2_a"


@dataclass(frozen=True)
class ModelFamily:
    """A registered model family.

    Attributes
    ----------
    name : str
        The ``model.type`` value.
    config : type
        Its :class:`ModelConfig` subclass.
    build : callable
        ``config -> nn.Module`` giving per-atom energies (see the module docstring).
    description : str
        One line for listings and error messages.
    activations : callable, optional
        ``(config, n_atoms, n_edges) -> int``: the number of activation values one
        forward pass keeps for autograd (for the memory estimate of
        :func:`~geodl.atoms.model.check_model_size`).
    """

    name: str
    config: type[ModelConfig]
    build: Callable[[Any], nn.Module]
    description: str
    activations: Callable[[Any, int, int], int] | None = None


#: ``model.type`` -> family. Add families with :func:`register_model_type`.
MODEL_TYPES: dict[str, ModelFamily] = {}


def register_model_type(family: ModelFamily) -> ModelFamily:
    """Add ``family`` to :data:`MODEL_TYPES` (its config's ``type`` must match its name).

    Examples
    --------
    >>> "se_e2_a" in MODEL_TYPES
    True
    """
    if family.config.type != family.name:
        raise ValueError(
            f"register_model_type: family {family.name!r} has a config whose type is "
            f"{family.config.type!r}; set the config's class attribute type = {family.name!r}."
        )
    MODEL_TYPES[family.name] = family
    return family


def resolve_model_type(name: str) -> ModelFamily:
    """The family registered as ``name``; the error lists the valid choices.

    Examples
    --------
    >>> resolve_model_type("se_e2_a").config.__name__
    'SeE2AConfig'
    """
    if not isinstance(name, str) or name not in MODEL_TYPES:
        valid = ", ".join(f"{k} ({f.description})" for k, f in MODEL_TYPES.items())
        raise ValueError(f"Unknown model.type {name!r}. Valid model types: {valid}.")
    return MODEL_TYPES[name]


def model_config_from_dict(data: Mapping[str, Any]) -> ModelConfig:
    """Build the config of the family named by ``data["type"]`` (default ``se_e2_a``).

    Examples
    --------
    >>> cfg = model_config_from_dict({"type": "se_e2_a", "type_map": ["Cu"], "r_cut": 5.0})
    >>> type(cfg).__name__, cfg.r_cut
    ('SeE2AConfig', 5.0)
    """
    if not isinstance(data, Mapping):
        raise TypeError(
            f"model_config_from_dict: expected a mapping of model keys, got {type(data).__name__}."
        )
    family = resolve_model_type(data.get("type", DEFAULT_MODEL_TYPE))
    return family.config.from_dict(data)


register_model_type(
    ModelFamily(
        "se_e2_a",
        SeE2AConfig,
        SeE2A,
        "DeepPot-SE two-body embedding descriptor",
        SeE2A.activation_count,
    )
)
register_model_type(
    ModelFamily(
        "equivariant",
        EquivariantConfig,
        Equivariant,
        "E(3)-equivariant message passing on e3nn (NequIP/MACE style)",
        Equivariant.activation_count,
    )
)
