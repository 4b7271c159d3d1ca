"""Tests for practica.models.mlp.MLP."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from practica.models import MLP


def _kinds(model: MLP) -> list[type[nn.Module]]:
    return [type(m) for m in model.layers]


def test_flattens_image_input_and_returns_logits() -> None:
    torch.manual_seed(0)
    model = MLP(3 * 8 * 8, [32, 16], 10)
    out = model(torch.randn(5, 3, 8, 8))
    assert out.shape == (5, 10)


def test_flattens_channels_last_input_in_logical_order() -> None:
    torch.manual_seed(0)
    model = MLP(3 * 4 * 4, [8], 3)
    x = torch.randn(2, 3, 4, 4)
    expected = model(x)
    got = model(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(got, expected)


def test_wrong_feature_count_raises() -> None:
    with pytest.raises(ValueError, match="expected 12 features"):
        MLP(12, [4], 2)(torch.randn(3, 13))


@pytest.mark.parametrize(
    ("name", "cls"), [("elu", nn.ELU), ("tanh", nn.Tanh), ("relu", nn.ReLU), ("gelu", nn.GELU)]
)
def test_activation_choice(name: str, cls: type[nn.Module]) -> None:
    model = MLP(6, [5, 4], 3, activation=name)
    assert _kinds(model) == [nn.Linear, cls, nn.Linear, cls, nn.Linear]


def test_unknown_activation_raises() -> None:
    with pytest.raises(ValueError, match="activation"):
        MLP(6, [5], 3, activation="sigmoid")


def test_layer_sizes_and_parameter_count() -> None:
    model = MLP(7, [5, 4], 3)
    linears = [m for m in model.layers if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(7, 5), (5, 4), (4, 3)]
    expected = (7 * 5 + 5) + (5 * 4 + 4) + (4 * 3 + 3)
    assert sum(p.numel() for p in model.parameters()) == expected


def test_no_hidden_layers_is_linear_model() -> None:
    model = MLP(6, [], 3)
    assert _kinds(model) == [nn.Linear]
    x = torch.randn(4, 6)
    lin = model.layers[0]
    torch.testing.assert_close(model(x), x @ lin.weight.T + lin.bias)


@pytest.mark.parametrize(
    ("kwargs", "norm_cls"),
    [
        ({"norm": "batch"}, nn.BatchNorm1d),
        ({"batch_norm": True}, nn.BatchNorm1d),
        ({"batch_norm": True, "norm": "batch"}, nn.BatchNorm1d),
        ({"norm": "layer"}, nn.LayerNorm),
    ],
)
def test_norm_follows_each_hidden_linear(kwargs: dict, norm_cls: type[nn.Module]) -> None:
    model = MLP(6, [5, 4], 3, activation="relu", **kwargs)
    block = [nn.Linear, norm_cls, nn.ReLU]
    assert _kinds(model) == [*block, *block, nn.Linear]
    norms = [m for m in model.layers if isinstance(m, norm_cls)]
    sizes = [m.num_features if norm_cls is nn.BatchNorm1d else m.normalized_shape[0] for m in norms]
    assert sizes == [5, 4]


@pytest.mark.parametrize(
    "kwargs", [{"norm": "group"}, {"batch_norm": True, "norm": "layer"}, {"dropout": 1.0}]
)
def test_invalid_options_raise(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        MLP(6, [5], 3, **kwargs)


def test_dropout_active_in_train_and_off_in_eval() -> None:
    torch.manual_seed(0)
    model = MLP(20, [64], 4, dropout=0.5)
    assert _kinds(model) == [nn.Linear, nn.ELU, nn.Dropout, nn.Linear]
    x = torch.randn(8, 20)
    model.train()
    assert not torch.allclose(model(x), model(x))
    model.eval()
    torch.testing.assert_close(model(x), model(x))


def test_layer_norm_output_independent_of_batch() -> None:
    torch.manual_seed(0)
    model = MLP(6, [5], 3, norm="layer").eval()
    x = torch.randn(4, 6)
    torch.testing.assert_close(model(x)[:1], model(x[:1]))


def test_few_adam_steps_reduce_loss() -> None:
    torch.manual_seed(0)
    model = MLP(3 * 4 * 4, [32], 5, batch_norm=True, dropout=0.1)
    x, y = torch.randn(16, 3, 4, 4), torch.randint(0, 5, (16,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(20):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
