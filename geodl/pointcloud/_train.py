r"""Training and evaluation of point-cloud classifiers under orientation protocols.

The protocols of the rotation-invariance literature are named ``train/test``:

* ``z/z`` — trained and tested on clouds turned by random angles about the vertical axis;
* ``z/SO3`` — trained as above, tested on uniformly random 3-D rotations;
* ``SO3/SO3`` — trained and tested on uniformly random 3-D rotations.

Here the orientation is drawn afresh for every cloud of every batch (an augmentation for
a model that needs one; a no-op for an invariant model), from the registry
:data:`geodl.pointcloud.ORIENTATIONS`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from geodl.pointcloud._transforms import ORIENTATIONS, random_rotations, rotate
from geodl.training import Bound, LoopState, TrainLoop, TrainTask

__all__ = ["train_classifier", "evaluate", "predict", "permute_points", "subsample_points"]


def _loader(data: Sequence[Any], batch_size: int, shuffle: bool, seed: int) -> Any:
    from torch_geometric.loader import DataLoader

    g = torch.Generator().manual_seed(int(seed))
    return DataLoader(list(data), batch_size=batch_size, shuffle=shuffle, generator=g)


def _check_orientation(owner: str, orientation: str) -> None:
    if orientation not in ORIENTATIONS:
        raise ValueError(
            f"{owner}: unknown 'orientation' {orientation!r}. Valid: {', '.join(ORIENTATIONS)}."
        )


def _float_dtype(model: nn.Module) -> torch.dtype:
    """The dtype of the model's floating-point parameters (default: torch's default)."""
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.get_default_dtype()


def _oriented(batch: Any, orientation: str, g: torch.Generator, dtype: torch.dtype) -> Tensor:
    # Cast first, rotate second: a float64 model then sees its clouds turned to float64
    # accuracy, so differently oriented copies differ only at that level.
    pos = batch.pos.to(dtype)
    if orientation == "none":
        return pos
    rot = random_rotations(int(batch.num_graphs), orientation, g, pos.dtype)
    return rotate(pos, rot, batch.batch)


def train_classifier(
    model: nn.Module,
    train_data: Sequence[Any],
    *,
    epochs: int = 30,
    batch_size: int = 32,
    lr: float = 3e-3,
    weight_decay: float = 0.0,
    orientation: str = "z",
    seed: int = 0,
    val_data: Sequence[Any] | None = None,
    fit_statistics: bool = True,
    point_dropout: float = 0.0,
    progress: bool = False,
) -> dict[str, list[float]]:
    r"""Train a classifier ``model(pos, batch) -> logits`` with Adam and cross-entropy.

    Every cloud of every batch is turned by a fresh random matrix of ``orientation``; the
    learning rate follows a cosine schedule from ``lr`` to 0.

    .. math::
        \mathcal L = -\frac1B \sum_b \log \operatorname{softmax}\big(f(R_b X_b)\big)_{y_b},
        \qquad R_b \sim \mathrm{orientation}

    Parameters
    ----------
    model : nn.Module
        Called as ``model(pos (N, 3), batch (N,)) -> (B, C)``.
    train_data : sequence of torch_geometric.data.Data
        Clouds with ``pos`` and ``y``.
    epochs, batch_size, lr, weight_decay : training hyper-parameters.
    orientation : str
        ``"none"``, ``"z"``, ``"SO3"`` or ``"O3"``.
    seed : int
        Seed of the shuffling and of the rotations (the model's initialisation is the
        caller's business).
    val_data : sequence of Data, optional
        Evaluated after each epoch in the same orientation.
    fit_statistics : bool
        First call ``model.fit_statistics(train_data)`` when the model has one (feature
        standardisation of :class:`InvariantPointClassifier`).
    point_dropout : float
        Augmentation: each cloud of each batch keeps a random fraction, uniform in
        ``[1 - point_dropout, 1]``, of its points (0: off).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    dict
        ``{"loss": [...], "train_accuracy": [...], "val_accuracy": [...]}`` per epoch.

    Examples
    --------
    >>> from geodl.pointcloud import PointNetBaseline, tetris_dataset
    >>> model = PointNetBaseline(8, hidden=(16,), head=())
    >>> hist = train_classifier(model, tetris_dataset(), epochs=2, orientation="none")
    >>> len(hist["loss"])
    2
    """
    batch_size, lr, weight_decay = _check_options(
        train_data, epochs, batch_size, lr, weight_decay, orientation, point_dropout
    )
    fit_stats = getattr(model, "fit_statistics", None)
    if fit_statistics and callable(fit_stats):
        fit_stats(train_data)
    loader = _loader(train_data, batch_size, True, seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * len(loader)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))
    )
    task = _ClassifierTask(model, loader, orientation, seed, val_data, point_dropout, progress)
    if task.bar is not None:
        task.bar.total = epochs
    TrainLoop(opt, epochs=epochs, scheduler=sched, steps_per_epoch=len(loader)).run(task)
    task.close()
    model.eval()
    return task.history


def _check_options(
    train_data: Sequence[Any],
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    orientation: str,
    point_dropout: float,
) -> tuple[int, float, float]:
    _check_orientation("train_classifier", orientation)
    if not 0.0 <= point_dropout < 1.0:
        raise ValueError(
            f"train_classifier: 'point_dropout' must be in [0, 1), got {point_dropout!r}."
        )
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"train_classifier: 'epochs' must be a positive integer, got {epochs!r}.")
    if len(train_data) == 0:
        raise ValueError("train_classifier: 'train_data' is empty; pass at least one cloud.")
    batch_size = Bound("int", 1, 10**6).check(batch_size, "train_classifier.batch_size")
    lr = Bound("float", 0, 10, low_open=True).check(lr, "train_classifier.lr")
    weight_decay = Bound("float", 0, 1e3).check(weight_decay, "train_classifier.weight_decay")
    return batch_size, lr, weight_decay


class _ClassifierTask(TrainTask):
    """One epoch = one pass of the shuffled loader; every cloud turned by a fresh random
    matrix of ``orientation``; the history row after each epoch."""

    def __init__(
        self,
        model: nn.Module,
        loader: Any,
        orientation: str,
        seed: int,
        val_data: Sequence[Any] | None,
        point_dropout: float,
        progress: bool,
    ) -> None:
        self.model, self.loader, self.orientation = model, loader, orientation
        self.seed, self.val_data, self.point_dropout = int(seed), val_data, point_dropout
        self.g = torch.Generator().manual_seed(self.seed + 1)  # orientations
        self.g_drop = torch.Generator().manual_seed(self.seed + 3)  # same drops in any orientation
        self.history: dict[str, list[float]] = {
            "loss": [],
            "train_accuracy": [],
            "val_accuracy": [],
        }
        self.bar: Any = None
        if progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=None, desc="train", leave=False)

    def batches(self, state: LoopState) -> Any:
        return self.loader

    def begin_epoch(self, state: LoopState, n_batches: int) -> None:
        self.model.train()

    def step(self, batch: Any, lr: float) -> dict[str, float]:
        pos = _oriented(batch, self.orientation, self.g, _float_dtype(self.model))
        cloud = batch.batch
        n = int(batch.num_graphs)
        if self.point_dropout > 0:
            pos, cloud = _drop_points(pos, cloud, n, self.point_dropout, self.g_drop)
        logits = self.model(pos, cloud)
        loss = nn.functional.cross_entropy(logits, batch.y)
        loss.backward()
        correct = int((logits.argmax(-1) == batch.y).sum())
        return {"n": n, "loss": float(loss.detach()) * n, "correct": correct}

    def record(self, state: LoopState, completed: bool, improved: bool) -> None:
        total = state.sums["n"]
        self.history["loss"].append(state.sums["loss"] / total)
        self.history["train_accuracy"].append(state.sums["correct"] / total)
        if self.val_data:
            accuracy = evaluate(
                self.model, self.val_data, orientation=self.orientation, seed=self.seed
            )
            self.history["val_accuracy"].append(accuracy)
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _drop_points(
    pos: Tensor, batch: Tensor, num_graphs: int, rate: float, g: torch.Generator
) -> tuple[Tensor, Tensor]:
    keep_frac = 1.0 - rate * torch.rand(num_graphs, generator=g, dtype=pos.dtype)
    keep = torch.rand(pos.shape[0], generator=g, dtype=pos.dtype) < keep_frac[batch]
    # never drop a cloud below 4 points: keep its first 4 anyway
    first = torch.ones_like(batch, dtype=torch.bool)
    first[1:] = batch[1:] != batch[:-1]
    start = torch.cumsum(first.long(), 0)
    rank = torch.arange(len(batch)) - torch.nonzero(first)[:, 0][start - 1]
    keep |= rank < 4
    return pos[keep], batch[keep]


@torch.no_grad()
def predict(
    model: nn.Module,
    data: Sequence[Any],
    *,
    orientation: str = "none",
    seed: int = 0,
    batch_size: int = 64,
) -> tuple[Tensor, Tensor]:
    """Predicted classes and true labels of ``data``, each cloud turned by a random
    matrix of ``orientation`` (seeded: the same draw for every model).

    Returns
    -------
    (Tensor, Tensor)
        ``(predictions (M,), labels (M,))``.
    """
    _check_orientation("predict", orientation)
    was_training = model.training
    model.eval()
    g = torch.Generator().manual_seed(int(seed) + 2)
    preds, labels = [], []
    for batch in _loader(data, batch_size, False, seed):
        pos = _oriented(batch, orientation, g, _float_dtype(model))
        preds.append(model(pos, batch.batch).argmax(-1))
        labels.append(batch.y)
    model.train(was_training)
    return torch.cat(preds), torch.cat(labels)


def evaluate(
    model: nn.Module,
    data: Sequence[Any],
    *,
    orientation: str = "none",
    seed: int = 0,
    batch_size: int = 64,
) -> float:
    """Accuracy in ``[0, 1]`` of ``model`` on ``data`` turned by random ``orientation``
    matrices (see :func:`predict`).

    Examples
    --------
    >>> from geodl.pointcloud import PointNetBaseline, tetris_dataset
    >>> acc = evaluate(PointNetBaseline(8), tetris_dataset(), orientation="SO3")
    >>> 0.0 <= acc <= 1.0
    True
    """
    if len(data) == 0:
        raise ValueError("evaluate: 'data' is empty; pass at least one cloud.")
    pred, y = predict(model, data, orientation=orientation, seed=seed, batch_size=batch_size)
    return float((pred == y).float().mean())


def permute_points(data: Sequence[Any], seed: int = 0) -> list:
    """Copies of the clouds with their points in a random order (labels unchanged).

    Examples
    --------
    >>> from geodl.pointcloud import tetris_dataset
    >>> permute_points(tetris_dataset())[0].pos.shape
    torch.Size([4, 3])
    """
    g = torch.Generator().manual_seed(int(seed))
    out = []
    for d in data:
        perm = torch.randperm(d.pos.shape[0], generator=g)
        c = d.clone()
        c.pos = d.pos[perm]
        out.append(c)
    return out


def subsample_points(data: Sequence[Any], fraction: float, seed: int = 0) -> list:
    """Copies of the clouds keeping a random ``fraction`` of their points (at least 2).

    Examples
    --------
    >>> from geodl.pointcloud import make_shapes
    >>> subsample_points(make_shapes(1, num_points=100)[:1], 0.5)[0].pos.shape
    torch.Size([50, 3])
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"subsample_points: 'fraction' must be in (0, 1], got {fraction!r}.")
    g = torch.Generator().manual_seed(int(seed))
    out = []
    for d in data:
        n = d.pos.shape[0]
        keep = torch.randperm(n, generator=g)[: max(2, round(fraction * n))]
        c = d.clone()
        c.pos = d.pos[keep.sort().values]
        c.num_nodes = c.pos.shape[0]
        out.append(c)
    return out
