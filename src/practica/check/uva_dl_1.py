"""The checks of UvA DL practical 1's pieces: ``modules.py`` and ``mlp_numpy.py`` (NumPy),
``mlp_pytorch.py`` and ``custom_layernorm.py`` (PyTorch), against
:mod:`practica.handouts.uva_dl_1`.

The MLPs are checked without knowing how the learner named their layers: the linear layers
are found among the MLP's attributes (objects with a ``params['weight']`` for NumPy, the
``nn.Linear`` modules for PyTorch) and told apart by their weights' shapes, which the
sizes below make distinct. Random weights are written into the learner's layers and the
reference's, and outputs and gradients are compared; the NumPy gradients are also held
against finite differences of the learner's own forward.

Two editions are covered: 2020's (``ELUModule``, ``custom_layernorm.py``) and autumn 2019's
(``LeakyReLUModule(neg_slope)``, ``MLP(n_inputs, n_hidden, n_classes, neg_slope)``,
``custom_batchnorm.py``). An MLP whose constructor takes ``neg_slope`` is built with the
2019 starter's default 0.02 and compared with LeakyReLU(0.02) between its layers; the other
edition's pieces report MISSING.
"""

from __future__ import annotations

import inspect
from types import ModuleType

import numpy as np

from ..handouts import uva_dl_1 as ref
from .compare import Mismatch, Missing, as_array, numeric_gradient, same
from .spec import Piece

SEEDS = (0, 1, 2)
#: The autumn-2019 edition's NEG_SLOPE_DEFAULT (train_mlp_numpy.py), passed to an MLP that
#: takes ``neg_slope``
NEG_SLOPE = 0.02
#: (n_inputs, n_hidden, n_classes, batch): every layer's weight shape differs from the others'
MLP_SIZES = ((5, (4, 3), 2, 6), (6, (), 3, 4), (3, (7,), 4, 1))


def _get(module: ModuleType, name: str):
    value = getattr(module, name, None)
    if value is None:
        raise Missing(f"{module.__name__}.py has no {name}")
    return value


def _set_like(target: object, value: np.ndarray, what: str) -> None:
    """Write ``value`` into the learner's parameter array, accepting (N,) or (1, N) biases."""
    array = np.asarray(target)
    if array.size != value.size:
        raise Mismatch(f"{what} has shape {array.shape}, expected {value.shape}")
    if not isinstance(target, np.ndarray):
        raise Mismatch(f"{what} is a {type(target).__name__}, not a NumPy array")
    target[...] = value.reshape(target.shape)


def check_linear(m: ModuleType) -> None:
    cls = _get(m, "LinearModule")
    for seed, (s, d, n) in zip(SEEDS, ((4, 5, 3), (1, 3, 7), (6, 2, 2)), strict=True):
        rng = np.random.default_rng(seed)
        mine, theirs = cls(d, n), ref.LinearModule(d, n)
        for key in ("weight", "bias"):
            if key not in getattr(mine, "params", {}):
                raise Mismatch(f"LinearModule.params has no {key!r} entry")
        w = np.asarray(mine.params["weight"])
        if w.shape != (n, d):
            raise Mismatch(f"LinearModule.params['weight'] has shape {w.shape}, expected "
                           f"{(n, d)} (the handout's W ∈ R^(N×M): out × in)")
        weight, bias = rng.standard_normal((n, d)), rng.standard_normal((1, n))
        _set_like(mine.params["weight"], weight, "params['weight']")
        _set_like(mine.params["bias"], bias, "params['bias']")
        theirs.params["weight"][...] = weight
        theirs.params["bias"][...] = bias
        x = rng.standard_normal((s, d))
        same("LinearModule.forward", mine.forward(x.copy()), theirs.forward(x),
             hint=" (Y = X Wᵀ + B)")
        dout = rng.standard_normal((s, n))
        same("LinearModule.backward: dx", mine.backward(dout.copy()), theirs.backward(dout),
             hint=" (expected dY W)")
        same("LinearModule.grads['weight']", mine.grads["weight"], theirs.grads["weight"],
             hint=" (expected dYᵀ X, the shape of W)")
        same("LinearModule.grads['bias']", np.reshape(mine.grads["bias"], -1),
             np.reshape(theirs.grads["bias"], -1), hint=" (expected 1ᵀ dY)")


