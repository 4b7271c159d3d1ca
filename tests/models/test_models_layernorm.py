"""Tests for practica.models.layernorm (UvA DL practical 1, §3)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from practica.models import LayerNormAutograd, LayerNormFunction, LayerNormManual

S, M = 6, 9


def _inputs(requires: tuple[bool, bool, bool] = (True, True, True), seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = (3.0 * torch.randn(S, M, generator=g, dtype=torch.float64) + 1.5).requires_grad_(
        requires[0]
    )
    gamma = (1.0 + 0.5 * torch.randn(M, generator=g, dtype=torch.float64)).requires_grad_(
        requires[1]
    )
    beta = torch.randn(M, generator=g, dtype=torch.float64).requires_grad_(requires[2])
    return x, gamma, beta


def test_gradcheck_function() -> None:
    x, gamma, beta = _inputs()
    assert torch.autograd.gradcheck(
        lambda a, b, c: LayerNormFunction.apply(a, b, c, 1e-5), (x, gamma, beta)
    )


PARTIAL = [(True, False, False), (False, True, False), (False, False, True), (True, False, True)]


@pytest.mark.parametrize("requires", PARTIAL)
def test_gradcheck_partial_requires_grad(requires: tuple[bool, bool, bool]) -> None:
    x, gamma, beta = _inputs(requires)
    assert torch.autograd.gradcheck(
        lambda a, b, c: LayerNormFunction.apply(a, b, c, 1e-5), (x, gamma, beta)
    )


def _params(module: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(module, nn.LayerNorm):
        return module.weight, module.bias
    return module.gamma, module.beta


def _with_params(module: nn.Module, gamma: torch.Tensor, beta: torch.Tensor) -> nn.Module:
    module = module.double()
    weight, bias = _params(module)
    with torch.no_grad():
        weight.copy_(gamma)
        bias.copy_(beta)
    return module


@pytest.mark.parametrize("eps", [1e-5, 1e-1])
def test_all_three_agree_with_torch_layernorm(eps: float) -> None:
    x0, gamma, beta = _inputs((False, False, False))
    upstream = torch.randn(S, M, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    results = []
    for module in (
        nn.LayerNorm(M, eps=eps),
        LayerNormAutograd(M, eps=eps),
        LayerNormManual(M, eps=eps),
    ):
        module = _with_params(module, gamma, beta)
        x = x0.clone().requires_grad_(True)
        y = module(x)
        (y * upstream).sum().backward()
        g, b = _params(module)
        results.append((y.detach(), x.grad, g.grad, b.grad))

    reference = results[0]
    for got in results[1:]:
        for a, e in zip(got, reference, strict=True):
            torch.testing.assert_close(a, e, rtol=1e-6, atol=1e-6)


def test_function_agrees_with_functional_layer_norm() -> None:
    x, gamma, beta = _inputs()
    upstream = torch.randn(S, M, dtype=torch.float64)
    y = LayerNormFunction.apply(x, gamma, beta, 1e-5)
    grads = torch.autograd.grad(y, (x, gamma, beta), upstream)
    y_ref = nn.functional.layer_norm(x, (M,), gamma, beta, 1e-5)
    grads_ref = torch.autograd.grad(y_ref, (x, gamma, beta), upstream)
    torch.testing.assert_close(y, y_ref, rtol=1e-6, atol=1e-6)
    for a, e in zip(grads, grads_ref, strict=True):
        torch.testing.assert_close(a, e, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cls", [LayerNormAutograd, LayerNormManual])
def test_default_params_give_zero_mean_unit_variance_rows(cls: type[nn.Module]) -> None:
    module = cls(M).double()
    assert torch.equal(module.gamma, torch.ones(M, dtype=torch.float64))
    assert torch.equal(module.beta, torch.zeros(M, dtype=torch.float64))
    x = 10.0 * torch.randn(S, M, dtype=torch.float64) - 4.0
    y = module(x)
    torch.testing.assert_close(y.mean(dim=1), torch.zeros(S, dtype=torch.float64))
    # Biased variance is 1 up to the ε term: σ²/(σ² + ε).
    var_x = x.var(dim=1, unbiased=False)
    torch.testing.assert_close(y.var(dim=1, unbiased=False), var_x / (var_x + module.eps))
    torch.testing.assert_close(
        y.var(dim=1, unbiased=False), torch.ones(S, dtype=torch.float64), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("cls", [LayerNormAutograd, LayerNormManual])
def test_parameters_are_registered(cls: type[nn.Module]) -> None:
    module = cls(M)
    names = {n: p.shape for n, p in module.named_parameters()}
    assert names == {"gamma": (M,), "beta": (M,)}


def _spy_backward(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    calls: list[tuple] = []
    original = LayerNormFunction.backward

    def spy(ctx: object, grad_y: torch.Tensor) -> tuple:
        out = original(ctx, grad_y)
        calls.append(out)
        return out

    monkeypatch.setattr(LayerNormFunction, "backward", staticmethod(spy))
    return calls


@pytest.mark.parametrize(
    ("requires", "saved_not_none"),
    [
        ((True, False, False), (True, True, True)),
        ((False, True, False), (True, False, False)),
        ((False, False, True), (False, False, False)),
        ((True, True, True), (True, True, True)),
    ],
)
def test_needs_input_grad_paths(
    monkeypatch: pytest.MonkeyPatch,
    requires: tuple[bool, bool, bool],
    saved_not_none: tuple[bool, bool, bool],
) -> None:
    calls = _spy_backward(monkeypatch)
    x, gamma, beta = _inputs(requires)
    y = LayerNormFunction.apply(x, gamma, beta, 1e-5)

    # Only what backward needs is saved: (X̂, 1/σ, γ) slots, None where not required.
    saved = y.grad_fn.saved_tensors
    assert tuple(t is not None for t in saved) == saved_not_none

    y.backward(torch.ones_like(y))
    assert len(calls) == 1
    grad_x, grad_gamma, grad_beta, grad_eps = calls[0]
    # Gradients not required are not computed at all: backward returns None for them.
    assert (grad_x is not None, grad_gamma is not None, grad_beta is not None) == requires
    assert grad_eps is None
    for tensor, needed in zip((x, gamma, beta), requires, strict=True):
        assert (tensor.grad is not None) == needed


def test_saved_tensors_are_xhat_inv_std_and_gamma() -> None:
    x, gamma, beta = _inputs()
    y = LayerNormFunction.apply(x, gamma, beta, 1e-5)
    x_hat, inv_std, saved_gamma = y.grad_fn.saved_tensors
    mu = x.detach().mean(dim=1, keepdim=True)
    sigma = torch.sqrt(x.detach().var(dim=1, unbiased=False, keepdim=True) + 1e-5)
    torch.testing.assert_close(x_hat, (x.detach() - mu) / sigma)
    torch.testing.assert_close(inv_std, 1.0 / sigma)
    assert inv_std.shape == (S, 1)
    assert torch.equal(saved_gamma, gamma.detach())


def test_double_backward_is_refused() -> None:
    x, gamma, beta = _inputs()
    y = LayerNormFunction.apply(x, gamma, beta, 1e-5)
    (gx,) = torch.autograd.grad(y.pow(2).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError):
        gx.sum().backward()


@pytest.mark.parametrize("cls", [LayerNormAutograd, LayerNormManual])
@pytest.mark.parametrize(
    ("shape", "message"),
    [((S,), "2-D"), ((2, S, M), "2-D"), ((S, M + 1), f"built for {M} features")],
)
def test_shape_errors(cls: type[nn.Module], shape: tuple[int, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cls(M)(torch.randn(*shape))


def test_function_rejects_mismatched_parameters() -> None:
    x = torch.randn(S, M)
    with pytest.raises(ValueError, match="built for"):
        LayerNormFunction.apply(x, torch.ones(M + 1), torch.zeros(M + 1), 1e-5)
    with pytest.raises(ValueError, match="gamma and beta"):
        LayerNormFunction.apply(x, torch.ones(M), torch.zeros(M + 1), 1e-5)
