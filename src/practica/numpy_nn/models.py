"""Networks assembled from the modules. Each returns class scores (logits); the loss
(e.g. ``SoftmaxCrossEntropy``) is applied separately."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import DTypeLike

from .activations import ELU, LeakyReLU, ReLU, Tanh
from .base import Module, Sequential, as_generator, check_shape
from .conv import Conv2d, MaxPool2d
from .init import Init
from .layers import Flatten, Linear

ACTIVATIONS: dict[str, type[Module]] = {
    "elu": ELU,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "tanh": Tanh,
}


def make_activation(name: str, dtype: DTypeLike = np.float32) -> Module:
    """Activation module by name: 'elu', 'relu', 'leaky_relu' or 'tanh'."""
    try:
        return ACTIVATIONS[name](dtype=dtype)
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}: choose from {sorted(ACTIVATIONS)}"
        ) from None


class MLP(Sequential):
    """UvA §1.2 multi-layer perceptron: N × (Linear → activation), then a final Linear.

    Parameters are named ``fc1.weight``, ``fc1.bias``, ..., ``fc{N+1}.*``. With an empty
    ``n_hidden`` this is a linear (softmax-regression) classifier.
    """

    def __init__(
        self,
        n_inputs: int,
        n_hidden: Sequence[int],
        n_classes: int,
        activation: str = "elu",
        init: Init = "normal",
        seed: int | np.random.Generator | None = None,
        dtype: DTypeLike = np.float32,
    ) -> None:
        rng = as_generator(seed)
        sizes = [n_inputs, *n_hidden, n_classes]
        layers: list[Module] = []
        names: list[str] = []
        for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
            layers.append(Linear(d_in, d_out, init=init, rng=rng, dtype=dtype))
            names.append(f"fc{i}")
            if i < len(sizes) - 1:
                layers.append(make_activation(activation, dtype))
                names.append(f"act{i}")
        super().__init__(*layers, names=names)
        self.n_inputs, self.n_hidden, self.n_classes = n_inputs, list(n_hidden), n_classes
        self.activation = activation

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Scores of shape (S, n_classes) for flat inputs of shape (S, n_inputs)."""
        x = self._input(x)
        check_shape(self.name, x, ("S", self.n_inputs))
        return super().forward(x)


class SoftmaxClassifier(Sequential):
    """EECS545 §2 two-layer network: fc → relu → fc (softmax in the loss)."""

    def __init__(
        self,
        input_dim: int,
        hidden_dim: int,
        num_classes: int,
        init: Init = "kaiming",
        seed: int | np.random.Generator | None = None,
        dtype: DTypeLike = np.float32,
    ) -> None:
        rng = as_generator(seed)
        super().__init__(
            Linear(input_dim, hidden_dim, init=init, rng=rng, dtype=dtype),
            ReLU(dtype=dtype),
            Linear(hidden_dim, num_classes, init=init, rng=rng, dtype=dtype),
            names=["fc1", "relu", "fc2"],
        )
        self.input_dim = input_dim

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Scores of shape (N, num_classes) for inputs of shape (N, input_dim)."""
        x = self._input(x)
        check_shape(self.name, x, ("N", self.input_dim))
        return super().forward(x)


class ConvNet(Sequential):
    """EECS545 §3 network: conv → relu → 2×2 max pool → fc → relu → fc.

    The convolution is 'valid' by default (padding 0, stride 1, as in the handout's conv
    layer, H'' = H − H' + 1); pooling floors odd sizes.
    """

    def __init__(
        self,
        input_shape: tuple[int, int, int] = (1, 28, 28),
        num_filters: int = 32,
        filter_size: int = 7,
        hidden_dim: int = 100,
        num_classes: int = 10,
        padding: int = 0,
        init: Init = "kaiming",
        seed: int | np.random.Generator | None = None,
        dtype: DTypeLike = np.float32,
    ) -> None:
        rng = as_generator(seed)
        c, h, w = input_shape
        conv = Conv2d(c, num_filters, filter_size, padding=padding, init=init, rng=rng,
                      dtype=dtype)
        ho, wo = conv.output_shape(h, w)
        if ho < 2 or wo < 2:
            raise ValueError(
                f"ConvNet: input {input_shape} too small for filter_size {filter_size} "
                f"and 2×2 pooling"
            )
        flat = num_filters * (ho // 2) * (wo // 2)
        super().__init__(
            conv,
            ReLU(dtype=dtype),
            MaxPool2d(2, dtype=dtype),
            Flatten(dtype=dtype),
            Linear(flat, hidden_dim, init=init, rng=rng, dtype=dtype),
            ReLU(dtype=dtype),
            Linear(hidden_dim, num_classes, init=init, rng=rng, dtype=dtype),
            names=["conv", "relu1", "pool", "flatten", "fc1", "relu2", "fc2"],
        )
        self.input_shape = tuple(input_shape)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Scores of shape (N, num_classes) for images of shape (N, *input_shape)."""
        x = self._input(x)
        check_shape(self.name, x, ("N", *self.input_shape))
        return super().forward(x)
