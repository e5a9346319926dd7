"""scikit-learn's bundled 8x8 handwritten digits."""

from __future__ import annotations

import torch

from geodl.data._split import Split

__all__ = ["load_digits"]


def load_digits(test_size: float = 0.2, seed: int = 0) -> Split:
    r"""The 1797 bundled 8x8 digit images of scikit-learn, split stratified.

    Pixel values (0..16) are scaled to [0, 1].

    Parameters
    ----------
    test_size : float
        Fraction held out for testing (default 0.2: 1437 train / 360 test).
    seed : int
        Seed of the stratified split.

    Returns
    -------
    Split
        ``x_*`` float32 of shape ``(n, 1, 8, 8)``, ``y_*`` int64 ``(n,)``.

    Examples
    --------
    >>> data = load_digits()
    >>> tuple(data.x_train.shape), tuple(data.x_test.shape)
    ((1437, 1, 8, 8), (360, 1, 8, 8))
    """
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"load_digits: 'test_size' must be in (0, 1), got {test_size!r}.")
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    digits = sk_load_digits()
    x = torch.as_tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.as_tensor(digits.target, dtype=torch.int64)
    idx_train, idx_test = train_test_split(
        torch.arange(len(y)).numpy(),
        test_size=test_size,
        random_state=seed,
        stratify=y.numpy(),
    )
    return Split(x[idx_train], y[idx_train], x[idx_test], y[idx_test])
