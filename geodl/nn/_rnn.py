"""Recurrent networks: the vanilla RNN and the LSTM (standard and lecture variants)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import torch
from torch import nn

from geodl.nn._utils import as_batch, check_positive_int
from geodl.symmetry import Declaration

__all__ = ["VanillaRNN", "LSTM", "LSTM_VARIANTS", "READOUTS"]

#: the names of :data:`LSTM_VARIANTS` and :data:`READOUTS`, for type checkers
LSTMVariant = Literal["standard", "lecture"]
Readout = Literal["sequence", "last"]

#: LSTM variant name -> description of the memory update
LSTM_VARIANTS: dict[str, str] = {
    "standard": "c_t = f_t * c_{t-1} + i_t * g_t,  h_t = o_t * tanh(c_t)  (torch.nn.LSTM)",
    "lecture": "c_t = (1 - f_t) * c_{t-1} + i_t * g_t,  h_t = o_t * c_t  (the lecture)",
}

#: read-out name -> description
READOUTS: dict[str, str] = {
    "sequence": "y_t for every t: (T, out) — a causal sequence-to-sequence map",
    "last": "y_T only: (out,) — a sequence classifier / regressor",
}

_CAUSAL_NOTE = (
    "h_0 = 0 and the recurrence runs forward in time: y_t depends on x_1..x_t only "
    "(causality, tested by geodl.nn.check_causality); a circular time shift changes h_0's "
    "history, so it is not a symmetry"
)


def _check_choice(owner: str, name: str, value: str, choices: dict[str, str]) -> str:
    if value not in choices:
        raise ValueError(f"{owner}: unknown {name} {value!r}. Valid choices: {', '.join(choices)}.")
    return value


class _Recurrent(nn.Module):
    """Shared input handling and read-out of the recurrent models."""

    input_size: int
    hidden_size: int
    readout: str
    if TYPE_CHECKING:  # for mypy only: TorchScript cannot read these string annotations
        output: nn.Linear | None
    #: the output at time t depends only on inputs up to time t (``readout="sequence"``)
    causal: bool = True

    def _prepare(self, x: torch.Tensor) -> tuple[torch.Tensor, bool]:
        owner = type(self).__name__
        xb, unbatched = as_batch(owner, x, 2, "(T, F)")
        if xb.shape[-1] != self.input_size:
            raise ValueError(
                f"{owner}: expected {self.input_size} input features per time step, got "
                f"shape {tuple(x.shape)}. Sequences are (T, F) or (B, T, F)."
            )
        return xb, unbatched

    def hidden_states(self, x: torch.Tensor) -> torch.Tensor:
        """All hidden states ``(B, T, H)`` of a batched input ``(B, T, F)``."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xb, unbatched = self._prepare(x)
        return self._read(self.hidden_states(xb), unbatched)

    def _read(self, hs: torch.Tensor, unbatched: bool) -> torch.Tensor:
        y = self.output(hs) if self.output is not None else hs
        if self.readout == "last":
            y = y[:, -1]
        return y.squeeze(0) if unbatched else y

    def declared_symmetries(self) -> list[Declaration]:
        if self.readout == "last":
            return [Declaration("time-shift", "sequence", "invariant", "broken", _CAUSAL_NOTE)]
        return [Declaration("time-shift", "sequence", "equivariant", "broken", _CAUSAL_NOTE)]


