"""``geodl bench digits``: LeNet-5-style CNN vs MLP on scikit-learn's 8x8 digits.

The anchor, an RBF support-vector classifier (scikit-learn's classic digits example,
``SVC(gamma=0.001)`` on raw pixels), is fitted on the same split.
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F

from geodl.bench._training import fit, num_threads
from geodl.data import load_digits
from geodl.nn import MLP, LeNet5

ANCHORS = {"svc": 0.97}
TARGETS = {"lenet5": 0.985}


def random_shift(x: torch.Tensor, gen: torch.Generator, max_shift: int = 1) -> torch.Tensor:
    """Translate each image by up to ``max_shift`` pixels (zero fill): a data augmentation
    expressing the shift prior the dense layers of LeNet do not have."""
    b = x.shape[0]
    p = max_shift
    padded = F.pad(x, (p, p, p, p))
    dx = torch.randint(0, 2 * p + 1, (b,), generator=gen)
    dy = torch.randint(0, 2 * p + 1, (b,), generator=gen)
    h, w = x.shape[-2:]
    rows = (dy[:, None] + torch.arange(h)[None]).reshape(b, 1, h, 1).expand(b, 1, h, w + 2 * p)
    tmp = padded.gather(2, rows.expand(b, x.shape[1], h, w + 2 * p))
    cols = (dx[:, None] + torch.arange(w)[None]).reshape(b, 1, 1, w).expand(b, x.shape[1], h, w)
    return tmp.gather(3, cols)


def _svc(data: Any) -> dict[str, Any]:
    from sklearn.svm import SVC

    start = time.perf_counter()
    clf = SVC(gamma=0.001)
    xtr = (data.x_train.flatten(1) * 16).numpy()
    xte = (data.x_test.flatten(1) * 16).numpy()
    clf.fit(xtr, data.y_train.numpy())
    acc = float((clf.predict(xte) == data.y_test.numpy()).mean())
    return {
        "test_accuracy": acc,
        "params": int(clf.support_vectors_.size),
        "seconds": round(time.perf_counter() - start, 2),
    }


def run(
    seed: int = 0,
    quick: bool = False,
    epochs: int | None = None,
    test_size: float = 0.2,
    augment: bool = True,
    threads: int = 2,
) -> dict[str, Any]:
    """Digits: SVC anchor, LeNet-5-style CNN and MLP test accuracies.

    Options: ``epochs`` (override), ``test_size`` (default 0.2), ``augment`` (random
    1-pixel shifts for the CNN, default True), ``threads``.
    """
    with num_threads(threads):
        return _run(seed, quick, epochs, test_size, augment)


def _run(
    seed: int, quick: bool, epochs: int | None, test_size: float, augment: bool
) -> dict[str, Any]:
    data = load_digits(test_size=test_size, seed=seed)
    if quick:
        data = data._replace(x_train=data.x_train[:200], y_train=data.y_train[:200])
    results: dict[str, dict[str, Any]] = {"svc": _svc(data)}
    results["svc"]["anchor"] = ANCHORS["svc"]
    n_epochs = 1 if quick else (epochs or 60)

    torch.manual_seed(seed)
    lenet = LeNet5(
        1,
        10,
        image_size=8,
        channels=(4, 8) if quick else (32, 64),
        hidden=(16,) if quick else (120, 84),
        kernel_size=3,
        padding="same",
        pool="max",
        activation="relu",
        dropout=0.0 if quick else 0.25,
    )
    results["lenet5"] = fit(
        lenet,
        data,
        task="classification",
        seed=seed,
        epochs=n_epochs,
        lr=2e-3,
        weight_decay=1e-2,
        batch_size=64,
        augment=random_shift if augment else None,
    )
    torch.manual_seed(seed)
    mlp = MLP(64, [16] if quick else [256, 256], 10)
    flat = data._replace(x_train=data.x_train.flatten(1), x_test=data.x_test.flatten(1))
    results["mlp"] = fit(
        mlp,
        flat,
        task="classification",
        seed=seed,
        epochs=n_epochs,
        lr=1e-3,
        weight_decay=1e-2,
        batch_size=64,
    )
    return {
        "task": "digits",
        "seed": seed,
        "quick": quick,
        "n_train": len(data.y_train),
        "n_test": len(data.y_test),
        "results": results,
        "anchors": ANCHORS,
        "anchor_source": "scikit-learn digits example: SVC(gamma=0.001), refitted on this split",
    }
