"""EMA: the warm-up decay, the update rule, swapping weights in and out, state round trip."""

from __future__ import annotations

import pytest
import torch

from geodl.training import EMA


def test_update_follows_the_warm_up_decay() -> None:
    w = torch.nn.Parameter(torch.zeros(3))
    ema = EMA([w], decay=0.9)
    expected = torch.zeros(3)
    for step in range(1, 30):
        with torch.no_grad():
            w.add_(1.0)
        ema.update(step)
        d = min(0.9, (1 + step) / (10 + step))
        expected = d * expected + (1 - d) * w.detach()
        torch.testing.assert_close(ema.shadow[0], expected)
    assert ema.decay_at(1000) == 0.9


def test_swapped_restores_the_weights_even_on_error() -> None:
    w = torch.nn.Parameter(torch.ones(2))
    ema = EMA([w], decay=0.5)
    ema.shadow[0].fill_(7.0)
    with pytest.raises(RuntimeError), ema.swapped():
        assert w.tolist() == [7.0, 7.0]
        raise RuntimeError
    assert w.tolist() == [1.0, 1.0]


def test_state_round_trip_and_bad_inputs() -> None:
    w = torch.nn.Parameter(torch.randn(4))
    a, b = EMA([w], 0.99), EMA([w], 0.99)
    a.shadow[0].add_(1.0)
    b.load_state_dict(a.state_dict())
    assert torch.equal(a.shadow[0], b.shadow[0])
    with pytest.raises(ValueError, match="another model"):
        b.load_state_dict([])
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        EMA([w], 1.0)
