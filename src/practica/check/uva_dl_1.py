"""The checks of UvA DL practical 1's pieces: ``modules.py`` (NumPy) and
``custom_layernorm.py`` (PyTorch), against :mod:`practica.handouts.uva_dl_1`."""

from __future__ import annotations

from types import ModuleType

import numpy as np

from ..handouts import uva_dl_1 as ref
from .compare import Mismatch, Missing, numeric_gradient, same
from .spec import Piece

SEEDS = (0, 1, 2)


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


def _elementwise(m: ModuleType, name: str, x: np.ndarray, hint: str) -> None:
    mine, theirs = _get(m, name)(), getattr(ref, name)()
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
    Piece("softmax", "Question 1.1 c)", "modules", check_softmax,
          "SoftMaxModule forward and backward"),
    Piece("cross_entropy", "Question 1.1 c)", "modules", check_cross_entropy,
          "CrossEntropyModule forward and backward"),
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