def _elementwise(m: ModuleType, name: str, x: np.ndarray, hint: str, args: tuple = ()
                 ) -> None:
    mine, theirs = _get(m, name)(*args), getattr(ref, name)(*args)
    same(f"{name}.forward", mine.forward(x.copy()), theirs.forward(x))
    dout = np.random.default_rng(7).standard_normal(x.shape)
    same(f"{name}.backward", mine.backward(dout.copy()), theirs.backward(dout), hint=hint)


def check_elu(m: ModuleType) -> None:
    for seed in SEEDS:
        x = np.random.default_rng(seed).standard_normal((4, 6)) * 3
        x[0, :3] = (-1e-9, 1e-9, -30.0)  # near the kink, and deep in the saturated side
        _elementwise(m, "ELUModule", x, " (expected dY where X > 0, dY·(Y + 1) where X ≤ 0)")
        numeric = numeric_gradient(lambda v: _get(m, "ELUModule")().forward(v), x.copy(),
                                   np.ones_like(x))
        mine = _get(m, "ELUModule")()
        mine.forward(x.copy())
        same("ELUModule.backward against finite differences", mine.backward(np.ones_like(x)),
             numeric, rtol=1e-5, atol=1e-6, ignore=np.abs(x) < 1e-5)


def check_leaky_relu(m: ModuleType) -> None:
    for seed, slope in zip(SEEDS, (NEG_SLOPE, 0.3, 0.0), strict=True):
        x = np.random.default_rng(seed).standard_normal((4, 6)) * 3
        x[0, :2] = (-1e-9, 1e-9)  # near the kink
        _elementwise(m, "LeakyReLUModule", x, f" (neg_slope={slope}: expected dY where X > 0,"
                     f" {slope}·dY where X ≤ 0)", (slope,))
        mine = _get(m, "LeakyReLUModule")(slope)
        numeric = numeric_gradient(lambda v, f=mine.forward: f(v), x.copy(), np.ones_like(x))
        mine.forward(x.copy())
        same("LeakyReLUModule.backward against finite differences",
             mine.backward(np.ones_like(x)), numeric, rtol=1e-5, atol=1e-6,
             ignore=np.abs(x) < 1e-5)


def check_softmax(m: ModuleType) -> None:
    for seed in SEEDS:
        x = np.random.default_rng(seed).standard_normal((3, 5)) * 4
        _elementwise(m, "SoftMaxModule", x,
                     " (expected Y ∘ (dY − Σ_k dY_k Y_k) row by row, the Jacobian of softmax)")
    _elementwise(m, "SoftMaxModule", np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]]),
                 " (large logits: subtract each row's maximum before exp)")


def check_cross_entropy(m: ModuleType) -> None:
    cls = _get(m, "CrossEntropyModule")
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        logits = rng.standard_normal((4, 3))
        x = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        y = np.eye(3)[rng.integers(0, 3, 4)]
        theirs = ref.CrossEntropyModule()
        same("CrossEntropyModule.forward", cls().forward(x.copy(), y), theirs.forward(x, y),
             hint=" (expected −1/S Σ T log X, the mean over the batch)")
        same("CrossEntropyModule.backward", cls().backward(x.copy(), y),
             theirs.backward(x, y), hint=" (expected −1/S · T ⊘ X)")


def _linear_layers(root: object) -> list:
    """The objects under ``root`` (attributes, lists, dicts, nested) that hold a
    ``params['weight']`` array: the learner's LinearModules, however they are stored."""
    found, seen, todo = [], set(), [(root, 0)]
    while todo:
        node, depth = todo.pop(0)
        if id(node) in seen or depth > 4:
            continue
        seen.add(id(node))
        params = getattr(node, "params", None) if node is not root else None
        if isinstance(params, dict) and isinstance(params.get("weight"), np.ndarray):
            found.append(node)
            continue
        if isinstance(node, dict):
            children = list(node.values())
        elif isinstance(node, (list, tuple)):
            children = list(node)
        elif hasattr(node, "__dict__") and not isinstance(node, (type, ModuleType)):
            children = list(vars(node).values())
        else:
            continue
        todo += [(c, depth + 1) for c in children
                 if not isinstance(c, (np.ndarray, str, bytes, int, float, bool))]
    return found


