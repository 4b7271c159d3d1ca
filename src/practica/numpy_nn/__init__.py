"""From-scratch NumPy deep-learning engine (never imports torch).

Modules with hand-derived backward passes, convolution via im2col, models, optimisers, a
training loop with exact checkpointing, and a finite-difference gradient checker. See
``docs/numpy-engine.md`` for the derivations and benchmark numbers.
"""

from .activations import ELU, LeakyReLU, ReLU, Softmax, Tanh
from .base import Module, Sequential, check_shape
from .conv import (
    Conv2d,
    MaxPool2d,
    batch_conv2d_full,
    batch_conv2d_valid,
    batch_filter2d,
    col2im,
    conv2d_full,
    conv2d_valid,
    filter2d,
    im2col,
)
from .gradcheck import (
    GradCheckResult,
    check_all,
    check_loss,
    check_model,
    check_module,
    format_table,
    numerical_gradient,
    relative_error,
)
from .init import init_std, init_weight
from .layers import Dropout, Flatten, Linear
from .losses import CrossEntropy, Loss, SoftmaxCrossEntropy, one_hot
from .models import MLP, ConvNet, SoftmaxClassifier, make_activation
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .optim import (
    SGD,
    Adam,
    ExponentialLR,
    LRSchedule,
    Momentum,
    Optimizer,
    RMSProp,
    StepLR,
)
from .solver import Solver

__all__ = [
    "ELU",
    "MLP",
    "SGD",
    "Adam",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "ConvNet",
    "CrossEntropy",
    "Dropout",
    "ExponentialLR",
    "Flatten",
    "GradCheckResult",
    "LRSchedule",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "Loss",
    "MaxPool2d",
    "Module",
    "Momentum",
    "Optimizer",
    "RMSProp",
    "ReLU",
    "Sequential",
    "Softmax",
    "SoftmaxClassifier",
    "SoftmaxCrossEntropy",
    "Solver",
    "StepLR",
    "Tanh",
    "batch_conv2d_full",
    "batch_conv2d_valid",
    "batch_filter2d",
    "check_all",
    "check_loss",
    "check_model",
    "check_module",
    "check_shape",
    "col2im",
    "conv2d_full",
    "conv2d_valid",
    "filter2d",
    "format_table",
    "im2col",
    "init_std",
    "init_weight",
    "make_activation",
    "numerical_gradient",
    "one_hot",
    "relative_error",
]
