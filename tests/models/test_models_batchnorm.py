"""The custom batch norm (UvA DL 1, 2019 edition): autograd and manual versions agree with
torch's training-mode batch norm, the manual backward passes gradcheck, and inputs that
need no gradient get None."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from practica.models.batchnorm import BatchNormAutograd, BatchNormFunction, BatchNormManual


@pytest.mark.parametrize("cls", [BatchNormAutograd, BatchNormManual])
def test_matches_torch_batch_norm_in_training_mode(cls):
    torch.manual_seed(0)
    layer = cls(5).double()
    with torch.no_grad():
        layer.gamma.copy_(torch.linspace(0.5, 2, 5))
        layer.beta.copy_(torch.linspace(-1, 1, 5))
    x = torch.randn(8, 5, dtype=torch.float64) * 3 + 2
    expected = F.batch_norm(x, None, None, layer.gamma, layer.beta, training=True, eps=1e-5)
    torch.testing.assert_close(layer(x), expected)
    with pytest.raises(ValueError, match="shape"):
        layer(torch.randn(8, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="at least 2 samples"):
        layer(torch.randn(1, 5, dtype=torch.float64))


def test_manual_backward_passes_gradcheck_and_matches_autograd():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(6, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    gamma = torch.randn(4, generator=gen, dtype=torch.float64, requires_grad=True)
    beta = torch.randn(4, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(BatchNormFunction.apply, (x, gamma, beta))
    auto = BatchNormAutograd(4).double()
    with torch.no_grad():
        auto.gamma.copy_(gamma)
        auto.beta.copy_(beta)
    a = x.detach().clone().requires_grad_()
    auto(a).pow(2).sum().backward()
    BatchNormFunction.apply(x, gamma, beta).pow(2).sum().backward()
    torch.testing.assert_close(x.grad, a.grad)
    torch.testing.assert_close(gamma.grad, auto.gamma.grad)


def test_inputs_that_need_no_gradient_get_none():
    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    gamma, beta = torch.ones(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    y = BatchNormFunction.apply(x, gamma, beta)
    grads = y.grad_fn.apply(torch.ones_like(y))
    assert grads[0] is not None and grads[1] is None and grads[2] is None