def _by_shape(layers: list, shapes: list[tuple[int, int]], n_hidden: list[int]) -> list:
    """The learner's layers in the order of ``shapes`` (out, in), or Mismatch."""
    have = {tuple(np.shape(layer.params["weight"])): layer for layer in layers}
    missing = [s for s in shapes if s not in have]
    if missing or len(layers) != len(shapes):
        found = ", ".join(str(s) for s in have) or "none"
        raise Mismatch(f"MLP(…, n_hidden={n_hidden}, …) should hold {len(shapes)} linear "
                       f"layer(s) with weights {', '.join(str(s) for s in shapes)} "
                       f"(out × in); found {found}")
    return [have[s] for s in shapes]


def _neg_slope(cls) -> float | None:
    """NEG_SLOPE when the learner's MLP takes the autumn-2019 edition's fourth argument
    ``neg_slope`` (LeakyReLU between the layers), else None (ELU)."""
    try:
        params = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    takes = any(p.name == "neg_slope" for p in params) or (
        len(positional) >= 4 and positional[3].default is inspect.Parameter.empty)
    return NEG_SLOPE if takes else None


def _activation(slope: float | None) -> str:
    return "ELU" if slope is None else f"LeakyReLU({slope})"


def _construct(cls, args: tuple, n_hidden: list[int]):
    try:
        return cls(*args)
    except Exception as exc:
        if n_hidden:
            raise
        raise Mismatch(f"MLP{args} raised {type(exc).__name__}: {exc}; with n_hidden = [] "
                       "the MLP is one linear layer and the softmax (multinomial logistic "
                       "regression)") from None


def check_mlp(m: ModuleType) -> None:
    cls = _get(m, "MLP")
    for seed, (n_in, hidden, n_out, batch) in zip(SEEDS, MLP_SIZES, strict=True):
        rng = np.random.default_rng(seed)
        sizes = [n_in, *hidden, n_out]
        shapes = list(zip(sizes[1:], sizes[:-1], strict=True))
        slope = _neg_slope(cls)
        extra = () if slope is None else (slope,)
        mine = _construct(cls, (n_in, list(hidden), n_out, *extra), list(hidden))
        theirs = ref.MLP(n_in, list(hidden), n_out, slope)
        act = _activation(slope)
        layers = _by_shape(_linear_layers(mine), shapes, list(hidden))
        reference = [theirs.net[f"fc{i}"] for i in range(1, len(shapes) + 1)]
        for i, (layer, other, shape) in enumerate(zip(layers, reference, shapes, strict=True)):
            weight = rng.standard_normal(shape) * 1.5 / np.sqrt(shape[1])
            bias = rng.standard_normal(shape[0]) * 0.5
            if "bias" not in layer.params:
                raise Mismatch(f"layer {i + 1}'s params has no 'bias' entry")
            _set_like(layer.params["weight"], weight, f"layer {i + 1}'s params['weight']")
            _set_like(layer.params["bias"], bias, f"layer {i + 1}'s params['bias']")
            other.params["weight"][...] = weight
            other.params["bias"][...] = bias
        x = rng.standard_normal((batch, n_in))
        out = as_array(mine.forward(x.copy()), "MLP.forward")
        if out.shape != (batch, n_out):
            raise Mismatch(f"MLP.forward returned shape {out.shape} for {batch} inputs, "
                           f"expected {(batch, n_out)}")
        probabilities = bool(np.all(out >= 0) and np.allclose(out.sum(axis=1), 1.0))
        if probabilities:
            want, hint = theirs.forward(x), f" (N × (linear → {act}), linear, softmax)"
        else:  # an edition whose MLP ends at the last linear layer (softmax in the loss)
            want, hint = theirs.net.forward(x), f" (N × (linear → {act}), then a linear layer)"
        same(f"MLP.forward with n_hidden={list(hidden)}", out, want, hint=hint)
        dout = rng.standard_normal(out.shape)
        mine.backward(dout.copy())
        if probabilities:
            theirs.backward(dout)
        else:
            theirs.net.backward(dout)
        order = " (backward runs every module, last to first, each on the gradient the " \
                "next one returned)"
        for i, (layer, other) in enumerate(zip(layers, reference, strict=True), start=1):
            for key in ("weight", "bias"):
                got = getattr(layer, "grads", {}).get(key)
                if got is None:
                    raise Mismatch(f"layer {i} has no grads[{key!r}] after MLP.backward")
                got, want = as_array(got, "grads"), other.grads[key]
                if key == "bias":  # (N,) or (1, N)
                    got, want = got.reshape(-1), want.reshape(-1)
                same(f"MLP.backward: layer {i} of {len(layers)}, grads[{key!r}]", got, want,
                     hint=order)
        for i, layer in enumerate(layers, start=1):
            for key in ("weight", "bias"):
                got = as_array(layer.grads[key], "grads").copy()
                numeric = numeric_gradient(lambda _, f=mine.forward, x=x: f(x.copy()),
                                           layer.params[key], dout)
                same(f"MLP.backward: layer {i} grads[{key!r}] against finite differences",
                     got.reshape(numeric.shape), numeric, rtol=1e-5, atol=1e-7)


