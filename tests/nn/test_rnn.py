import pytest
import torch

from geodl.nn import LSTM, VanillaRNN, check_causality
from geodl.symmetry import verify_declarations


def test_vanilla_rnn_is_the_lecture_recursion(float64) -> None:
    rnn = VanillaRNN(3, 5, 2)
    x = torch.randn(7, 3)
    h = torch.zeros(5)
    ys = []
    for t in range(7):
        h = torch.tanh(rnn.W_hh.weight @ h + rnn.W_hx.weight @ x[t])
        ys.append(rnn.output.weight @ h)
    torch.testing.assert_close(rnn(x), torch.stack(ys))


def test_vanilla_rnn_matches_torch_rnn(float64) -> None:
    ref = torch.nn.RNN(3, 6, batch_first=True, bias=True)
    ours = VanillaRNN(3, 6, bias=True)
    with torch.no_grad():
        ours.W_hx.weight.copy_(ref.weight_ih_l0)
        ours.W_hx.bias.copy_(ref.bias_ih_l0 + ref.bias_hh_l0)
        ours.W_hh.weight.copy_(ref.weight_hh_l0)
    x = torch.randn(4, 9, 3)
    torch.testing.assert_close(ours(x), ref(x)[0])


def test_lstm_matches_torch_lstm_with_copied_weights(float64) -> None:
    ref = torch.nn.LSTM(3, 6, batch_first=True)
    ours = LSTM.from_torch(ref)
    x = torch.randn(4, 11, 3)
    expected = ref(x)[0]
    torch.testing.assert_close(ours(x), expected)  # fused kernel
    torch.testing.assert_close(ours.hidden_states(x, fused=False), expected)  # explicit loop
    torch.testing.assert_close(ours(x[0]), expected[0])  # unbatched
    # gradients agree too
    ours(x).sum().backward()
    ref(x)[0].sum().backward()
    torch.testing.assert_close(ours.weight_hh.grad, ref.weight_hh_l0.grad)


def test_lstm_lecture_variant_is_the_lecture_formula(float64) -> None:
    lstm = LSTM(2, 4, variant="lecture")
    x = torch.randn(6, 2)
    w_i, w_f, w_c, w_o = lstm.weight_ih.chunk(4)
    u_i, u_f, u_c, u_o = lstm.weight_hh.chunk(4)
    b = (lstm.bias_ih + lstm.bias_hh).chunk(4)
    h, c, hs = torch.zeros(4), torch.zeros(4), []
    for t in range(6):
        f = torch.sigmoid(w_f @ x[t] + u_f @ h + b[1])
        i = torch.sigmoid(w_i @ x[t] + u_i @ h + b[0])
        o = torch.sigmoid(w_o @ x[t] + u_o @ h + b[3])
        c = (1 - f) * c + i * torch.tanh(w_c @ x[t] + u_c @ h + b[2])
        h = o * c
        hs.append(h)
    torch.testing.assert_close(lstm(x), torch.stack(hs))
    with pytest.raises(ValueError, match="fused kernel exists only"):
        lstm.hidden_states(x.unsqueeze(0), fused=True)


def test_forget_bias_sign_follows_the_variant() -> None:
    torch.manual_seed(0)
    std = LSTM(1, 4, forget_bias=5.0)
    torch.manual_seed(0)
    lec = LSTM(1, 4, variant="lecture", forget_bias=5.0)
    assert bool((std.bias_hh[4:8] > 4).all()) and bool((lec.bias_hh[4:8] < -4).all())


def test_shapes_readout_and_repr() -> None:
    lstm = LSTM(2, 8, 3, readout="last")
    assert lstm(torch.randn(10, 2)).shape == (3,)
    assert lstm(torch.randn(5, 10, 2)).shape == (5, 3)
    assert VanillaRNN(2, 8)(torch.randn(5, 10, 2)).shape == (5, 10, 8)
    assert "variant='standard'" in repr(lstm) and "readout='last'" in repr(lstm)
    assert "hidden_size=8" in repr(VanillaRNN(2, 8))


def test_errors() -> None:
    with pytest.raises(ValueError, match="Valid choices: standard, lecture"):
        LSTM(2, 8, variant="gru")
    with pytest.raises(ValueError, match="Valid choices: sequence, last"):
        VanillaRNN(2, 8, readout="first")
    with pytest.raises(ValueError, match="expected 2 input features"):
        LSTM(2, 8)(torch.randn(10, 3))
    with pytest.raises(TypeError, match="expected a torch.nn.LSTM"):
        LSTM.from_torch(torch.nn.GRU(2, 3))


@pytest.mark.parametrize(
    "model",
    [
        VanillaRNN(2, 8, 3),
        VanillaRNN(2, 8, bias=True),
        LSTM(2, 8, 3),
        LSTM(2, 8, 3, variant="lecture"),
    ],
)
def test_sequence_models_are_causal(model, float64) -> None:
    model = model.double()
    report = check_causality(model, torch.randn(12, 2), times=[1, 4, 8, 11])
    assert report.causal
    assert report.max_past_change == 0.0
    assert report.min_future_change > 0  # the probe reached the output


def test_check_causality_catches_a_non_causal_model(float64) -> None:
    def backwards(x: torch.Tensor) -> torch.Tensor:  # y_t = sum_{s >= t} x_s
        return x.flip(0).cumsum(0).flip(0)

    report = check_causality(backwards, torch.randn(10, 2))
    assert not report.causal and report.max_past_change > 0
    with pytest.raises(ValueError, match="one output per time step"):
        check_causality(LSTM(2, 4, readout="last"), torch.randn(5, 2))
    with pytest.raises(ValueError, match=r"\(T, F\)"):
        check_causality(LSTM(2, 4), torch.randn(5))


def test_cyclic_time_shift_is_not_a_symmetry(float64) -> None:
    for model in (VanillaRNN(2, 4, 2).double(), LSTM(2, 4, 2, readout="last").double()):
        reports = verify_declarations(model, torch.randn(16, 2))
        assert reports and all(r.matches_declaration for r in reports)
