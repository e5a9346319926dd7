"""geodl.nn — classic models as special cases of one compositional form.

MLP, two-layer and random-feature nets (the trivial group), convolutions and CNNs
(shifts on a grid), residual networks, and recurrent networks (causality in time).
"""

from geodl.nn._activations import ACTIVATIONS, get_activation
from geodl.nn._causality import CausalityReport, check_causality
from geodl.nn._cnn import ConvNet1d, LeNet5
from geodl.nn._conv import PADDINGS, Conv1d, Conv2d, GlobalPool, Pool1d, Pool2d
from geodl.nn._deepsets import POOLINGS, DeepSets, SetLayer, get_pooling, segment_pool
from geodl.nn._mlp import MLP, RandomFeatureModel, TwoLayerNet
from geodl.nn._residual_mlp import ResidualMLP
from geodl.nn._resnet import ResidualBlock, ResNet
from geodl.nn._rnn import LSTM, LSTM_VARIANTS, READOUTS, VanillaRNN

__all__ = [
    # activations
    "ACTIVATIONS",
    "get_activation",
    # fully connected
    "MLP",
    "TwoLayerNet",
    "RandomFeatureModel",
    "ResidualMLP",
    # convolutional
    "PADDINGS",
    "Conv1d",
    "Conv2d",
    "Pool1d",
    "Pool2d",
    "GlobalPool",
    "ConvNet1d",
    "LeNet5",
    # residual
    "ResidualBlock",
    "ResNet",
    # recurrent
    "VanillaRNN",
    "LSTM",
    "LSTM_VARIANTS",
    "READOUTS",
    "CausalityReport",
    "check_causality",
    # sets (DeepSets)
    "POOLINGS",
    "get_pooling",
    "segment_pool",
    "DeepSets",
    "SetLayer",
]
