"""One registry of activation functions, selectable by name (the lecture's Table 1)."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

__all__ = ["ACTIVATIONS", "get_activation"]


def _leaky_relu() -> nn.Module:
    return nn.LeakyReLU(negative_slope=0.01)


#: name -> factory returning a fresh ``nn.Module`` (a new one per call, so learnable
#: activations such as PReLU never share their parameter between layers).
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": _leaky_relu,
    "prelu": nn.PReLU,
    "softplus": nn.Softplus,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}


def get_activation(activation: str | nn.Module) -> nn.Module:
    r"""Return a fresh activation module for ``activation``.

    ========== =====================================================================
    name       :math:`\sigma(x)`
    ========== =====================================================================
    sigmoid    :math:`1 / (1 + e^{-x})`
    tanh       :math:`(e^x - e^{-x}) / (e^x + e^{-x})`
    relu       :math:`\max(0, x)`
    leaky_relu :math:`\max(a x, x)` with :math:`a = 0.01`
    prelu      :math:`\max(a x, x)` with :math:`a` learnable (initialised at 0.25)
    softplus   :math:`\ln(1 + e^x)`
    gelu       :math:`x \Phi(x)`, :math:`\Phi` the standard normal CDF
    silu       :math:`x\, \mathrm{sigmoid}(x)`
    ========== =====================================================================

    Parameters
    ----------
    activation : str or torch.nn.Module
        A registered name (case-insensitive, ``-`` and ``_`` interchangeable) or a module,
        which is returned unchanged.

    Returns
    -------
    torch.nn.Module
        A new module on every call.

    Shapes
    ------
    Element-wise: any shape in, the same shape out. Every activation commutes with any
    permutation of entries, so it never breaks a symmetry of the layers around it.

    Raises
    ------
    ValueError
        If the name is not registered; the message lists the valid names.
    TypeError
        If ``activation`` is neither a string nor a module.

    Examples
    --------
    >>> import torch
    >>> get_activation("leaky_relu")(torch.tensor([-1.0, 2.0]))
    tensor([-0.0100,  2.0000])
    """
    if isinstance(activation, nn.Module):
        return activation
    if not isinstance(activation, str):
        raise TypeError(
            f"get_activation: 'activation' must be a name or an nn.Module, got "
            f"{type(activation).__name__}. Pass e.g. 'relu'."
        )
    key = activation.lower().replace("-", "_")
    if key not in ACTIVATIONS:
        raise ValueError(
            f"get_activation: unknown activation {activation!r}. Valid names: "
            f"{', '.join(ACTIVATIONS)}."
        )
    return ACTIVATIONS[key]()
