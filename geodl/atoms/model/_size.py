"""How big a model config is before anything is allocated: parameters counted on the
``meta`` device, training memory estimated, and a refusal above stated limits."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from geodl.atoms.model._config import ModelConfig
from geodl.atoms.model._registry import resolve_model_type
from geodl.errors import InputError

__all__ = ["MAX_PARAMETERS", "MAX_TRAINING_BYTES", "ModelSize", "check_model_size", "model_size"]

#: Most parameters a model may have without ``allow_large`` (50x the default se_e2_a).
MAX_PARAMETERS = 50_000_000
#: Most estimated training memory (bytes) for one batch without ``allow_large``.
MAX_TRAINING_BYTES = 16 * 2**30

#: the keys that size each family, for the refusal message
_WIDTH_KEYS = {
    "se_e2_a": "model.embed_widths / model.fitting_widths / model.axis_neurons",
    "equivariant": "model.channels / model.radial_mlp / model.l_max / model.layers",
}

#: Copies of each parameter during training: weights, gradients, Adam's two moments, EMA.
_PARAMETER_COPIES = 5
#: Activations are kept for the backward pass of the energy, for the forces (a second
#: graph) and for the backward pass of the force loss.
_ACTIVATION_COPIES = 3


@dataclass(frozen=True)
class ModelSize:
    """Size of a model config.

    Attributes
    ----------
    parameters : int
        Trainable and buffer-free parameter count of the family's network.
    training_bytes : int
        Estimated memory to train one batch: parameter copies plus activations (when the
        family gives an activation count, else parameters only).
    n_atoms, n_edges : int
        The batch the estimate is for.
    """

    parameters: int
    training_bytes: int
    n_atoms: int
    n_edges: int

    def __str__(self) -> str:
        gib = self.training_bytes / 2**30
        return (
            f"{self.parameters:,} parameters, about {gib:.2f} GiB to train a batch of "
            f"{self.n_atoms:,} atoms / {self.n_edges:,} edges"
        )


def model_size(config: ModelConfig, n_atoms: int = 1000, n_edges: int = 100_000) -> ModelSize:
    """Count the parameters of ``config``'s network on the ``meta`` device (no memory is
    allocated) and estimate the memory to train a batch of ``n_atoms`` / ``n_edges``.

    Examples
    --------
    >>> from geodl.atoms import SeE2AConfig
    >>> size = model_size(SeE2AConfig(type_map=["Cu", "Au"]))
    >>> size.parameters
    1013222
    """
    family = resolve_model_type(config.type)
    with torch.device("meta"):
        network = family.build(config)
    parameters = sum(p.numel() for p in network.parameters())
    itemsize = config.torch_dtype.itemsize
    activations = family.activations(config, n_atoms, n_edges) if family.activations else 0
    total = itemsize * (_PARAMETER_COPIES * parameters + _ACTIVATION_COPIES * activations)
    return ModelSize(int(parameters), int(total), int(n_atoms), int(n_edges))


def check_model_size(
    config: ModelConfig,
    *,
    allow_large: bool = False,
    n_atoms: int = 1000,
    n_edges: int = 100_000,
) -> ModelSize:
    """:func:`model_size`, refused above :data:`MAX_PARAMETERS` parameters or
    :data:`MAX_TRAINING_BYTES` of estimated training memory unless ``allow_large``.

    Raises
    ------
    InputError
        The config is too large; the message gives the numbers and the limits.

    Examples
    --------
    >>> from geodl.atoms import SeE2AConfig
    >>> check_model_size(SeE2AConfig(type_map=["H"], fitting_widths=(20000, 20000)))
    Traceback (most recent call last):
    ...
    geodl.errors.InputError: model: 432,066,451 parameters, ... exceeds the limits ...
    """
    size = model_size(config, n_atoms, n_edges)
    too_many = size.parameters > MAX_PARAMETERS
    too_big = size.training_bytes > MAX_TRAINING_BYTES
    if (too_many or too_big) and not allow_large:
        widths = _WIDTH_KEYS.get(config.type, "the widths of the model section")
        raise InputError(
            f"model: {size} exceeds the limits of {MAX_PARAMETERS:,} parameters and "
            f"{MAX_TRAINING_BYTES / 2**30:.0f} GiB. Reduce {widths} (or training.batch_size), "
            "or pass "
            "--allow-large (training.allow_large: true) if you mean it."
        )
    return size