class VanillaRNN(_Recurrent):
    r"""Vanilla (Elman) recurrent network, as in the lecture.

    .. math::

        h_t = \tanh(W_{hh} h_{t-1} + W_{hx} x_t + b), \qquad y_t = W_{yh} h_t, \qquad h_0 = 0,

    with :math:`b = 0` when ``bias=False`` (the lecture's formula exactly).

    Parameters
    ----------
    input_size, hidden_size : int
    output_size : int, optional
        Size of :math:`y_t`; ``None`` returns :math:`h_t` itself.
    bias : bool
        Default False.
    readout : {"sequence", "last"}
        ``"sequence"`` returns every :math:`y_t`, ``"last"`` only :math:`y_T`.

    Shapes
    ------
    ``(T, F) -> (T, out)`` or ``(out,)``; ``(B, T, F) -> (B, T, out)`` or ``(B, out)``.

    Symmetry
    --------
    Causal: :math:`y_t = H_t(x_1, \dots, x_t)`. ``W_hh``, ``W_hx`` are shared over time
    (the recurrent analogue of weight sharing in a CNN).

    Examples
    --------
    >>> import torch
    >>> rnn = VanillaRNN(2, 16, 1)
    >>> rnn(torch.randn(50, 2)).shape
    torch.Size([50, 1])
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int | None = None,
        bias: bool = False,
        readout: Readout = "sequence",
    ) -> None:
        super().__init__()
        check_positive_int("VanillaRNN", "input_size", input_size)
        check_positive_int("VanillaRNN", "hidden_size", hidden_size)
        if output_size is not None:
            check_positive_int("VanillaRNN", "output_size", output_size)
        self.readout = _check_choice("VanillaRNN", "readout", readout, READOUTS)
        self.input_size, self.hidden_size, self.output_size = input_size, hidden_size, output_size
        self.W_hx = nn.Linear(input_size, hidden_size, bias=bias)
        self.W_hh = nn.Linear(hidden_size, hidden_size, bias=False)
        self.output = (
            None if output_size is None else nn.Linear(hidden_size, output_size, bias=False)
        )

    def hidden_states(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        """All hidden states ``(B, T, H)`` of a batched input ``(B, T, F)``."""
        xp = self.W_hx(x)  # all input projections at once
        h = x.new_zeros(x.shape[0], self.hidden_size) if h0 is None else h0
        hs = []
        for t in range(x.shape[1]):  # the recurrence itself is sequential in time
            h = torch.tanh(xp[:, t] + self.W_hh(h))
            hs.append(h)
        return torch.stack(hs, 1)

    def extra_repr(self) -> str:
        return (
            f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"output_size={self.output_size}, readout={self.readout!r}"
        )


class LSTM(_Recurrent):
    r"""Long short-term memory, standard or as written in the lecture.

    Gates (``weight_ih``/``weight_hh`` stack :math:`[W_i; W_f; W_c; W_o]` as in
    ``torch.nn.LSTM``):

    .. math::

        i_t, f_t, o_t = \mathrm{sigmoid}(W_\ast x_t + U_\ast h_{t-1} + b_\ast), \qquad
        g_t = \tanh(W_c x_t + U_c h_{t-1} + b_c),

    memory, ``variant="standard"`` (matches ``torch.nn.LSTM``):

    .. math:: c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t),

    ``variant="lecture"`` (the lecture as written; :math:`f_t` acts as a *forget* rate):

    .. math:: c_t = (1 - f_t) \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot c_t,

    and the read-out :math:`y_t = W_{yh} h_t + b_y` (or :math:`h_t` when
    ``output_size=None``); :math:`h_0 = c_0 = 0`.

    Parameters
    ----------
    input_size, hidden_size : int
    output_size : int, optional
    variant : {"standard", "lecture"}
        Default ``"standard"``.
    readout : {"sequence", "last"}
        Default ``"sequence"``.
    forget_bias : float
        Added to the initial forget-gate bias so that memory is kept at initialisation
        (``+forget_bias`` for ``"standard"``, ``-forget_bias`` for ``"lecture"``; default 0).

    Shapes
    ------
    ``(T, F) -> (T, out)`` or ``(out,)``; ``(B, T, F) -> (B, T, out)`` or ``(B, out)``.

    Symmetry
    --------
    Causal: :math:`y_t = H_t(x_1, \dots, x_t)`.

    Examples
    --------
    >>> import torch
    >>> ref = torch.nn.LSTM(3, 8, batch_first=True)
    >>> lstm = LSTM.from_torch(ref)
    >>> x = torch.randn(2, 5, 3)
    >>> bool(torch.allclose(lstm(x), ref(x)[0], atol=1e-6))
    True
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int | None = None,
        variant: LSTMVariant = "standard",
        readout: Readout = "sequence",
        forget_bias: float = 0.0,
    ) -> None:
        super().__init__()
        check_positive_int("LSTM", "input_size", input_size)
        check_positive_int("LSTM", "hidden_size", hidden_size)
        if output_size is not None:
            check_positive_int("LSTM", "output_size", output_size)
        self.variant = _check_choice("LSTM", "variant", variant, LSTM_VARIANTS)
        self.readout = _check_choice("LSTM", "readout", readout, READOUTS)
        self.input_size, self.hidden_size, self.output_size = input_size, hidden_size, output_size
        h = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * h, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * h, h))
        self.bias_ih = nn.Parameter(torch.empty(4 * h))
        self.bias_hh = nn.Parameter(torch.empty(4 * h))
        bound = 1.0 / math.sqrt(h)  # torch.nn.LSTM's initialisation
        for p in (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh):
            nn.init.uniform_(p, -bound, bound)
        if forget_bias:
            sign = 1.0 if variant == "standard" else -1.0
            with torch.no_grad():
                self.bias_hh[h : 2 * h] += sign * forget_bias
        self.output = None if output_size is None else nn.Linear(h, output_size)

    @classmethod
    def from_torch(cls, lstm: nn.LSTM, output_size: int | None = None) -> LSTM:
        """Build a standard :class:`LSTM` holding a copy of a one-layer ``torch.nn.LSTM``."""
        if not isinstance(lstm, nn.LSTM):
            raise TypeError(
                f"LSTM.from_torch: expected a torch.nn.LSTM, got {type(lstm).__name__}."
            )
        if (
            lstm.num_layers != 1
            or lstm.bidirectional
            or not lstm.bias
            or lstm.proj_size
            or not lstm.batch_first
        ):
            raise ValueError(
                "LSTM.from_torch: only a one-layer, unidirectional, batch_first torch.nn.LSTM "
                "with biases and no projection can be copied."
            )
        new = cls(lstm.input_size, lstm.hidden_size, output_size)
        theirs = dict(lstm.named_parameters())
        new.to(theirs["weight_ih_l0"].dtype)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(new, name).copy_(theirs[f"{name}_l0"])
        return new

    def hidden_states(self, x: torch.Tensor, fused: bool | None = None) -> torch.Tensor:
        """All hidden states ``(B, T, H)`` of a batched input ``(B, T, F)``.

        ``fused=None`` runs the standard variant through torch's fused LSTM kernel
        (``torch.lstm``, the one behind ``torch.nn.LSTM``) and the lecture variant through
        the explicit time loop below; ``fused=False`` forces the loop (the reference
        implementation, tested against the fused kernel).
        """
        if fused is None:
            fused = self.variant == "standard"
        if fused and self.variant != "standard":
            raise ValueError("LSTM: the fused kernel exists only for variant='standard'.")
        if fused:
            h0 = x.new_zeros(1, x.shape[0], self.hidden_size)
            params: list[torch.Tensor] = [self.weight_ih, self.weight_hh]
            params += [self.bias_ih, self.bias_hh]
            out = torch.lstm(x, (h0, h0), params, True, 1, 0.0, self.training, False, True)
            return out[0]
        b, t_len, _ = x.shape
        h_size = self.hidden_size
        xp = torch.nn.functional.linear(x, self.weight_ih, self.bias_ih + self.bias_hh)
        h = x.new_zeros(b, h_size)
        c = x.new_zeros(b, h_size)
        lecture = self.variant == "lecture"
        w_hh_t = self.weight_hh.t()
        hs = []
        for t in range(t_len):  # the recurrence itself is sequential in time
            gates = torch.addmm(xp[:, t], h, w_hh_t)
            i, f, g, o = gates.chunk(4, dim=1)
            i, f, o, g = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o), torch.tanh(g)
            if lecture:
                c = (1.0 - f) * c + i * g
                h = o * c
            else:
                c = f * c + i * g
                h = o * torch.tanh(c)
            hs.append(h)
        return torch.stack(hs, 1)

    def extra_repr(self) -> str:
        return (
            f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"output_size={self.output_size}, variant={self.variant!r}, readout={self.readout!r}"
        )
