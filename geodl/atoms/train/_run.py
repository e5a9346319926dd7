"""``train(config)``: read the data a config names, then train into ``config.out``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from geodl.atoms.data import AtomsDataset, read_structures
from geodl.atoms.model import check_model_size, model_config_from_dict
from geodl.atoms.train._config import TrainConfig
from geodl.atoms.train._trainer import Trainer, TrainResult
from geodl.errors import InputError
from geodl.training import Budget

__all__ = ["load_datasets", "train"]


def load_datasets(
    config: TrainConfig,
) -> tuple[AtomsDataset, AtomsDataset | None, AtomsDataset | None]:
    """Read and split the data named by ``config.data`` into (train, valid, test)."""
    d = config.data
    if not d.train:
        raise InputError(
            "data.train is not set: give the training file with --data FILE or data.train "
            "in the config."
        )
    keys: dict[str, Any] = dict(
        index=d.index,
        energy_key=d.energy_key,
        forces_key=d.forces_key,
        stress_key=d.stress_key,
        fmt=d.format,
    )
    full = read_structures(d.train, **keys)
    fractions = [0.0 if d.valid else d.valid_fraction, 0.0 if d.test else d.test_fraction]
    if len(full) == 1 and fractions[0] > 0:
        fractions[0] = 0.0  # a single structure: validate on it
    train, valid, test = full.split(fractions, seed=d.split_seed)
    if d.max_structures is not None and len(train) > d.max_structures:
        perm = np.random.default_rng(d.split_seed + 1).permutation(len(train))
        train = train.subset(np.sort(perm[: d.max_structures]))
    if d.valid:
        valid = read_structures(d.valid, **keys)
    if d.test:
        test = read_structures(d.test, **keys)
    return train, (valid if len(valid) else None), (test if len(test) else None)


def _check_size_early(config: TrainConfig) -> None:
    """The size limits for the species ``model.type_map`` lists (at least one), before
    any data is read; the trainer checks again with the data's species and batches."""
    if config.training.init_model:
        return  # the architecture comes from that model
    model = dict(config.model)
    model.setdefault("type_map", ["H"])
    try:
        check_model_size(model_config_from_dict(model), allow_large=config.training.allow_large)
    except (TypeError, ValueError) as exc:
        raise InputError(str(exc)) from None


def train(
    config: TrainConfig,
    *,
    log: Callable[[str], None] | None = None,
    callbacks: Sequence[Callable[[Trainer, dict[str, float]], None]] = (),
    force: bool = False,
) -> TrainResult:
    """Read the data of ``config``, train, write model/checkpoint/log/plots to ``config.out``.

    A finished run with the same config in ``config.out`` is not trained again (the stored
    result comes back with ``already_complete=True``) unless ``force`` (start over) or
    ``training.resume: true`` (continue it). The ``max_time`` budget starts here: reading
    the data counts.

    Examples
    --------
    >>> import tempfile
    >>> from geodl.atoms import bundled_dataset, load_config
    >>> cfg = load_config(overrides=[
    ...     f"data.train={bundled_dataset('argon')}", "data.index=:8", "epochs=1",
    ...     "model.r_cut=4.0", "model.r_smooth=3.0", "embed_widths=[4]", "axis_neurons=2",
    ...     "fitting_widths=[8]", "progress=false", "plots=false", f"out={tempfile.mkdtemp()}"])
    >>> result = train(cfg, log=lambda line: None)
    >>> sorted(result.files)[:2]
    ['checkpoint', 'log']
    >>> train(cfg, log=lambda line: None).already_complete
    True
    """
    budget = Budget(config.training.max_time)
    _check_size_early(config)
    trainer = Trainer(config, log=log, callbacks=callbacks, force=force)
    trainer.budget = budget
    trainer.write_config = True
    run = trainer.decide()
    if run.complete:
        return trainer.stored_result(run)
    train_set, valid_set, test_set = load_datasets(config)
    return trainer.fit(train_set, valid_set, test_set)
