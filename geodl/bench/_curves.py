r"""Learning curves for ``geodl bench symmetry-curve`` (private): the task protocol, a
fixed-step training loop, power-law fits and the sample-efficiency of symmetric models.

A *learning curve* is the test error :math:`e(n)` of a model trained on :math:`n` samples.
In the regime the study covers it is close to a power law,

.. math::
    e(n) \approx a\, n^{b} \quad\Longleftrightarrow\quad
    \log_{10} e = \log_{10} a + b \log_{10} n,

and a model that respects the symmetry of the data reaches a given error with fewer
samples: its *efficiency* against a reference is :math:`n_{\mathrm{ref}}(e) /
n_{\mathrm{model}}(e)`, read off the log-log curves by linear interpolation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from geodl.bench._training import _optimizer

#: the tensors of a training batch: ``(x, y)`` and task-specific extras (e.g. forces)
Batch = tuple[Tensor, ...]
#: ``augment(batch, generator) -> batch``: a fresh random group element per sample
Augment = Callable[[Batch, torch.Generator], Batch]
#: ``loss(model, batch) -> scalar``
Loss = Callable[[nn.Module, Batch], Tensor]


def cross_entropy(model: nn.Module, batch: Batch) -> Tensor:
    """The classification loss: cross-entropy of ``model(x)`` against the labels."""
    return nn.functional.cross_entropy(model(batch[0]), batch[1])


def on_inputs(fn: Callable[[Tensor, torch.Generator], Tensor]) -> Augment:
    """Lift ``fn(x, generator) -> x'`` to an :data:`Augment` that leaves the targets."""

    def augment(batch: Batch, gen: torch.Generator) -> Batch:
        return (fn(batch[0], gen), *batch[1:])

    return augment


@dataclass
class ModelSpec:
    """One model of a curve: how to build it and which symmetry it respects.

    ``symmetry`` is the group in the JSON (``"trivial"`` when none); ``harness`` the
    same group as :mod:`geodl.symmetry` group names, each exact for the model (checked
    by the tests; empty when trivial); ``augment`` a training-time augmentation
    (``None``: none).
    """

    build: Callable[[], nn.Module]
    symmetry: str
    harness: tuple[str, ...]
    description: str
    augment: Augment | None = None


@dataclass
class CurveData:
    """A task's data: a training pool (the first ``n`` of a per-seed order are the
    training set of size ``n``) and one fixed test set. ``y`` are float targets
    (regression) or int64 labels (classification); ``pool_extra`` are further per-sample
    training targets (e.g. forces) and ``extra`` task-specific test tensors."""

    x_pool: Tensor
    y_pool: Tensor
    x_test: Tensor
    y_test: Tensor
    classification: bool
    info: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Tensor] = field(default_factory=dict)
    pool_extra: tuple[Tensor, ...] = ()

    def training_set(self, idx: Tensor) -> Batch:
        """``(x, y, *pool_extra)`` of the samples ``idx``."""
        return (self.x_pool[idx], self.y_pool[idx], *(t[idx] for t in self.pool_extra))

    def order(self, seed: int) -> Tensor:
        """Order of the pool for ``seed``: a random permutation; for classification the
        classes take turns (round robin), so every prefix is as balanced as it can be."""
        g = torch.Generator().manual_seed(int(seed) + 7919)
        perm = torch.randperm(len(self.y_pool), generator=g)
        if not self.classification:
            return perm
        y = self.y_pool[perm]
        # rank of each sample within its class (in the permuted order), then sort by it
        rank = torch.empty_like(perm)
        for c in torch.unique(y):
            idx = torch.nonzero(y == c).flatten()
            rank[idx] = torch.arange(len(idx))
        key = rank * (int(y.max()) + 1) + y
        return perm[torch.argsort(key, stable=True)]


@dataclass
class TrainRule:
    r"""Hyper-parameters shared by every model and size of a task (chosen once): AdamW,
    one-cycle learning rate, batches of :math:`b = \min(\text{batch\_size}, n)` samples
    (shuffled epochs) and

    .. math::
        \text{steps}(n) = \max\big(\text{min\_steps},\ \lceil \text{epochs}\cdot n / b
        \rceil\big)

    optimiser steps: small sets get enough steps to converge, large ones a fixed number
    of epochs.

    Examples
    --------
    >>> rule = TrainRule(min_steps=1000, epochs=100, batch_size=32, lr=1e-3, weight_decay=0)
    >>> [rule.steps_for(n) for n in (16, 256, 1024)]
    [1000, 1000, 3200]
    """

    min_steps: int
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float

    def steps_for(self, n: int) -> int:
        """Optimiser steps for a training set of ``n`` samples."""
        return max(self.min_steps, math.ceil(self.epochs * n / min(self.batch_size, n)))


