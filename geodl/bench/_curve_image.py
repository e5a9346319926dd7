r"""The image task of ``geodl bench symmetry-curve`` (private): scikit-learn's 8x8 digits
(:func:`geodl.data.load_digits`) placed at a random position of a 12x12 canvas and turned
by a random multiple of 90°, generated on the fly. A 6 turned by 180° is a 9, so the two
share one class ("6 or 9"): 9 classes whose labels are invariant under the group
:math:`p4` of the canvas (circular shifts that do not wrap the digit, and the rotations
:math:`C_4`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from geodl.bench._curves import CurveData, ModelSpec, TrainRule, on_inputs
from geodl.data import load_digits
from geodl.nn import MLP, Conv2d, GlobalPool

CANVAS = 12
CLASSES = 9
METRIC = (
    "test classification error on digits at random positions and quarter-turns "
    "(fraction misclassified, 9 classes: 6 and 9 merged)"
)
RULE = TrainRule(min_steps=600, epochs=30, batch_size=32, lr=3e-3, weight_decay=1e-4)
QUICK_RULE = TrainRule(min_steps=60, epochs=1, batch_size=16, lr=3e-3, weight_decay=1e-4)


def quarter_turns(x: Tensor, k: Tensor) -> Tensor:
    """Image ``b`` of ``x (B, C, H, W)`` turned by ``k[b]`` quarter turns (``H == W``)."""
    out = x.clone()
    for turns in range(1, 4):
        idx = torch.nonzero(k == turns).flatten()
        if len(idx):
            out[idx] = torch.rot90(x[idx], turns, dims=(-2, -1))
    return out


def place(digits: Tensor, gen: torch.Generator) -> Tensor:
    """8x8 ``digits (B, 1, 8, 8)`` pasted at random offsets of a ``CANVAS`` square and
    turned by random quarter turns: ``(B, 1, CANVAS, CANVAS)``."""
    b, size = digits.shape[0], digits.shape[-1]
    room = CANVAS - size + 1
    canvas = digits.new_zeros(b, 1, CANVAS, CANVAS)
    canvas[..., :size, :size] = digits
    dy, dx = torch.randint(room, (2, b), generator=gen)
    rows = (torch.arange(CANVAS)[None] - dy[:, None]) % CANVAS  # (B, H): roll by dy
    cols = (torch.arange(CANVAS)[None] - dx[:, None]) % CANVAS
    canvas = canvas.gather(2, rows[:, None, :, None].expand(b, 1, CANVAS, CANVAS))
    canvas = canvas.gather(3, cols[:, None, None, :].expand(b, 1, CANVAS, CANVAS))
    return quarter_turns(canvas, torch.randint(4, (b,), generator=gen))


def random_quarter_turns(x: Tensor, gen: torch.Generator) -> Tensor:
    """Augmentation: a fresh random quarter turn per image. (Random circular shifts are
    not drawn: the circular CNN below is exactly invariant to them already.)"""
    return quarter_turns(x, torch.randint(4, (x.shape[0],), generator=gen))


def load(seed: int, pool: int, test: int) -> CurveData:
    """``pool`` training images and up to ``test`` test images (all 1797 digits are
    split once; each is placed and turned at random)."""
    digits = load_digits(test_size=0.5, seed=seed)  # re-split below
    x = torch.cat([digits.x_train, digits.x_test])
    y = torch.cat([digits.y_train, digits.y_test])
    y = torch.where(y == 9, torch.full_like(y, 6), y)
    if pool + 1 > len(y):
        raise ValueError(
            f"bench symmetry-curve: the image task has {len(y)} digits, so the largest "
            f"size must be below {len(y)}; got {pool}. Use smaller --sizes."
        )
    gen = torch.Generator().manual_seed(int(seed) + 2718)
    perm = torch.randperm(len(y), generator=gen)
    x, y = place(x[perm], gen), y[perm]
    n_test = min(test, len(y) - pool)
    info = {
        "source": "scikit-learn 8x8 digits, 9 classes (6 and 9 merged)",
        "canvas": CANVAS,
        "presentation": "random position in a 12x12 canvas (the 8x8 digit never wraps) "
        "and a random quarter turn, for every image of the pool and the test set",
        "pool": pool,
        "test": n_test,
    }
    return CurveData(
        x[:pool], y[:pool], x[pool : pool + n_test], y[pool : pool + n_test], True, info
    )


class ShiftCNN(nn.Module):
    r"""Circular 5x5 convolutions (two layers: a 9x9 receptive field, more than a digit),
    global max pooling and an MLP head: exactly invariant to circular shifts of the canvas
    (the group :math:`\mathbb Z_{12}^2`), so to the digit's position.

    Shapes
    ------
    ``(B, 1, 12, 12)`` -> ``(B, 9)`` logits.

    Symmetry
    --------
    Circular shifts (exact); quarter turns broken.

    Examples
    --------
    >>> ShiftCNN((4,), (8,))(torch.zeros(2, 1, 12, 12)).shape
    torch.Size([2, 9])
    """

    def __init__(self, channels: tuple[int, ...], head: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 1
        for c in channels:
            layers += [Conv2d(c_in, c, 5, padding="circular"), nn.SiLU()]
            c_in = c
        self.features = nn.Sequential(*layers, GlobalPool(spatial_dims=2, mode="max"))
        self.head = MLP(c_in, head, CLASSES, activation="silu")

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


class C4PooledCNN(ShiftCNN):
    r"""The same network with its pooled features averaged over the four quarter turns
    of the input, :math:`\phi\big(\tfrac14 \sum_{k=0}^{3} h(r^k x)\big)`: invariant to
    the group :math:`p4` (shifts and quarter turns), with exactly the parameters of
    :class:`ShiftCNN`.

    Shapes
    ------
    ``(B, 1, 12, 12)`` -> ``(B, 9)`` logits.

    Symmetry
    --------
    :math:`p4 = \mathbb Z_{12}^2 \rtimes C_4` (exact): the four turned copies of the
    input are a group orbit, so their mean does not depend on which copy came in.

    Examples
    --------
    >>> net, x = C4PooledCNN((4,), (8,)), torch.randn(1, 1, 12, 12)
    >>> torch.allclose(net(x), net(torch.rot90(x, 1, dims=(-2, -1))), atol=1e-6)
    True
    """

    def forward(self, x: Tensor) -> Tensor:
        turned = torch.cat([torch.rot90(x, k, dims=(-2, -1)) for k in range(4)])
        h = self.features(turned).view(4, x.shape[0], -1).mean(0)
        return self.head(h)


class _FlatMLP(nn.Module):
    def __init__(self, hidden: tuple[int, ...]) -> None:
        super().__init__()
        self.mlp = MLP(CANVAS * CANVAS, hidden, CLASSES, activation="relu")

    def forward(self, x: Tensor) -> Tensor:
        return self.mlp(x.flatten(1))


def models(data: CurveData, quick: bool) -> dict[str, ModelSpec]:
    """CNN, CNN with quarter-turn augmentation, C4-pooled CNN and an MLP."""
    channels, head = ((4, 8), (8,)) if quick else ((16, 32), (64,))
    mlp = (16,) if quick else (96, 32)
    return {
        "c4-cnn": ModelSpec(
            lambda: C4PooledCNN(channels, head),
            "p4 (shifts x C4)",
            ("shift", "C4"),
            "the CNN with its pooled features averaged over the 4 quarter turns",
        ),
        "cnn": ModelSpec(
            lambda: ShiftCNN(channels, head),
            "shifts (Z_12^2)",
            ("shift",),
            "two circular 5x5 convolutions, global max pooling, MLP head",
        ),
        "cnn+augment": ModelSpec(
            lambda: ShiftCNN(channels, head),
            "shifts (Z_12^2)",
            ("shift",),
            "the same CNN trained on a fresh random quarter turn of every image of every batch",
            on_inputs(random_quarter_turns),
        ),
        "mlp": ModelSpec(
            lambda: _FlatMLP(mlp),
            "trivial",
            (),
            "MLP on the 144 pixels",
        ),
    }
