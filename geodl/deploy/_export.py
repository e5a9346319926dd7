"""``geodl deploy``: a self-contained TorchScript file for MD engines (LAMMPS)."""

import copy
import os
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from geodl import __version__
from geodl.atoms import AtomisticModel, load_model
from geodl.deploy._layers import check_layer_path
from geodl.errors import InputError
from geodl.geometry import neighbor_list

__all__ = ["FORMAT_VERSION", "DeployedPotential", "deploy", "load_deployed"]

#: version of the deployed file layout; the LAMMPS plugin refuses newer files.
#: 2: ``mp_layers``, ``mp_widths``, ``mp_forward`` and ``mp_backward`` (per-layer path)
FORMAT_VERSION = 2

_DTYPES = {"float64": torch.float64, "float32": torch.float32}
_META = ("geodl_format_version", "geodl_version", "model_type", "dtype", "type_map")


class DeployedPotential(nn.Module):
    r"""What an MD engine calls: local energy and its gradient with respect to edges.

    .. math::

        E_\text{loc} = \sum_{i < n_\text{local}} E_i(\{\mathbf r_e\}), \qquad
        \mathbf G_e = \frac{\partial E_\text{loc}}{\partial \mathbf r_e}

    with :math:`E_i` the atomic energies of the model (reference energies and scale
    included) and :math:`\mathbf r_e = \mathbf x_j - \mathbf x_i` (image offset
    included) the edge vectors. The engine gets forces :math:`\mathbf F_i \mathrel{+}=
    \mathbf G_e`, :math:`\mathbf F_j \mathrel{-}= \mathbf G_e` and the virial
    :math:`W = -\sum_e \mathbf r_e \otimes \mathbf G_e`. Nodes past ``nlocal`` are
    ghost atoms: they feed the graph but their energies are not counted.

    Message-passing families that expose their layers (``embed``, ``layer`` and
    ``layer_widths``, as ``equivariant`` does) also get a per-layer path for engines
    that exchange node features between layers (``mp_layers > 0``):

    .. math::

        (h^{(t+1)}_{i}, e^{(t)}_i)_{i < n_\text{local}} = \texttt{mp\_forward}(t, h^{(t)},
        \ldots), \qquad E_i = \sum_t e^{(t)}_i

    with :math:`h^{(0)}` built from the species, :math:`e^{(t)} = \alpha\,
    \mathrm{Readout}_t` (plus the reference energy :math:`e_{t_i}` in layer 0), and
    ``mp_backward`` the gradients of :math:`S_t = \sum_{i < n_\text{local}} [e^{(t)}_i +
    h^{(t+1)}_i \cdot g^{(t+1)}_i]` with respect to :math:`h^{(t)}` (every node) and the
    edge vectors; :func:`~geodl.deploy._layers.simulate_exchange` spells out how an
    engine combines them.

    Parameters
    ----------
    model : AtomisticModel
        Any family of :data:`~geodl.atoms.MODEL_TYPES`.

    Shapes
    ------
    ``species (N,)`` int64, ``edge_vec (E, 3)`` float64, ``edge_index (2, E)`` int64,
    ``nlocal`` int -> ``energy ()``, ``atomic (nlocal,)``, ``grad (E, 3)``, all float64.
    ``mp_forward``: ``h (N, mp_widths[t])`` (ignored for ``t = 0``) -> ``(nlocal,
    mp_widths[t + 1])``, ``(nlocal,)``; ``mp_backward``: ``grad_next (nlocal,
    mp_widths[t + 1])`` (empty for the last layer) -> ``grad_h (N, mp_widths[t])``
    (no rows for ``t = 0``), ``grad (E, 3)``, ``energy (nlocal,)`` (that of
    ``mp_forward``: an engine need not run the last layer forward); every edge centre
    must be below ``nlocal``.

    Symmetry
    --------
    That of the model: energies E(3) invariant, ``grad`` rotates with the edges,
    permuting atoms permutes ``atomic``.

    Examples
    --------
    >>> import torch
    >>> from geodl.atoms import AtomisticModel, EnergyModelConfig
    >>> m = AtomisticModel(EnergyModelConfig(type_map=["H"], r_cut=3.0, r_smooth=2.0,
    ...     embed_widths=(4,), axis_neurons=2, fitting_widths=(4,), dtype="float64"))
    >>> pot = DeployedPotential(m)
    >>> e, atomic, g = pot(torch.zeros(2, dtype=torch.long),
    ...                    torch.tensor([[1.0, 0, 0], [-1.0, 0, 0]], dtype=torch.float64),
    ...                    torch.tensor([[0, 1], [1, 0]]), 1)
    >>> atomic.shape, g.shape, pot.mp_layers
    (torch.Size([1]), torch.Size([2, 3]), 0)
    """

    geodl_format_version: int
    geodl_version: str
    model_type: str
    dtype: str
    type_map: list[str]
    r_cut: float
    receptive_field: float
    mp_layers: int
    mp_widths: list[int]

    def __init__(self, model: AtomisticModel) -> None:
        super().__init__()
        self.core = model.core
        self.geodl_format_version = FORMAT_VERSION
        self.geodl_version = __version__
        self.model_type = str(model.config.type)
        self.dtype = str(model.energy_shift.dtype).replace("torch.", "")
        self.type_map = list(model.type_map)
        self.r_cut = float(model.r_cut)
        self.receptive_field = float(model.receptive_field)
        family = model.core.atomic
        layered = hasattr(family, "layer") and self.receptive_field > self.r_cut
        self.mp_widths = [int(w) for w in family.layer_widths] if layered else []
        self.mp_layers = len(self.mp_widths) - 1 if layered else 0

    def forward(
        self, species: Tensor, edge_vec: Tensor, edge_index: Tensor, nlocal: int
    ) -> tuple[Tensor, Tensor, Tensor]:
        vec = edge_vec.to(self.core.energy_shift.dtype).detach().requires_grad_(True)
        atomic = self.core.atomic_energies(species, vec, edge_index)[:nlocal]
        energy = atomic.sum()
        grads = torch.autograd.grad([energy], [vec], allow_unused=True)
        grad = grads[0]
        if grad is None:
            grad = torch.zeros_like(vec)
        return (
            energy.detach().to(torch.float64),
            atomic.detach().to(torch.float64),
            grad.to(torch.float64),
        )

    def _layer(
        self, t: int, h: Tensor, species: Tensor, vec: Tensor, edge_index: Tensor, nlocal: int
    ) -> tuple[Tensor, Tensor]:
        """Layer ``t`` of the family, its readout scaled (reference energies in layer 0)."""
        family = self.core.atomic
        h_in = family.embed(species) if t == 0 else h
        h_next, eps = family.layer(t, h_in, species, vec, edge_index, nlocal)
        energy = eps * self.core.energy_scale
        if t == 0:
            energy = energy + self.core.energy_shift.index_select(0, species[:nlocal])
        return h_next, energy

    @torch.jit.export
    def mp_forward(
        self, t: int, h: Tensor, species: Tensor, edge_vec: Tensor, edge_index: Tensor, nlocal: int
    ) -> tuple[Tensor, Tensor]:
        """``h^(t+1)`` and the energy contribution of layer ``t`` of the first ``nlocal``
        nodes (no gradients kept)."""
        if hasattr(self.core.atomic, "layer"):
            dtype = self.core.energy_shift.dtype
            with torch.no_grad():
                h_next, energy = self._layer(
                    t, h.to(dtype), species, edge_vec.to(dtype), edge_index, nlocal
                )
            return h_next.to(torch.float64), energy.to(torch.float64)
        raise RuntimeError(f"mp_forward: the {self.model_type} model has no per-layer path")

    @torch.jit.export
    def mp_backward(
        self,
        t: int,
        h: Tensor,
        species: Tensor,
        edge_vec: Tensor,
        edge_index: Tensor,
        nlocal: int,
        grad_next: Tensor,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Gradients of layer ``t``'s local energy plus ``h^(t+1) . grad_next`` with
        respect to ``h^(t)`` (every node) and the edge vectors, and that energy."""
        if hasattr(self.core.atomic, "layer"):
            dtype = self.core.energy_shift.dtype
            vec = edge_vec.to(dtype).detach().requires_grad_(True)
            h_in = h.to(dtype).detach().requires_grad_(t > 0)
            h_next, energy = self._layer(t, h_in, species, vec, edge_index, nlocal)
            total = energy.sum()
            if grad_next.numel() > 0:
                total = total + (h_next * grad_next.to(dtype)).sum()
            inputs = [vec, h_in] if t > 0 else [vec]
            grads = torch.autograd.grad([total], inputs, allow_unused=True)
            g_vec = grads[0]
            g_vec = torch.zeros_like(vec) if g_vec is None else g_vec
            g_h = torch.zeros_like(h_in)
            if t > 0:
                g = grads[1]
                if g is not None:
                    g_h = g
            return g_h.to(torch.float64), g_vec.to(torch.float64), energy.detach().to(torch.float64)
        raise RuntimeError(f"mp_backward: the {self.model_type} model has no per-layer path")


def _check_against_eager(model: AtomisticModel, scripted: torch.jit.ScriptModule) -> float:
    """Largest |difference| of energies/gradients, scripted vs eager, on a random cluster;
    for a local model also the graph the plugin builds (each neighbour replaced by a
    proxy node of its species), which is exact only when the receptive field is r_cut;
    for a model with a per-layer path that path over two domains exchanging features
    (:func:`~geodl.deploy._layers.check_layer_path`)."""
    gen = torch.Generator().manual_seed(0)
    n = 16
    pos = torch.rand(n, 3, generator=gen, dtype=torch.float64) * 1.2 * model.r_cut
    species = torch.arange(n) % len(model.type_map)
    edge_index, _ = neighbor_list(pos, model.r_cut)
    vec = pos[edge_index[1]] - pos[edge_index[0]]
    nlocal = n // 2
    e_s, a_s, g_s = scripted(species, vec, edge_index, nlocal)
    e_e, a_e, g_e = DeployedPotential(model)(species, vec, edge_index, nlocal)
    scale = 1.0 + float(a_e.abs().max())
    tol = (1e-10 if model.energy_shift.dtype == torch.float64 else 1e-4) * scale
    pairs = [(e_s, e_e), (a_s, a_e), (g_s, g_e)]
    diff = max(float((x - y).abs().max()) for x, y in pairs)
    if not diff <= tol:
        raise RuntimeError(
            f"deploy: the TorchScript export differs from the model by {diff:.3g} "
            f"(tolerance {tol:.3g}); this is a bug in the model family's scripting."
        )
    if model.receptive_field <= model.r_cut:
        keep = edge_index[0] < nlocal
        proxy = torch.stack([edge_index[0][keep], nlocal + species[edge_index[1][keep]]])
        nodes = torch.cat([species[:nlocal], torch.arange(len(model.type_map))])
        e_p, a_p, g_p = scripted(nodes, vec[keep], proxy, nlocal)
        pairs = [(e_p, e_e), (a_p, a_e), (g_p, g_e[keep])]
        local = max(float((x - y).abs().max()) for x, y in pairs)
        if not local <= tol:
            raise RuntimeError(
                f"deploy: the {model.config.type!r} model declares a receptive field equal "
                f"to r_cut ({model.r_cut} A) but its energies depend on more than each "
                f"atom's own neighbours (difference {local:.3g}); give the family its true "
                "receptive_field (e.g. layers * r_cut)."
            )
        diff = max(diff, local)
    if int(scripted.mp_layers) > 0:
        layered = check_layer_path(scripted, species, pos, model.r_cut)
        if not layered <= tol:
            raise RuntimeError(
                f"deploy: the per-layer path of the {model.config.type!r} model (mp_forward / "
                f"mp_backward, LAMMPS's exchange mode) differs from its one-shot energies and "
                f"gradients by {layered:.3g} (tolerance {tol:.3g}); this is a bug in the "
                "family's embed / layer methods."
            )
        diff = max(diff, layered)
    return diff


def deploy(
    model: AtomisticModel | str | os.PathLike[str],
    out: str | os.PathLike[str],
    dtype: str = "float64",
) -> dict[str, Any]:
    """Write a self-contained TorchScript file for ``pair_style geodl``.

    The file holds the weights, the computation, the species map (``type_map``), the
    cutoff and receptive field (Å), the file format version and the geodl version; the
    LAMMPS plugin needs nothing else. The export is checked against the eager model on
    a random cluster before it is written.

    Parameters
    ----------
    model : AtomisticModel or path
        A model or a file written by ``geodl train`` (``RUN/model.pt``).
    out : path
        Output file (``model.pth``).
    dtype : {"float64", "float32"}
        Precision of the deployed model (``float64``: energies conserved to round-off).

    Returns
    -------
    dict
        The metadata stored in the file, plus ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geodl.atoms import AtomisticModel, EnergyModelConfig
    >>> m = AtomisticModel(EnergyModelConfig(type_map=["Cu", "Au"], r_cut=4.0, r_smooth=3.0,
    ...     embed_widths=(4,), axis_neurons=2, fitting_widths=(4,)))
    >>> meta = deploy(m, pathlib.Path(tempfile.mkdtemp()) / "model.pth")
    >>> meta["type_map"], meta["dtype"], meta["receptive_field"]
    (['Cu', 'Au'], 'float64', 4.0)
    """
    if dtype not in _DTYPES:
        raise InputError(f"deploy: unknown dtype {dtype!r}. Valid dtypes: {', '.join(_DTYPES)}.")
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if not path.is_file():
            raise InputError(
                f"deploy: no model file at {str(path)!r}; pass RUN/model.pt written by geodl train."
            )
        model = load_model(path)
    if not isinstance(model, AtomisticModel):
        raise InputError(
            f"deploy: 'model' must be an AtomisticModel or a model file, got "
            f"{type(model).__name__}."
        )
    model = copy.deepcopy(model).to(_DTYPES[dtype]).eval()  # never touch the caller's model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated upstream
        scripted = torch.jit.script(DeployedPotential(model))
    _check_against_eager(model, scripted)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    scripted.save(str(out))
    meta = metadata_of(scripted)
    meta["path"] = str(out)
    return meta


def metadata_of(module: torch.jit.ScriptModule) -> dict[str, Any]:
    """The metadata attributes of a deployed module."""
    meta = {name: getattr(module, name) for name in _META}
    meta["type_map"] = list(meta["type_map"])
    meta["r_cut"] = float(module.r_cut)
    meta["receptive_field"] = float(module.receptive_field)
    meta["mp_layers"] = int(getattr(module, "mp_layers", 0))  # format 1 files have none
    meta["mp_widths"] = [int(w) for w in getattr(module, "mp_widths", [])]
    return meta


def load_deployed(path: str | os.PathLike[str]) -> torch.jit.ScriptModule:
    """Load a file written by :func:`deploy` (checks the format version).

    Raises
    ------
    InputError
        If the file is missing, not a TorchScript file, not a geodl deployment, or of a
        newer format than this geodl reads.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"load_deployed: no file at {str(path)!r}; write one with geodl deploy.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated
            module = torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            f"load_deployed: cannot read {str(path)!r} as TorchScript ({first}); write it "
            "with geodl deploy."
        ) from exc
    if not hasattr(module, "geodl_format_version"):
        raise InputError(
            f"load_deployed: {str(path)!r} is TorchScript but not a geodl deployment; "
            "write one with geodl deploy."
        )
    version = int(module.geodl_format_version)
    if version > FORMAT_VERSION:
        raise InputError(
            f"load_deployed: {str(path)!r} has format version {version}, newer than this "
            f"geodl reads ({FORMAT_VERSION}); upgrade geodl."
        )
    return module.eval()
