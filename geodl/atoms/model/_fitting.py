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

    Atoms are grouped by species: one GEMM chain per species, never per-atom work. When
    atoms come ordered by species (as :class:`~geodl.atoms.ase.GeoDLCalculator` orders
    them) each species is a contiguous slice; otherwise rows are gathered and scattered.

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
        if species.shape[0] < 2 or bool((species[1:] >= species[:-1]).all()):
            # Atoms ordered by species (the calculator orders them): one GEMM chain per
            # species on a contiguous slice, no gather/scatter of descriptor rows.
            counts: list[int] = torch.bincount(species, minlength=self.num_types).tolist()
            blocks = torch.split(descriptor, counts)
            outs: list[Tensor] = []
            for t, net in enumerate(self.nets):
                outs.append(net(blocks[t]).squeeze(-1))
            return torch.cat(outs)
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