def check_mlp_pytorch(m: ModuleType) -> None:
    import torch

    cls = _get(m, "MLP")
    for seed, (n_in, hidden, n_out, batch) in zip(SEEDS, MLP_SIZES, strict=True):
        torch.manual_seed(seed)
        sizes = [n_in, *hidden, n_out]
        shapes = list(zip(sizes[1:], sizes[:-1], strict=True))
        slope = _neg_slope(cls)
        extra = () if slope is None else (slope,)
        mine = _construct(cls, (n_in, list(hidden), n_out, *extra), list(hidden))
        if not isinstance(mine, torch.nn.Module):
            raise Mismatch(f"mlp_pytorch.py's MLP is a {type(mine).__module__}."
                           f"{type(mine).__qualname__}, not a torch.nn.Module: subclass "
                           "nn.Module (is this the NumPy MLP of mlp_numpy.py?)")
        mine = mine.double().eval()  # eval: dropout, if any, is off
        theirs = ref.TorchMLP(n_in, list(hidden), n_out, slope).double().eval()
        activation = torch.nn.ELU if slope is None else torch.nn.LeakyReLU
        linears = [s for s in mine.modules() if isinstance(s, torch.nn.Linear)]
        have = {tuple(s.weight.shape): s for s in linears}
        if len(linears) != len(shapes) or any(s not in have for s in shapes):
            raise Mismatch(f"MLP(…, n_hidden={list(hidden)}, …) should hold {len(shapes)} "
                           f"nn.Linear with weights {', '.join(str(s) for s in shapes)}; "
                           f"found {', '.join(str(s) for s in have) or 'none'}")
        reference = [s for s in theirs.modules() if isinstance(s, torch.nn.Linear)]
        with torch.no_grad():
            for layer, shape in zip(reference, shapes, strict=True):
                layer.weight.normal_(0, 1.5 / shape[1] ** 0.5)
                layer.bias.normal_(0, 0.5)
                have[shape].weight.copy_(layer.weight)
                if have[shape].bias is None:
                    raise Mismatch(f"the nn.Linear with weight {shape} has no bias")
                have[shape].bias.copy_(layer.bias)
        x = torch.randn(batch, n_in, dtype=torch.float64)
        out = mine(x)
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != (batch, n_out):
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise Mismatch(f"MLP.forward returned {shape} for {batch} inputs, expected "
                           f"shape {(batch, n_out)}")
        want = theirs(x)
        rows = out.detach().sum(dim=1)
        if bool((out >= 0).all()) and torch.allclose(rows, torch.ones_like(rows)) and \
                torch.allclose(out, want.softmax(dim=1)):
            raise Mismatch("MLP.forward returns probabilities (a softmax at the end); "
                           "nn.CrossEntropyLoss takes the logits and applies log-softmax "
                           "itself")
        others = sorted({type(s).__name__ for s in mine.modules()
                         if not isinstance(s, (torch.nn.Linear, activation, torch.nn.Dropout,
                                               torch.nn.Sequential, torch.nn.ModuleList))
                         and s is not mine})
        act = _activation(slope)
        hint = f" (the MLP also holds {', '.join(others)}; the check is of the handout's " \
               f"default: linear layers with {act} between them)" if others else \
               f" (N × (linear → {act}), then a linear layer)"
        same(f"MLP.forward with n_hidden={list(hidden)}", out.detach().numpy(),
             want.detach().numpy(), hint=hint)
        grad = torch.randn(batch, n_out, dtype=torch.float64)
        (out * grad).sum().backward()
        (want * grad).sum().backward()
        for i, (layer, shape) in enumerate(zip(reference, shapes, strict=True), start=1):
            for key in ("weight", "bias"):
                got = getattr(have[shape], key).grad
                if got is None:
                    raise Mismatch(f"no gradient reaches layer {i}'s {key} (is it used in "
                                   "forward, and not detached?)")
                same(f"MLP: gradient of layer {i}'s {key}", got.numpy(),
                     getattr(layer, key).grad.numpy())


