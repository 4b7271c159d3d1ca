"""UvA Deep Learning practical 1's starter-code interfaces, backed by practica.

``modules.py`` (NumPy): ``LinearModule(in_features, out_features)``, ``ELUModule``,
``SoftMaxModule``, ``CrossEntropyModule`` — ``forward``/``backward``, and for the linear
module the live ``params``/``grads`` dicts (``params['weight']`` of shape (out, in), the
handout's W ∈ R^{N×M}; ``params['bias']`` of shape (1, out), b ∈ R^{1×N}).
``CrossEntropyModule.forward(x, y)`` / ``.backward(x, y)`` take probabilities and one-hot
targets. ``mlp_numpy.py``: ``MLP(n_inputs, n_hidden, n_classes)`` (``n_hidden`` a list,
possibly empty) with ``forward(x)`` → class probabilities and ``backward(dout)``, which
leaves every linear layer's gradients in its ``grads``. ``mlp_pytorch.py``'s class of the
same name is :data:`TorchMLP` here (``MLP(n_inputs, n_hidden, n_classes)``, an
``nn.Module`` whose ``forward(x)`` returns the logits). ``custom_layernorm.py`` (PyTorch):
``CustomLayerNormAutograd``, ``CustomLayerNormManualFunction``,
``CustomLayerNormManualModule``; and the 2019 edition's
``custom_batchnorm.py``: ``CustomBatchNormAutograd``, ``CustomBatchNormManualFunction``,
``CustomBatchNormManualModule`` (training-mode batch statistics). The autumn-2019
edition's ``LeakyReLUModule(neg_slope)`` and ``MLP(n_inputs, n_hidden, n_classes,
neg_slope)`` are here too (LeakyReLU where the 2020 edition has ELU).

Provenance: the names and signatures were compared with the course's public 2020 starter
(``assignment_1/1_mlp_cnn/code/`` ``modules.py``, ``mlp_numpy.py``, ``mlp_pytorch.py``,
``custom_layernorm.py`` and the ``unittests.py`` that drives them) and with the autumn-2019
edition's files as students' public copies hold them (``assignment_1/code/modules.py``,
``mlp_numpy.py``, ``mlp_pytorch.py``, ``train_mlp_numpy.py``, ``custom_batchnorm.py``;
several copies agree). The starters leave the parameter shapes to the student: the weight
(out, in) is the handout's W ∈ R^{N×M}; the bias is (1, out) here, and the 2019 copies'
(out, 1) is accepted by the check, which writes biases by size. The spring-2019 edition's
``ReLUModule`` is not covered.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from ..models.batchnorm import BatchNormAutograd, BatchNormFunction, BatchNormManual
from ..models.layernorm import LayerNormAutograd, LayerNormFunction, LayerNormManual
from ..models.mlp import MLP as _TorchMLP
from ..numpy_nn import ELU, CrossEntropy, LeakyReLU, Linear, Softmax
from ..numpy_nn import MLP as EngineMLP


class LinearModule:
    """Y = X Wᵀ + B; dW = dYᵀ X, db = 1ᵀ dY, dX = dY W (§1.1 a) — the engine's ``Linear``."""

    def __init__(self, in_features: int, out_features: int) -> None:
        self._layer = Linear(in_features, out_features, dtype=np.float64, rng=0)
        weight, bias = self._layer._params["weight"], self._layer._params["bias"]
        # live views: writing params['weight'][...] or params['bias'][...] sets the layer's
        self.params = {"weight": weight, "bias": bias.reshape(1, out_features)}
        self.grads = {"weight": self._layer._grads["weight"],
                      "bias": self._layer._grads["bias"].reshape(1, out_features)}

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self._layer.forward(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return self._layer.backward(dout)


class _Wrapped:
    """A starter-code module around an engine module: forward(x), backward(dout)."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self._inner.forward(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return self._inner.backward(dout)


class ELUModule(_Wrapped):
    """ELU (α = 1): dX = dY ∘ (1 if X > 0 else Y + 1) (§1.1 b)."""

    def __init__(self) -> None:
        super().__init__(ELU(dtype=np.float64))


class LeakyReLUModule(_Wrapped):
    """The autumn-2019 edition's activation: Y = X if X > 0 else a·X, a = ``neg_slope``."""

    def __init__(self, neg_slope: float) -> None:
        super().__init__(LeakyReLU(neg_slope, dtype=np.float64))
        self.neg_slope = neg_slope


class SoftMaxModule(_Wrapped):
    """Row-wise softmax: dX = Y ∘ (dY − Σ_k dY_k Y_k) (§1.1 c)."""

    def __init__(self) -> None:
        super().__init__(Softmax(dtype=np.float64))


class CrossEntropyModule:
    """L = −1/S Σ T log X on probabilities; dL/dX = −1/S · T ⊘ X (§1.1 c)."""

    def forward(self, x: np.ndarray, y: np.ndarray) -> float:
        return CrossEntropy(dtype=np.float64).forward(x, y)

    def backward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        loss = CrossEntropy(dtype=np.float64)
        loss.forward(x, y)
        return loss.backward()


class MLP:
    """§1.2: N × (linear → ELU), a last linear layer, then softmax — the engine's ``MLP``
    (ELU, float64) and ``Softmax``. ``forward`` returns the probabilities that
    ``CrossEntropyModule`` takes; ``backward(dout)`` takes dL/d(probabilities).
    ``MLP(n_inputs, n_hidden, n_classes, neg_slope)``, the autumn-2019 edition's
    signature, puts LeakyReLU(``neg_slope``) where ELU is."""

    def __init__(self, n_inputs: int, n_hidden: list[int], n_classes: int,
                 neg_slope: float | None = None) -> None:
        activation = "elu" if neg_slope is None else "leaky_relu"
        self.net = EngineMLP(n_inputs, n_hidden, n_classes, activation=activation, seed=0,
                             dtype=np.float64)
        if neg_slope is not None:
            for i in range(1, len(n_hidden) + 1):
                self.net[f"act{i}"].negative_slope = float(neg_slope)
        self.softmax = Softmax(dtype=np.float64)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.softmax.forward(self.net.forward(x))

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        return self.net.backward(self.softmax.backward(dout))


class TorchMLP(_TorchMLP):
    """``mlp_pytorch.py``'s ``MLP(n_inputs, n_hidden, n_classes)`` (§2): logits, ELU
    between the linear layers; with ``neg_slope`` (the autumn-2019 edition's fourth
    argument) ``nn.LeakyReLU(neg_slope)`` instead."""

    def __init__(self, n_inputs: int, n_hidden: list[int], n_classes: int,
                 neg_slope: float | None = None) -> None:
        super().__init__(n_inputs, n_hidden, n_classes)
        if neg_slope is not None:
            for i, layer in enumerate(self.layers):
                if isinstance(layer, nn.ELU):
                    self.layers[i] = nn.LeakyReLU(neg_slope)

CustomLayerNormAutograd = LayerNormAutograd  # (n_neurons, eps=1e-5), §3.1
CustomLayerNormManualFunction = LayerNormFunction  # .apply(input, gamma, beta, eps), §3.2 b
CustomLayerNormManualModule = LayerNormManual  # (n_neurons, eps=1e-5), §3.2 c

CustomBatchNormAutograd = BatchNormAutograd  # (n_neurons, eps=1e-5), 2019 edition §3.1
CustomBatchNormManualFunction = BatchNormFunction  # .apply(input, gamma, beta, eps)
CustomBatchNormManualModule = BatchNormManual  # (n_neurons, eps=1e-5)