def train_steps(
    model: nn.Module,
    tensors: Batch,
    rule: TrainRule,
    *,
    loss: Loss = cross_entropy,
    seed: int,
    augment: Augment | None = None,
) -> float:
    """Train ``model`` on ``tensors`` (``(x, y, ...)``, indexed together) for
    ``rule.steps_for(n)`` steps; return the mean training loss of the last (partial)
    epoch."""
    n = len(tensors[0])
    batch, steps = min(rule.batch_size, n), rule.steps_for(n)
    gen = torch.Generator().manual_seed(int(seed) + 104729)
    opt, sched = _optimizer(model, rule.lr, rule.weight_decay, steps)
    model.train()
    order = torch.randperm(n, generator=gen)
    pos, losses = 0, list[float]()
    for _ in range(steps):
        if pos + batch > n:
            order, pos, losses = torch.randperm(n, generator=gen), 0, []
        idx = order[pos : pos + batch]
        pos += batch
        xb = tuple(t[idx] for t in tensors)
        value = loss(model, xb if augment is None else augment(xb, gen))
        if not torch.isfinite(value):
            raise FloatingPointError(
                f"symmetry-curve: the training loss of {type(model).__name__} became "
                f"{float(value)}; lower the learning rate (--set lr=...)."
            )
        opt.zero_grad(set_to_none=True)
        value.backward()
        opt.step()
        sched.step()
        losses.append(float(value.detach()))
    model.eval()
    return sum(losses) / max(len(losses), 1)


@torch.no_grad()
def predict(model: nn.Module, x: Tensor, batch_size: int = 256) -> Tensor:
    """``model`` on ``x`` in evaluation mode, in chunks."""
    model.eval()
    return torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


# ----------------------------------------------------------------------------- analysis
def _envelope(errors: Sequence[float]) -> list[float]:
    """Running minimum: the best error reached with at most ``n`` samples."""
    out, best = [], math.inf
    for e in errors:
        best = min(best, e)
        out.append(best)
    return out


def samples_to_reach(
    sizes: Sequence[int], errors: Sequence[float], target: float
) -> tuple[float | None, str | None]:
    r"""Training-set size at which the curve ``errors(sizes)`` reaches ``target``.

    The curve is made monotone (running minimum over sizes) and interpolated linearly in
    :math:`(\log n, \log e)` between the measured sizes. Returns ``(n, None)`` inside the
    measured range, ``(sizes[0], "at_most")`` when the smallest size is already at or below
    ``target`` (the true ``n`` is at most that), and ``(None, "not_reached")`` when even
    the largest size stays above ``target``.

    Examples
    --------
    >>> samples_to_reach([10, 100, 1000], [1.0, 0.1, 0.01], 0.1)
    (100.0, None)
    >>> round(samples_to_reach([10, 100, 1000], [1.0, 0.1, 0.01], 0.0316)[0])
    316
    """
    env = _envelope(errors)
    if target >= env[0]:
        return float(sizes[0]), "at_most"
    if target < env[-1]:
        return None, "not_reached"
    i = next(k for k, e in enumerate(env) if e <= target)
    if env[i] == target:
        return float(sizes[i]), None
    e0, e1 = math.log(env[i - 1]), math.log(env[i])
    n0, n1 = math.log(sizes[i - 1]), math.log(sizes[i])
    if e1 == e0:  # pragma: no cover - excluded by the choice of i
        return float(sizes[i]), None
    t = (math.log(target) - e0) / (e1 - e0)
    return float(math.exp(n0 + t * (n1 - n0))), None