def _torch_layernorm(module_cls, n: int):
    import torch

    layer = module_cls(n)
    params = dict(layer.named_parameters())
    if set(params) != {"gamma", "beta"}:
        raise Mismatch(f"{module_cls.__name__} should register nn.Parameters gamma and beta, "
                       f"has {sorted(params) or 'none'}")
    with torch.no_grad():
        params["gamma"].copy_(torch.linspace(0.5, 1.5, n, dtype=params["gamma"].dtype))
        params["beta"].copy_(torch.linspace(-0.2, 0.3, n, dtype=params["beta"].dtype))
    return layer.double()


def _check_norm_module(m: ModuleType, name: str, reference: type, stats: str) -> None:
    import torch

    mine = _torch_layernorm(_get(m, name), 6)
    theirs = _torch_layernorm(reference, 6)
    for seed in SEEDS:
        x = torch.randn(5, 6, generator=torch.Generator().manual_seed(seed),
                        dtype=torch.float64) * 3 + 1
        a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
        ya, yb = mine(a), theirs(b)
        same(f"{name} forward", ya.detach().numpy(), yb.detach().numpy(),
             hint=f" (mean and biased variance {stats})")
        grad = torch.randn(5, 6, generator=torch.Generator().manual_seed(seed + 10),
                           dtype=torch.float64)
        ya.backward(grad)
        yb.backward(grad)
        same(f"{name} gradient of the input", a.grad.numpy(), b.grad.numpy())
        for p in ("gamma", "beta"):
            same(f"{name} gradient of {p}", dict(mine.named_parameters())[p].grad.numpy(),
                 dict(theirs.named_parameters())[p].grad.numpy())
            for layer in (mine, theirs):
                dict(layer.named_parameters())[p].grad = None
    for shape in ((5, 1), (2, 5, 6)):  # wrong shapes that broadcasting would let through
        try:
            mine(torch.randn(*shape, dtype=torch.float64))
        except Exception:
            continue
        raise Mismatch(f"{name} accepted an input of shape {shape} for 6 features; the "
                       "handout asks forward to check the input's shape")


ROWS, COLUMNS = "over the features of each row", "over the batch, for each feature"


def check_layernorm_autograd(m: ModuleType) -> None:
    _check_norm_module(m, "CustomLayerNormAutograd", ref.CustomLayerNormAutograd, ROWS)


def check_layernorm_module(m: ModuleType) -> None:
    _check_norm_module(m, "CustomLayerNormManualModule", ref.CustomLayerNormAutograd, ROWS)


def check_batchnorm_autograd(m: ModuleType) -> None:
    _check_norm_module(m, "CustomBatchNormAutograd", ref.CustomBatchNormAutograd, COLUMNS)


