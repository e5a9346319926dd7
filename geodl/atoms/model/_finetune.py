"""Fine-tuning: start from a trained model, extend its type map to new elements."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from geodl.atoms.model._model import AtomisticModel
from geodl.atoms.model._registry import model_config_from_dict

__all__ = ["FINETUNE_KEYS", "extend_type_map", "finetune_model"]

#: ``model.*`` keys a fine-tuning run may set; every other key comes from the initial model.
FINETUNE_KEYS = ("type_map", "e0s", "dtype", "min_distance")


def _list_prefixes(
    state: Mapping[str, Tensor], probe: Mapping[str, Tensor], old: Mapping[str, Tensor]
) -> dict[str, int]:
    """Prefixes ``...name.`` of ModuleLists with one entry per type (or per type pair),
    found as the keys a model with one more type has in addition; value: the number of
    entries in the ``old`` model."""
    prefixes: dict[str, set[int]] = {}
    for key in set(probe) - set(state):
        parts = key.split(".")
        for n, part in enumerate(parts[:-1]):
            entry = ".".join(parts[: n + 1]) + "."
            if part.isdigit() and not any(k.startswith(entry) for k in state):
                prefixes.setdefault(".".join(parts[:n]) + ".", set())
                break
    for prefix in prefixes:
        for key in old:
            if key.startswith(prefix):
                prefixes[prefix].add(int(key[len(prefix) :].split(".")[0]))
    return {p: len(ix) for p, ix in prefixes.items()}


def _rename(key: str, prefixes: dict[str, int], pos: list[int], t_old: int, t_new: int) -> str:
    for prefix, count in prefixes.items():
        if key.startswith(prefix):
            idx, _, tail = key[len(prefix) :].partition(".")
            k = int(idx)
            if count == t_old * t_old and t_old > 1:  # one entry per (centre, neighbour) pair
                a, b = divmod(k, t_old)
                k_new = pos[a] * t_new + pos[b]
            else:
                k_new = pos[k]
            return f"{prefix}{k_new}.{tail}"
    return key


def _type_axis(a: Tensor, b: Tensor) -> int | None:
    """The axis along which a tensor grows with the number of types (None: it does not)."""
    diff = [d for d, (x, y) in enumerate(zip(a.shape, b.shape, strict=True)) if x != y]
    return diff[0] if diff else None


def extend_type_map(
    model: AtomisticModel,
    type_map: Sequence[str],
    statistics_from: AtomisticModel | None = None,
) -> AtomisticModel:
    """A copy of ``model`` for the species ``type_map`` (a superset of ``model.type_map``,
    in any order).

    Known species keep their weights, statistics and reference energies; new species get
    the freshly initialised networks and table rows of a new model, and reference energy
    0 (refit them on data). Which parameters belong to a species is found, for any
    family, by comparing the model with one built for one more species.

    .. math::

        \theta'_{\\pi(t)} = \theta_t \\quad (t \\in \text{old map}), \\qquad
        \\pi(t) = \text{position of } t \text{ in the new map}

    Parameters
    ----------
    model : AtomisticModel
        The trained model.
    type_map : sequence of str
        The new element list; must contain every element of ``model.type_map``.
    statistics_from : AtomisticModel, optional
        A model with the new ``type_map`` whose :meth:`~AtomisticModel.fit_statistics` ran
        on the new data: the normalisation rows (buffers) of new species come from it.

    Returns
    -------
    AtomisticModel
        A new model in training mode.

    Symmetry
    --------
    Unchanged: a relabelling of species indices.

    Examples
    --------
    >>> from geodl.atoms import EnergyModel, EnergyModelConfig
    >>> m = EnergyModel(EnergyModelConfig(type_map=["Cu"], embed_widths=(4,), axis_neurons=2,
    ...                                   fitting_widths=(4,)))
    >>> extend_type_map(m, ["Ag", "Cu"]).type_map
    ['Ag', 'Cu']
    """
    old, new = list(model.type_map), list(type_map)
    missing = [t for t in old if t not in new]
    if missing:
        raise ValueError(
            f"extend_type_map: the new type_map {new} drops {missing}, which the model "
            f"knows ({old}); keep every element of the model's type_map."
        )
    e0s: Any = "fit"
    if isinstance(model.config.e0s, dict):
        e0s = {t: model.config.e0s.get(t, 0.0) for t in new}
    base = {**model.config.to_dict(), "e0s": "fit"}
    fresh = AtomisticModel(model_config_from_dict({**base, "type_map": new, "e0s": e0s}))
    probe = AtomisticModel(model_config_from_dict({**base, "type_map": new + ["__probe__"]}))
    state, probe_state = fresh.state_dict(), probe.state_dict()
    prefixes = _list_prefixes(state, probe_state, model.state_dict())
    pos = [new.index(t) for t in old]
    for key, value in model.state_dict().items():
        target = _rename(key, prefixes, pos, len(old), len(new))
        if target not in state:
            raise ValueError(f"extend_type_map: no parameter {target!r} in the extended model.")
        _copy_known(key, value, state[target], probe_state.get(target), pos)
    if statistics_from is not None:
        added = torch.tensor([k for k, t in enumerate(new) if t not in old], dtype=torch.long)
        buffers = {name for name, _ in fresh.named_buffers()}
        _copy_statistics(state, probe_state, statistics_from.state_dict(), buffers, added)
    fresh.load_state_dict(state)
    return fresh


def _copy_known(
    key: str, value: Tensor, slot: Tensor, probe: Tensor | None, pos: list[int]
) -> None:
    """Copy the old model's ``value`` into ``slot`` of the extended model, in place: whole
    when nothing depends on the species, else its rows to the positions ``pos``."""
    axis = _type_axis(slot, probe) if probe is not None else None
    if axis is None and slot.shape == value.shape:
        slot.copy_(value)
    elif axis is not None and value.shape[axis] == len(pos):
        slot.index_copy_(axis, torch.tensor(pos, dtype=torch.long), value.to(slot.dtype))
    else:
        raise ValueError(
            f"extend_type_map: cannot map {key!r} of shape {tuple(value.shape)} onto "
            f"{tuple(slot.shape)}; this family does not support extending its type map."
        )


def _copy_statistics(
    state: dict[str, Tensor],
    probe_state: dict[str, Tensor],
    ref: dict[str, Tensor],
    buffers: set[str],
    added: Tensor,
) -> None:
    """Copy the normalisation rows (buffers, not the reference energies) of the ``added``
    species from ``ref`` into ``state``, in place."""
    for key in buffers & set(probe_state) & set(ref):
        axis = _type_axis(state[key], probe_state[key])
        if axis is not None and key != "core.energy_shift" and len(added):
            state[key].index_copy_(axis, added, ref[key].index_select(axis, added))


def finetune_model(
    model: AtomisticModel,
    species: Sequence[str],
    overrides: Mapping[str, Any] | None = None,
    graphs: Sequence[Any] | None = None,
) -> AtomisticModel:
    """The starting point of a fine-tuning run (``training.init_model``).

    The architecture comes from ``model``; ``overrides`` (the run's ``model.*`` keys) may
    set only :data:`FINETUNE_KEYS`: ``type_map`` (a superset), ``e0s`` (``"fit"``: keep the
    model's reference energies and let the trainer fit those of new elements and the
    residual; a mapping: use these values), ``dtype`` and ``min_distance``. The type map
    is extended by the elements of ``species`` the model does not know.

    Examples
    --------
    >>> from geodl.atoms import EnergyModel, EnergyModelConfig
    >>> m = EnergyModel(EnergyModelConfig(type_map=["Cu"], embed_widths=(4,), axis_neurons=2,
    ...                                   fitting_widths=(4,)))
    >>> finetune_model(m, ["Ag", "Cu"], {"e0s": {"Cu": -1.0, "Ag": -2.0}}).energy_shift
    tensor([-1., -2.])
    """
    overrides = dict(overrides or {})
    current = model.config.to_dict()
    bad = sorted(k for k, v in overrides.items() if k not in FINETUNE_KEYS and current.get(k) != v)
    if bad:
        raise ValueError(
            f"training.init_model: model keys {bad} differ from the initial model's; a "
            f"fine-tuning run takes its architecture from the model and may set only "
            f"{', '.join(FINETUNE_KEYS)}. Remove them (the model has "
            + ", ".join(f"{k}={current.get(k)!r}" for k in bad)
            + ")."
        )
    type_map = list(overrides.get("type_map") or model.type_map)
    type_map += sorted(t for t in set(species) - set(type_map))
    ref = None
    if graphs is not None and set(type_map) - set(model.type_map):
        ref_config = {**model.config.to_dict(), "type_map": type_map, "e0s": "fit"}
        ref = AtomisticModel(model_config_from_dict(ref_config))
        ref.fit_statistics(graphs)
    extended = extend_type_map(model, type_map, statistics_from=ref)
    changes = {k: overrides[k] for k in ("dtype", "min_distance") if k in overrides}
    e0s = overrides.get("e0s", "fit")
    config = dataclasses.replace(extended.config, **changes, e0s=e0s)
    out = AtomisticModel(config)
    out.load_state_dict(extended.state_dict())
    if isinstance(e0s, dict):
        with torch.no_grad():
            out.energy_shift.copy_(torch.tensor([float(e0s[t]) for t in type_map]))
    return out.train()