def efficiency(
    sizes: Sequence[int], model_errors: Sequence[float], reference_errors: Sequence[float]
) -> dict[str, Any]:
    r"""How many times fewer samples the model needs than the reference, per error level.

    The levels are the reference's own (running-minimum) errors at its sizes; at level
    :math:`e` the factor is :math:`n_{\mathrm{ref}}(e) / n_{\mathrm{model}}(e)`, both read
    off the log-log curves (:func:`samples_to_reach`). The headline ``factor`` is taken
    at the reference's best error (what it reaches with the most samples). Where the model
    beats a level already at the smallest size the factor is a lower bound (``bound:
    "lower"``); where it never reaches the level, an upper bound (``"upper"``, using the
    largest size).

    Examples
    --------
    >>> eff = efficiency([10, 100, 1000], [0.1, 0.01, 0.001], [1.0, 0.3, 0.1])
    >>> eff["factor"], eff["bound"]
    (100.0, 'lower')
    >>> round(efficiency([10, 100, 1000], [0.5, 0.1, 0.02], [1.0, 0.3, 0.1])["factor"], 6)
    10.0
    """
    env_ref = _envelope(reference_errors)
    levels = []
    for k, level in enumerate(env_ref):
        if k > 0 and level >= env_ref[k - 1]:
            continue  # the reference did not improve at this size: not a new level
        n_ref = float(sizes[k])  # where the reference first reached this level
        n_mod, how = samples_to_reach(sizes, model_errors, level)
        if how == "at_most":
            factor, bound = n_ref / sizes[0], "lower"
        elif how == "not_reached":
            factor, bound = n_ref / sizes[-1], "upper"
        else:
            assert n_mod is not None  # reached: samples_to_reach gives the size
            factor, bound = n_ref / n_mod, None
        levels.append(
            {
                "error": level,
                "n_reference": n_ref,
                "n_model": n_mod if how is None else None,
                "factor": factor,
                "bound": bound,
            }
        )
    head = levels[-1]
    return {**head, "by_reference_level": levels}


def power_law_fit(sizes: Sequence[int], errors: Sequence[float]) -> dict[str, float]:
    r"""Least-squares line :math:`\log_{10} e = \log_{10} a + b \log_{10} n` through the
    mean curve: ``slope`` :math:`b`, ``log10_prefactor`` :math:`\log_{10} a` and ``r2``.

    Examples
    --------
    >>> fit = power_law_fit([10, 100, 1000], [1.0, 0.1, 0.01])
    >>> round(fit["slope"], 6), round(fit["log10_prefactor"], 6), round(fit["r2"], 6)
    (-1.0, 1.0, 1.0)
    """
    lx = torch.tensor([math.log10(s) for s in sizes], dtype=torch.float64)
    ly = torch.tensor([math.log10(e) for e in errors], dtype=torch.float64)
    xm, ym = lx.mean(), ly.mean()
    sxx = float(((lx - xm) ** 2).sum())
    slope = float(((lx - xm) * (ly - ym)).sum()) / sxx if sxx > 0 else 0.0
    prefactor = float(ym) - slope * float(xm)
    resid = ly - (prefactor + slope * lx)
    sst = float(((ly - ym) ** 2).sum())
    r2 = 1.0 - float((resid**2).sum()) / sst if sst > 0 else 1.0
    return {"slope": slope, "log10_prefactor": prefactor, "r2": r2}


def mean_curve(errors: Sequence[Sequence[float]], floor: float) -> list[float]:
    """Mean over seeds at each size, floored at ``floor`` (> 0) so logs stay finite."""
    return [max(sum(row) / len(row), floor) for row in errors]


def summarise(
    sizes: Sequence[int],
    models: dict[str, dict[str, Any]],
    floor: float,
) -> dict[str, Any]:
    """Fits of every model, efficiencies of the symmetric ones, the reference name and
    the factor of every model against every other one (``pairwise[a][b]``: how many
    times fewer samples ``a`` needs than ``b`` to reach ``b``'s best error).

    The reference is the ``"trivial"`` model with the lowest mean error at the largest
    size (``None``, and no efficiencies, when the task has no trivial model).
    """
    means = {name: mean_curve(m["errors"], floor) for name, m in models.items()}
    fits = {name: power_law_fit(sizes, curve) for name, curve in means.items()}
    pairwise = {
        a: {
            b: {
                k: v
                for k, v in efficiency(sizes, means[a], means[b]).items()
                if k != "by_reference_level"
            }
            for b in models
            if b != a
        }
        for a in models
    }
    trivial = [name for name, m in models.items() if m["symmetry"] == "trivial"]
    out: dict[str, Any] = {"fits": fits, "pairwise": pairwise, "efficiency": {}, "reference": None}
    if trivial:
        reference = min(trivial, key=lambda name: (means[name][-1], sum(means[name])))
        out["reference"] = reference
        out["efficiency"] = {
            name: {"reference": reference, **efficiency(sizes, means[name], means[reference])}
            for name, m in models.items()
            if m["symmetry"] != "trivial"
        }
    return out


def format_factor(entry: dict[str, Any]) -> str:
    """``"12.3"``, ``">= 64"`` (lower bound) or ``"<= 0.5"`` (upper bound)."""
    text = f"{entry['factor']:.3g}"
    return {"lower": ">= ", "upper": "<= "}.get(entry["bound"] or "", "") + text
