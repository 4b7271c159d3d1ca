"""PyTorch models of the curriculum: MLP, layer norm, CIFAR-10 ConvNets, RNN and LSTM.

One concept per module:

* :mod:`~practica.models.mlp` — :class:`MLP`.
* :mod:`~practica.models.layernorm` — :class:`LayerNormAutograd`, :class:`LayerNormFunction`,
  :class:`LayerNormManual`.
* :mod:`~practica.models.convnets` — :class:`VGGConvNet`, :class:`PreActConvNet` and their
  config tables.
* :mod:`~practica.models.rnn` — :class:`VanillaRNN`, :class:`LSTM`,
  :func:`lstm_parameter_count`.
"""

from practica.models.convnets import (
    PREACT_CONVNET_CFG,
    VGG_CONVNET_CFG,
    ConvBNReLU,
    PreActBlock,
    PreActConvNet,
    VGGConvNet,
)
from practica.models.layernorm import LayerNormAutograd, LayerNormFunction, LayerNormManual
from practica.models.mlp import MLP
from practica.models.rnn import LSTM, VanillaRNN, lstm_parameter_count

__all__ = [
    "LSTM",
    "MLP",
    "PREACT_CONVNET_CFG",
    "VGG_CONVNET_CFG",
    "ConvBNReLU",
    "LayerNormAutograd",
    "LayerNormFunction",
    "LayerNormManual",
    "PreActBlock",
    "PreActConvNet",
    "VGGConvNet",
    "VanillaRNN",
    "lstm_parameter_count",
]
