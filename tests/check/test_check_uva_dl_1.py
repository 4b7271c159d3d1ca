"""practica check on UvA DL practical 1: the reference through the starter interface passes;
broken NumPy modules and LayerNorms fail with the message that names the mistake."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from practica.check import run_checks
from practica.check.worker import verdict as in_process

HEADER = ("from practica.handouts.uva_dl_1 import *  # noqa: F401,F403\n"
          "import numpy as np\nimport torch\nimport torch.nn as nn\n")


def learner(folder: Path, modules: str = "", layernorm: str = "", batchnorm: str = "",
            mlp_numpy: str = "", mlp_pytorch: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "modules.py").write_text(HEADER + textwrap.dedent(modules))
    (folder / "custom_layernorm.py").write_text(HEADER + textwrap.dedent(layernorm))
    (folder / "custom_batchnorm.py").write_text(HEADER + textwrap.dedent(batchnorm))
    (folder / "mlp_numpy.py").write_text(HEADER + textwrap.dedent(mlp_numpy))
    (folder / "mlp_pytorch.py").write_text(
        HEADER + "MLP = TorchMLP\n" + textwrap.dedent(mlp_pytorch))
    return folder


def verdict(folder: Path, piece: str):
    (v,) = run_checks("uva-dl-1", folder, [piece], timeout=60)
    return v


def test_the_reference_passes_every_piece(tmp_path):
    verdicts = run_checks("uva-dl-1", learner(tmp_path / "ok"))
    assert [v.status for v in verdicts] == ["PASS"] * 13, verdicts


UNBIASED = """
    class CustomLayerNormAutograd(nn.Module):
        def __init__(self, n_neurons, eps=1e-5):
            super().__init__()
            self.n, self.eps = n_neurons, eps
            self.gamma = nn.Parameter(torch.ones(n_neurons))
            self.beta = nn.Parameter(torch.zeros(n_neurons))

        def forward(self, x):
            assert x.shape[1] == self.n
            mean, var = x.mean(1, keepdim=True), x.var(1, keepdim=True)   # Bessel's correction
            return self.gamma * (x - mean) / torch.sqrt(var + self.eps) + self.beta
    """

NO_SHAPE_CHECK = UNBIASED.replace("assert x.shape[1] == self.n", "pass").replace(
    "x.var(1, keepdim=True)", "x.var(1, unbiased=False, keepdim=True)").replace(
    "# Bessel's correction", "")

ALWAYS_ALL_GRADS = """
    class CustomLayerNormManualFunction(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, gamma, beta, eps=1e-5):
            mean = x.mean(1, keepdim=True)
            var = ((x - mean) ** 2).mean(1, keepdim=True)
            inv = 1 / torch.sqrt(var + eps)
            xhat = (x - mean) * inv
            ctx.save_for_backward(xhat, inv, gamma)
            return gamma * xhat + beta

        @staticmethod
        def backward(ctx, dy):
            xhat, inv, gamma = ctx.saved_tensors
            d = dy * gamma
            dx = inv * (d - d.mean(1, keepdim=True) - xhat * (d * xhat).mean(1, keepdim=True))
            return dx, (dy * xhat).sum(0), dy.sum(0), None      # needs_input_grad ignored
    """


@pytest.mark.parametrize("piece, modules, layernorm, message", [
    ("linear", """
     class LinearModule(LinearModule):
         def __init__(self, in_features, out_features):
             super().__init__(in_features, out_features)
             self.params["weight"] = np.zeros((in_features, out_features))   # transposed
     """, "", "params['weight'] has shape (5, 3), expected (3, 5)"),
    ("elu", """
     class ELUModule:
         def forward(self, x):
             self.x = x
             return np.where(x > 0, x, np.exp(x) - 1)
         def backward(self, dout):
             return np.where(self.x > 0, dout, dout * 0.5)        # wrong for x < 0
     """, "", "ELUModule.backward is wrong (expected dY where X > 0, dY·(Y + 1) where X ≤ 0)"),
    ("cross_entropy", """
     class CrossEntropyModule:
         def forward(self, x, y):
             return -(y * np.log(x)).sum()                        # a missing 1/S
         def backward(self, x, y):
             return -y / x / len(x)
     """, "", "CrossEntropyModule.forward is wrong (expected −1/S Σ T log X"),
    ("layernorm_autograd", "", UNBIASED, "forward is wrong (mean and biased variance"),
    ("layernorm_autograd", "", NO_SHAPE_CHECK, "accepted an input of shape (5, 1)"),
    ("layernorm_function", "", ALWAYS_ALL_GRADS, "check ctx.needs_input_grad"),
])
def test_broken_implementations_fail_with_the_right_message(tmp_path, piece, modules,
                                                            layernorm, message):
    v = verdict(learner(tmp_path / "broken", modules, layernorm), piece)
    assert v.status == "FAIL" and message in v.message, v


def test_a_batch_norm_that_normalises_rows_fails(tmp_path):
    """A layer norm handed in as the batch norm: statistics over the wrong axis."""
    code = UNBIASED.replace("CustomLayerNormAutograd", "CustomBatchNormAutograd").replace(
        "x.var(1, keepdim=True)", "x.var(1, unbiased=False, keepdim=True)").replace(
        "assert x.shape[1] == self.n", "assert x.dim() == 2 and x.shape[1] == self.n")
    v = verdict(learner(tmp_path / "bn", batchnorm=code), "batchnorm_autograd")
    assert v.status == "FAIL", v
    assert "forward is wrong (mean and biased variance over the batch, for each feature)" \
        in v.message


STARTER_MLP = """
    class MLP:
        def __init__(self, n_inputs, n_hidden, n_classes):
            sizes = [n_inputs] + n_hidden + [n_classes]
            self.layers = []
            for i in range(len(sizes) - 1):
                self.layers += [LinearModule(sizes[i], sizes[i + 1]), ELUModule()]
            self.layers[-1] = SoftMaxModule()

        def forward(self, x):
            for layer in self.layers:
                x = layer.forward(x)
            return x

        def backward(self, dout):
            for layer in reversed(self.layers):
                dout = layer.backward(dout)
    """

TORCH_MLP = """
    class MLP(nn.Module):
        def __init__(self, n_inputs, n_hidden, n_classes):
            super().__init__()
            sizes = [n_inputs] + n_hidden + [n_classes]
            layers = []
            for i in range(len(sizes) - 1):
                layers += [nn.Linear(sizes[i], sizes[i + 1]), nn.ELU()]
            self.net = nn.Sequential(*layers[:-1])

        def forward(self, x):
            return self.net(x)
    """


def test_a_starter_style_mlp_passes_both_pieces(tmp_path):
    folder = learner(tmp_path / "mlp", mlp_numpy=STARTER_MLP, mlp_pytorch=TORCH_MLP)
    for piece in ("mlp", "mlp_pytorch"):
        assert in_process("uva-dl-1", folder, piece)["status"] == "PASS", piece


@pytest.mark.parametrize("piece, old, new, message", [
    ("mlp", "for layer in reversed(self.layers):", "for layer in self.layers[:0:-1]:",
     "MLP.backward: layer 1 of 3, grads['weight'] is wrong (backward runs every module"),
    ("mlp", "self.layers[-1] = SoftMaxModule()", "self.layers.append(SoftMaxModule())",
     "MLP.forward with n_hidden=[4, 3] is wrong (N × (linear → ELU), linear, softmax)"),
    ("mlp", "sizes = [n_inputs] + n_hidden + [n_classes]",
     "sizes = [n_inputs, n_hidden[0]] + n_hidden[1:] + [n_classes]",
     "with n_hidden = [] the MLP is one linear layer and the softmax"),
    ("mlp", "sizes[i], sizes[i + 1]", "sizes[i + 1], sizes[i]",
     "should hold 3 linear layer(s) with weights (4, 5), (3, 4), (2, 3) (out × in)"),
    ("mlp_pytorch", "nn.ELU()", "nn.ReLU()",
     "MLP.forward with n_hidden=[4, 3] is wrong (the MLP also holds ReLU"),
    ("mlp_pytorch", "self.net = nn.Sequential(*layers[:-1])",
     "self.net = nn.Sequential(*layers[:-1], nn.Softmax(dim=1))",
     "MLP.forward returns probabilities (a softmax at the end)"),
])
def test_broken_mlps_fail_with_the_right_message(tmp_path, piece, old, new, message):
    code = STARTER_MLP if piece == "mlp" else TORCH_MLP
    assert old in code
    code = code.replace(old, new)
    files = {"mlp_numpy": code} if piece == "mlp" else {"mlp_pytorch": code}
    folder = learner(tmp_path / "broken", **files)
    v = in_process("uva-dl-1", folder, piece)
    assert v["status"] == "FAIL" and message in v["message"], v


# --- learner folders laid out as the public starter code (class names and signatures as
# --- the starter files have them; bodies written here, in NumPy / PyTorch) ---------------

STARTER_MODULES = '''
import numpy as np


class LinearModule(object):
    def __init__(self, in_features, out_features):
        self.params = {'weight': np.random.normal(0, 0.0001, (out_features, in_features)),
                       'bias': np.zeros(BIAS_SHAPE)}
        self.grads = {'weight': np.zeros((out_features, in_features)),
                      'bias': np.zeros(BIAS_SHAPE)}

    def forward(self, x):
        self.x = x
        return x @ self.params['weight'].T + self.params['bias'].reshape(1, -1)

    def backward(self, dout):
        self.grads['weight'] = dout.T @ self.x
        self.grads['bias'] = dout.sum(axis=0).reshape(self.grads['bias'].shape)
        return dout @ self.params['weight']


class SoftMaxModule(object):
    def forward(self, x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.out = e / e.sum(axis=1, keepdims=True)
        return self.out

    def backward(self, dout):
        return self.out * (dout - (dout * self.out).sum(axis=1, keepdims=True))


class CrossEntropyModule(object):
    def forward(self, x, y):
        return -np.sum(y * np.log(x)) / x.shape[0]

    def backward(self, x, y):
        return -y / x / x.shape[0]
'''

ELU_MODULE = '''

class ELUModule(object):
    def forward(self, x):
        self.x = x
        self.out = np.where(x > 0, x, np.expm1(np.minimum(x, 0)))
        return self.out

    def backward(self, dout):
        return dout * np.where(self.x > 0, 1.0, self.out + 1.0)
'''

LEAKY_MODULE = '''

class LeakyReLUModule(object):
    def __init__(self, neg_slope):
        self.neg_slope = neg_slope

    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, self.neg_slope * x)

    def backward(self, dout):
        return dout * np.where(self.x > 0, 1.0, self.neg_slope)
'''

STARTER_MLP_NUMPY = '''
from modules import *


class MLP(object):
    def __init__(self, n_inputs, n_hidden, n_classes SLOPE_ARG):
        sizes = [n_inputs] + list(n_hidden) + [n_classes]
        self.layers = []
        for i in range(len(sizes) - 1):
            self.layers.append(LinearModule(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                self.layers.append(ACTIVATION)
        self.layers.append(SoftMaxModule())

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return
'''

STARTER_MLP_PYTORCH = '''
import torch.nn as nn


class MLP(nn.Module):
    def __init__(self, n_inputs, n_hidden, n_classes SLOPE_ARG):
        super(MLP, self).__init__()
        sizes = [n_inputs] + list(n_hidden) + [n_classes]
        self.module_list = nn.ModuleList()
        for i in range(len(sizes) - 1):
            self.module_list.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                self.module_list.append(ACTIVATION)

    def forward(self, x):
        for module in self.module_list:
            x = module(x)
        return x
'''

STARTER_NORM = '''
import numpy as np
import torch
import torch.nn as nn


class CustomNORMNormAutograd(nn.Module):
    def __init__(self, n_neurons, eps=1e-5):
        super(CustomNORMNormAutograd, self).__init__()
        self.n_neurons, self.eps = n_neurons, eps
        self.gamma = nn.Parameter(torch.ones(n_neurons))
        self.beta = nn.Parameter(torch.zeros(n_neurons))

    def forward(self, input):
        if input.dim() != 2 or input.shape[1] != self.n_neurons:
            raise ValueError('expected (n_batch, %d), got %s' % (self.n_neurons, input.shape))
        mean = input.mean(AXIS, keepdim=True)
        var = input.var(AXIS, unbiased=False, keepdim=True)
        return self.gamma * (input - mean) / torch.sqrt(var + self.eps) + self.beta


class CustomNORMNormManualFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, gamma, beta, eps=1e-5):
        mean = input.mean(AXIS, keepdim=True)
        inv = 1.0 / torch.sqrt(input.var(AXIS, unbiased=False, keepdim=True) + eps)
        xhat = (input - mean) * inv
        ctx.save_for_backward(xhat, inv, gamma)
        return gamma * xhat + beta

    @staticmethod
    def backward(ctx, grad_output):
        xhat, inv, gamma = ctx.saved_tensors
        grad_input = grad_gamma = grad_beta = None
        if ctx.needs_input_grad[0]:
            d = grad_output * gamma
            grad_input = inv * (d - d.mean(AXIS, keepdim=True)
                                - xhat * (d * xhat).mean(AXIS, keepdim=True))
        if ctx.needs_input_grad[1]:
            grad_gamma = (grad_output * xhat).sum(0)
        if ctx.needs_input_grad[2]:
            grad_beta = grad_output.sum(0)
        return grad_input, grad_gamma, grad_beta, None


class CustomNORMNormManualModule(nn.Module):
    def __init__(self, n_neurons, eps=1e-5):
        super(CustomNORMNormManualModule, self).__init__()
        self.n_neurons, self.eps = n_neurons, eps
        self.gamma = nn.Parameter(torch.ones(n_neurons))
        self.beta = nn.Parameter(torch.zeros(n_neurons))

    def forward(self, input):
        if input.dim() != 2 or input.shape[1] != self.n_neurons:
            raise ValueError('expected (n_batch, %d), got %s' % (self.n_neurons, input.shape))
        return CustomNORMNormManualFunction.apply(input, self.gamma, self.beta, self.eps)
'''


def starter_folder(folder: Path, edition: str) -> Path:
    """The 2020 edition (ELU, custom_layernorm.py, bias (1, out)) or the autumn-2019 one
    (LeakyReLU(neg_slope), MLP(..., neg_slope), custom_batchnorm.py, bias (out, 1))."""
    folder.mkdir(parents=True, exist_ok=True)
    autumn_2019 = edition == "2019"
    modules = STARTER_MODULES.replace("BIAS_SHAPE", "(out_features, 1)" if autumn_2019
                                      else "(1, out_features)")
    (folder / "modules.py").write_text(modules + (LEAKY_MODULE if autumn_2019 else ELU_MODULE))
    slope = ", neg_slope" if autumn_2019 else ""
    (folder / "mlp_numpy.py").write_text(STARTER_MLP_NUMPY.replace("SLOPE_ARG", slope).replace(
        "ACTIVATION", "LeakyReLUModule(neg_slope)" if autumn_2019 else "ELUModule()"))
    (folder / "mlp_pytorch.py").write_text(STARTER_MLP_PYTORCH.replace(
        "SLOPE_ARG", slope).replace("ACTIVATION", "nn.LeakyReLU(neg_slope)" if autumn_2019
                                    else "nn.ELU()"))
    name, norm, axis = ("custom_batchnorm", "Batch", "0") if autumn_2019 else \
        ("custom_layernorm", "Layer", "1")
    (folder / f"{name}.py").write_text(STARTER_NORM.replace("NORM", norm).replace("AXIS", axis))
    return folder


@pytest.mark.parametrize("edition, other_edition", [
    ("2020", {"leaky_relu", "batchnorm_autograd", "batchnorm_function", "batchnorm_module"}),
    ("2019", {"elu", "layernorm_autograd", "layernorm_function", "layernorm_module"}),
])
def test_a_starter_layout_folder_passes_every_piece_of_its_edition(tmp_path, edition,
                                                                   other_edition):
    verdicts = run_checks("uva-dl-1", starter_folder(tmp_path / edition, edition))
    assert {v.piece: v.status for v in verdicts} == {
        v.piece: "MISSING" if v.piece in other_edition else "PASS" for v in verdicts}, verdicts


def test_an_autumn_2019_mlp_with_the_wrong_slope_fails(tmp_path):
    folder = starter_folder(tmp_path / "slope", "2019")
    code = (folder / "mlp_numpy.py").read_text()
    (folder / "mlp_numpy.py").write_text(code.replace("LeakyReLUModule(neg_slope)",
                                                      "LeakyReLUModule(0.1)"))
    v = in_process("uva-dl-1", folder, "mlp")
    assert v["status"] == "FAIL" and "(N × (linear → LeakyReLU(0.02)), linear, softmax)" \
        in v["message"], v