def check_batchnorm_module(m: ModuleType) -> None:
    _check_norm_module(m, "CustomBatchNormManualModule", ref.CustomBatchNormAutograd, COLUMNS)


def check_layernorm_function(m: ModuleType) -> None:
    _check_function(_get(m, "CustomLayerNormManualFunction"), "CustomLayerNormManualFunction")


def check_batchnorm_function(m: ModuleType) -> None:
    _check_function(_get(m, "CustomBatchNormManualFunction"), "CustomBatchNormManualFunction")


def _check_function(fn, name: str) -> None:
    import torch

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    gamma = torch.randn(5, generator=gen, dtype=torch.float64, requires_grad=True)
    beta = torch.randn(5, generator=gen, dtype=torch.float64, requires_grad=True)
    try:
        ok = torch.autograd.gradcheck(lambda *a: fn.apply(*a), (x, gamma, beta), eps=1e-6,
                                      atol=1e-5, raise_exception=True)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise Mismatch(f"{name} fails torch.autograd.gradcheck: {first}") from None
    if not ok:  # pragma: no cover - raise_exception=True raises instead
        raise Mismatch(f"{name} fails torch.autograd.gradcheck")
    # inputs that need no gradient must get None, and cost nothing (needs_input_grad)
    returned: list[tuple] = []
    original = fn.backward

    def spy(ctx, *grads):
        out = original(ctx, *grads)
        returned.append(tuple(out) if isinstance(out, (tuple, list)) else (out,))
        return out

    fn.backward = staticmethod(spy)
    try:
        y = fn.apply(x, gamma.detach(), beta.detach())
        y.sum().backward()
    finally:
        fn.backward = original
    if returned and any(g is not None for g in returned[-1][1:3]):
        raise Mismatch(f"{name}.backward returns gradients for gamma and beta although they "
                       "do not require them; check ctx.needs_input_grad and return None")


PIECES = (
    Piece("linear", "Question 1.1 a)", "modules", check_linear,
          "LinearModule forward, backward, params and grads"),
    Piece("elu", "Question 1.1 b)", "modules", check_elu, "ELUModule forward and backward"),
    Piece("leaky_relu", "autumn-2019 edition 1.1 b)", "modules", check_leaky_relu,
          "LeakyReLUModule(neg_slope) forward and backward"),
    Piece("softmax", "Question 1.1 c)", "modules", check_softmax,
          "SoftMaxModule forward and backward"),
    Piece("cross_entropy", "Question 1.1 c)", "modules", check_cross_entropy,
          "CrossEntropyModule forward and backward"),
    Piece("mlp", "Question 1.2", "mlp_numpy", check_mlp,
          "MLP: layers, forward, every layer's gradients (reference and finite differences), "
          "n_hidden = []"),
    Piece("mlp_pytorch", "Question 2.1", "mlp_pytorch", check_mlp_pytorch,
          "MLP (PyTorch): layers, forward and gradients on the reference's weights, "
          "n_hidden = []"),
    Piece("layernorm_autograd", "Question 3.1", "custom_layernorm", check_layernorm_autograd,
          "CustomLayerNormAutograd: parameters, forward, gradients, shape check"),
    Piece("layernorm_function", "Question 3.2 b)", "custom_layernorm",
          check_layernorm_function, "CustomLayerNormManualFunction: gradcheck and "
          "needs_input_grad"),
    Piece("layernorm_module", "Question 3.2 c)", "custom_layernorm", check_layernorm_module,
          "CustomLayerNormManualModule: parameters, forward, gradients, shape check"),
    Piece("batchnorm_autograd", "2019 edition 3.1", "custom_batchnorm",
          check_batchnorm_autograd, "CustomBatchNormAutograd: parameters, forward, gradients, "
          "shape check"),
    Piece("batchnorm_function", "2019 edition 3.2 b)", "custom_batchnorm",
          check_batchnorm_function, "CustomBatchNormManualFunction: gradcheck and "
          "needs_input_grad"),
    Piece("batchnorm_module", "2019 edition 3.2 c)", "custom_batchnorm",
          check_batchnorm_module, "CustomBatchNormManualModule: parameters, forward, "
          "gradients, shape check"),
)
