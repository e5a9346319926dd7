"""Per-species fitting networks: descriptor -> atomic energy."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from geodl.nn import ResidualMLP


class AtomicFitting(nn.Module):
    r"""One residual MLP per species mapping descriptors to atomic energies.

    .. math::

        \varepsilon_i = h_{t_i}(D_i), \qquad E = \sum_i \varepsilon_i

    Atoms are grouped by species (one pass per species, never per atom).

    Parameters
    ----------
    num_types : int
        Number of species.
    in_features : int
        Descriptor width.
    widths : sequence of int
        Hidden widths (residual where consecutive widths are equal).
    activation : str
        Activation name.
    resnet : bool
        Residual connections.

    Shapes
    ------
    ``descriptor (N, in_features)``, ``species (N,)`` -> ``(N,)``.

    Symmetry
    --------
    Acts atom-wise on invariant features: permutation equivariant, E(3) invariant.

    Examples
    --------
    >>> import torch
    >>> fit = AtomicFitting(2, 8, (16, 16))
    >>> fit(torch.zeros(3, 8), torch.tensor([0, 1, 1])).shape
    torch.Size([3])
    """

    def __init__(
        self,
        num_types: int,
        in_features: int,
        widths: Sequence[int] = (240, 240, 240),
        activation: str = "tanh",
        resnet: bool = True,
    ) -> None:
        super().__init__()
        self.num_types = int(num_types)
        self.in_features = int(in_features)
        self.widths = tuple(int(w) for w in widths)
        self.nets = nn.ModuleList(
            ResidualMLP(in_features, self.widths, 1, activation, resnet)
            for _ in range(self.num_types)
        )

    def forward(self, descriptor: Tensor, species: Tensor) -> Tensor:
        if len(self.nets) == 1:
            for net in self.nets:
                return net(descriptor).squeeze(-1)
        rows: list[Tensor] = []
        parts: list[Tensor] = []
        for t, net in enumerate(self.nets):
            idx = torch.nonzero(species == t).flatten()
            rows.append(idx)
            parts.append(net(descriptor.index_select(0, idx)).squeeze(-1))
        out = descriptor.new_zeros(descriptor.shape[0])
        return out.index_copy_(0, torch.cat(rows), torch.cat(parts))

    def extra_repr(self) -> str:
        return f"num_types={self.num_types}, in_features={self.in_features}, widths={self.widths}"
