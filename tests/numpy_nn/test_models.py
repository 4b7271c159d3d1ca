"""MLP, SoftmaxClassifier and ConvNet: structure, shapes, errors, equivalence with torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from practica.numpy_nn import (
    ELU,
    MLP,
    ConvNet,
    Linear,
    ReLU,
    SoftmaxClassifier,
    SoftmaxCrossEntropy,
    Tanh,
)


def test_mlp_structure_follows_uva() -> None:
    mlp = MLP(12, [8, 6], 3, seed=0)
    assert [type(m) for m in mlp.layers] == [Linear, ELU, Linear, ELU, Linear]
    assert {k: v.shape for k, v in mlp.params.items()} == {
        "fc1.weight": (8, 12), "fc1.bias": (8,), "fc2.weight": (6, 8), "fc2.bias": (6,),
        "fc3.weight": (3, 6), "fc3.bias": (3,),
    }
    assert mlp.params["fc1.weight"].std() == pytest.approx(1e-4, rel=0.2)  # UvA default init
    assert [type(m) for m in MLP(4, [], 2).layers] == [Linear]
    assert type(MLP(4, [3], 2, activation="tanh").layers[1]) is Tanh
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        MLP(4, [3], 2, activation="gelu")


def test_models_output_shapes_dtypes_and_seeding() -> None:
    x = np.random.default_rng(0).standard_normal((5, 1, 12, 12))
    net = ConvNet((1, 12, 12), num_filters=4, filter_size=5, hidden_dim=7, num_classes=3)
    # valid conv: 12 − 5 + 1 = 8, pool -> 4, fc1 input 4·4·4
    assert net.params["fc1.weight"].shape == (7, 64)
    assert net.forward(x).shape == (5, 3) and net.forward(x).dtype == np.float32
    odd = ConvNet((1, 28, 28), num_filters=2, filter_size=6, hidden_dim=5, num_classes=10)
    assert odd.params["fc1.weight"].shape == (5, 2 * 11 * 11)  # 23 -> floor(23/2) = 11
    sc = SoftmaxClassifier(10, 6, 4, seed=1, dtype=np.float64)
    assert sc.forward(np.ones((2, 10))).dtype == np.float64
    assert list(sc.params) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [type(m) for m in sc.layers] == [Linear, ReLU, Linear]
    same = SoftmaxClassifier(10, 6, 4, seed=1, dtype=np.float64)
    other = SoftmaxClassifier(10, 6, 4, seed=2, dtype=np.float64)
    np.testing.assert_array_equal(sc.params["fc2.weight"], same.params["fc2.weight"])
    assert not np.array_equal(sc.params["fc2.weight"], other.params["fc2.weight"])


def test_models_reject_bad_input_shapes() -> None:
    with pytest.raises(ValueError, match=r"^MLP: expected input of shape \(S, 12\), "
                                         r"got \(2, 3, 2, 2\)$"):
        MLP(12, [4], 2).forward(np.zeros((2, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"SoftmaxClassifier: expected input .*\(N, 10\)"):
        SoftmaxClassifier(10, 4, 2).forward(np.zeros((2, 9)))
    with pytest.raises(ValueError, match=r"ConvNet: expected input of shape \(N, 1, 28, 28\), "
                                         r"got \(2, 3, 28, 28\)"):
        ConvNet().forward(np.zeros((2, 3, 28, 28)))
    with pytest.raises(ValueError, match="too small"):
        ConvNet((1, 4, 4), filter_size=4)


def test_convnet_matches_the_same_network_in_torch() -> None:
    rng = np.random.default_rng(0)
    net = ConvNet((2, 9, 9), num_filters=3, filter_size=3, hidden_dim=6, num_classes=4,
                  padding=1, seed=0, dtype=np.float64)
    for p in net.params.values():
        p[...] = 0.3 * rng.standard_normal(p.shape)
    x, y = rng.standard_normal((5, 2, 9, 9)), rng.integers(0, 4, size=5)
    loss_fn = SoftmaxCrossEntropy(dtype=np.float64)
    loss = loss_fn.forward(net.forward(x), y)
    dx = net.backward(loss_fn.backward())

    t = {k: torch.tensor(v, requires_grad=True) for k, v in net.params.items()}
    xt = torch.tensor(x, requires_grad=True)
    h = F.max_pool2d(F.relu(F.conv2d(xt, t["conv.weight"], t["conv.bias"], padding=1)), 2)
    h = F.relu(F.linear(h.flatten(1), t["fc1.weight"], t["fc1.bias"]))
    lt = F.cross_entropy(F.linear(h, t["fc2.weight"], t["fc2.bias"]), torch.tensor(y))
    lt.backward()
    assert loss == pytest.approx(lt.item(), rel=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-12)
    for k, v in net.grads.items():
        np.testing.assert_allclose(v, t[k].grad.numpy(), atol=1e-12, err_msg=k)
