"""``geodl bench mnist1d`` and ``geodl bench mnist1d-shuffled``.

MNIST-1D (Greydanus & Kobak), generated offline at the package's default arguments
(4000 train / 1000 test signals of length 40): logistic regression, MLP, CNN and LSTM.
The shuffled variant applies one fixed permutation to the 40 positions: the MLP does not
care (a permutation of its input coordinates is just another dense W), while the CNN's
translation prior and the LSTM's temporal prior stop matching the data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from geodl.bench._training import fit, num_threads
from geodl.data import Split, load_mnist1d
from geodl.nn import LSTM, MLP, ConvNet1d

#: published test accuracies (Greydanus & Kobak 2024, MNIST-1D paper, Table 1)
ANCHORS = {
    "mnist1d": {"logistic": 0.32, "mlp": 0.68, "cnn": 0.94, "gru": 0.91},
    "mnist1d-shuffled": {"logistic": 0.32, "mlp": 0.68, "cnn": 0.56, "gru": 0.57},
}

#: our goals for the unshuffled task
TARGETS = {"cnn": 0.96, "lstm": 0.92, "mlp": 0.68}

_Builder = Callable[[bool], nn.Module]


def _models() -> dict[str, tuple[str, _Builder, dict[str, Any]]]:
    """name -> (input layout, builder(quick), training options)."""
    return {
        "logistic": (
            "flat",
            lambda q: MLP(40, [], 10),
            dict(epochs=60, lr=1e-2, weight_decay=1e-2, batch_size=128),
        ),
        "mlp": (
            "flat",
            lambda q: MLP(40, [8] if q else [512, 512], 10),
            dict(epochs=200, lr=1e-3, weight_decay=1e-2, batch_size=128),
        ),
        "cnn": (
            "signal",
            lambda q: ConvNet1d(
                1,
                10,
                40,
                channels=(4,) if q else (64, 64, 64, 64),
                kernel_size=5,
                padding="circular",
                strides=(2,) if q else (1, 1, 2, 2),
                head="flatten",
            ),
            dict(epochs=60, lr=3e-3, weight_decay=1e-2, batch_size=128),
        ),
        "lstm": (
            "sequence",
            lambda q: LSTM(1, 8 if q else 128, 10, readout="last", forget_bias=1.0),
            dict(epochs=40, lr=3e-3, weight_decay=1e-2, batch_size=128, grad_clip=1.0),
        ),
    }


def _layout(data: Split, layout: str) -> Split:
    if layout == "flat":
        return data._replace(x_train=data.x_train.flatten(1), x_test=data.x_test.flatten(1))
    if layout == "sequence":  # (n, 1, 40) -> (n, T=40, F=1)
        return data._replace(
            x_train=data.x_train.transpose(1, 2), x_test=data.x_test.transpose(1, 2)
        )
    return data


def _find_permutation(plain: Split, shuffled: Split) -> torch.Tensor:
    """``perm`` with ``shuffled.x[..., j] == plain.x[..., perm[j]]``."""
    a = plain.x_train[:200, 0].T  # (40, n) positions as rows
    b = shuffled.x_train[:200, 0].T
    return torch.cdist(b, a).argmin(1)


def shift_augmentation(
    max_shift: int, layout: str, perm: torch.Tensor | None = None
) -> Callable[[torch.Tensor, torch.Generator], torch.Tensor]:
    """Random circular shifts by up to ``max_shift`` positions: the translation the MNIST-1D
    generator itself applies. With ``perm`` (shuffled data) the shift acts in the original
    frame, ``x -> P roll(P^-1 x)``, so every model sees the same data distribution as
    without shuffling; only the order of the positions differs."""
    axis = -2 if layout == "sequence" else -1
    inv = None if perm is None else torch.argsort(perm)

    def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        n = x.shape[axis]
        s = torch.randint(-max_shift, max_shift + 1, (x.shape[0],), generator=gen)
        if perm is None or inv is None:
            idx = (torch.arange(n)[None] - s[:, None]) % n  # (B, n): roll by s
        else:  # x'_j = x_orig[perm_j - s] = x[inv[perm_j - s]]
            idx = inv[(perm[None] - s[:, None]) % n]
        view = [x.shape[0]] + [1] * (x.dim() - 1)
        view[axis] = n
        return x.gather(axis, idx.reshape(view).expand_as(x))

    return augment


def _run(
    task: str,
    seed: int,
    quick: bool,
    shuffle: bool,
    models: list[str] | str | None = None,
    epochs: int | None = None,
    data_seed: int | None = None,
    augment_shift: int = 3,
    threads: int = 2,
) -> dict[str, Any]:
    specs = _models()
    if isinstance(models, str):
        models = [m.strip() for m in models.split(",") if m.strip()]
    models = list(specs) if models is None else models
    unknown = [m for m in models if m not in specs]
    if unknown:
        raise ValueError(f"{task}: unknown model(s) {unknown}. Valid: {', '.join(specs)}.")
    data_seed = seed if data_seed is None else data_seed
    overrides: dict[str, Any] = {"num_samples": 300} if quick else {}
    data = load_mnist1d(seed=data_seed, **overrides)
    perm = None
    if shuffle:
        shuffled = load_mnist1d(seed=data_seed, shuffle_positions=True, **overrides)
        perm = _find_permutation(data, shuffled)
        data = shuffled
    results: dict[str, dict[str, Any]] = {}
    with num_threads(threads):
        for name in models:
            layout, build, train = specs[name]
            train = dict(train)
            if quick:
                train["epochs"] = 1
            if epochs is not None:
                train["epochs"] = int(epochs)
            augment = shift_augmentation(augment_shift, layout, perm) if augment_shift else None
            torch.manual_seed(seed)
            model = build(quick)
            results[name] = fit(
                model,
                _layout(data, layout),
                task="classification",
                seed=seed,
                augment=augment,
                **train,
            )
            results[name]["anchor"] = ANCHORS[task].get("gru" if name == "lstm" else name)
    return {
        "task": task,
        "seed": seed,
        "data_seed": data_seed,
        "quick": quick,
        "n_train": len(data.y_train),
        "n_test": len(data.y_test),
        "augment_shift": augment_shift,
        "permutation": None if perm is None else perm.tolist(),
        "results": results,
        "anchors": ANCHORS[task],
        "anchor_source": "Greydanus & Kobak, MNIST-1D (ICML 2024); lstm compared to their GRU",
    }


def run(seed: int = 0, quick: bool = False, **options: Any) -> dict[str, Any]:
    """MNIST-1D: logistic, MLP, CNN, LSTM test accuracies.

    Options: ``models`` (comma-separated subset), ``epochs`` (override for all),
    ``data_seed`` (generator seed, default ``seed``), ``augment_shift`` (random circular
    shifts of up to this many positions during training, as the generator's own
    translation; 0 disables; default 3), ``threads`` (default 2).
    """
    return _run("mnist1d", seed, quick, False, **options)


def run_shuffled(seed: int = 0, quick: bool = False, **options: Any) -> dict[str, Any]:
    """MNIST-1D with one fixed permutation of the 40 positions (same options as :func:`run`).

    The training augmentation acts in the original frame (``x -> P roll(P^-1 x)``), so the
    data distribution is the unshuffled one up to the fixed relabelling of positions.
    """
    return _run("mnist1d-shuffled", seed, quick, True, **options)
