"""Tests for practica.models.convnets against the handout tables."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from practica.models import (
    PREACT_CONVNET_CFG,
    VGG_CONVNET_CFG,
    ConvBNReLU,
    PreActBlock,
    PreActConvNet,
    VGGConvNet,
)

Row = tuple[str, int | None, int | None, int | None, int, int]

# CVbL 2019, Table 1, copied row by row: name, kernel, stride, padding, channels in, out.
VGG_TABLE: list[Row] = [
    ("conv1", 3, 1, 1, 3, 64),
    ("maxpool1", 3, 2, 1, 64, 64),
    ("conv2", 3, 1, 1, 64, 128),
    ("maxpool2", 3, 2, 1, 128, 128),
    ("conv3_a", 3, 1, 1, 128, 256),
    ("conv3_b", 3, 1, 1, 256, 256),
    ("maxpool3", 3, 2, 1, 256, 256),
    ("conv4_a", 3, 1, 1, 256, 512),
    ("conv4_b", 3, 1, 1, 512, 512),
    ("maxpool4", 3, 2, 1, 512, 512),
    ("conv5_a", 3, 1, 1, 512, 512),
    ("conv5_b", 3, 1, 1, 512, 512),
    ("maxpool5", 3, 2, 1, 512, 512),
    ("avgpool", 1, 1, 0, 512, 512),
    ("linear", None, None, None, 512, 10),
]

# UvA DL practical 1, Figure 5 (left), copied row by row.
PREACT_TABLE: list[Row] = [
    ("conv0", 3, 1, 1, 3, 64),
    ("PreAct1", 3, 1, 1, 64, 64),
    ("conv1", 1, 1, 0, 64, 128),
    ("maxpool1", 3, 2, 1, 128, 128),
    ("PreAct2_a", 3, 1, 1, 128, 128),
    ("PreAct2_b", 3, 1, 1, 128, 128),
    ("conv2", 1, 1, 0, 128, 256),
    ("maxpool2", 3, 2, 1, 256, 256),
    ("PreAct3_a", 3, 1, 1, 256, 256),
    ("PreAct3_b", 3, 1, 1, 256, 256),
    ("conv3", 1, 1, 0, 256, 512),
    ("maxpool3", 3, 2, 1, 512, 512),
    ("PreAct4_a", 3, 1, 1, 512, 512),
    ("PreAct4_b", 3, 1, 1, 512, 512),
    ("maxpool4", 3, 2, 1, 512, 512),
    ("PreAct5_a", 3, 1, 1, 512, 512),
    ("PreAct5_b", 3, 1, 1, 512, 512),
    ("maxpool5", 3, 2, 1, 512, 512),
    ("linear", None, None, None, 512, 10),
]


def _square(v: int | tuple[int, ...]) -> int:
    if isinstance(v, tuple):
        assert len(set(v)) == 1, f"non-square {v}"
        return v[0]
    return v


def _conv_row(name: str, conv: nn.Conv2d) -> Row:
    return (
        name,
        _square(conv.kernel_size),
        _square(conv.stride),
        _square(conv.padding),
        conv.in_channels,
        conv.out_channels,
    )


def _describe(model: nn.Module) -> list[Row]:
    """Read the model's layers back into handout-table rows."""
    rows: list[Row] = []
    channels = None
    for name, layer in model.features.named_children():
        if isinstance(layer, ConvBNReLU):
            conv, bn, act = layer
            assert isinstance(conv, nn.Conv2d)
            assert isinstance(bn, nn.BatchNorm2d) and bn.num_features == conv.out_channels
            assert isinstance(act, nn.ReLU)
            rows.append(_conv_row(name, conv))
        elif isinstance(layer, PreActBlock):
            assert layer.bn.num_features == layer.conv.in_channels
            rows.append(_conv_row(name, layer.conv))
        elif isinstance(layer, nn.Conv2d):
            rows.append(_conv_row(name, layer))
        elif isinstance(layer, nn.MaxPool2d | nn.AvgPool2d):
            k, s, p = (_square(v) for v in (layer.kernel_size, layer.stride, layer.padding))
            rows.append((name, k, s, p, channels, channels))
        else:
            raise AssertionError(f"unexpected layer {name}: {layer}")
        channels = rows[-1][-1]
    rows.append(("linear", None, None, None, model.linear.in_features, model.linear.out_features))
    return rows


def test_vgg_layers_match_table_1() -> None:
    model = VGGConvNet()
    assert _describe(model) == VGG_TABLE
    assert all(isinstance(m, ConvBNReLU) for n, m in model.features.named_children() if "conv" in n)


def test_preact_layers_match_figure_5() -> None:
    model = PreActConvNet()
    assert _describe(model) == PREACT_TABLE
    # conv rows are bare convolutions (no BN/activation); BN + ReLU precede the linear layer.
    for name, layer in model.features.named_children():
        if name.startswith("conv"):
            assert type(layer) is nn.Conv2d
    assert isinstance(model.bn, nn.BatchNorm2d) and model.bn.num_features == 512
    assert isinstance(model.relu, nn.ReLU)


def test_config_rows_name_the_table_rows() -> None:
    assert [r[0] for r in VGG_CONVNET_CFG] == [r[0] for r in VGG_TABLE[:-1]]
    assert [r[0] for r in PREACT_CONVNET_CFG] == [r[0] for r in PREACT_TABLE[:-1]]


def _conv_params(k: int, c_in: int, c_out: int) -> int:
    return k * k * c_in * c_out + c_out  # weights + bias


def test_vgg_parameter_count_closed_form() -> None:
    expected = 0
    for name, k, _, _, c_in, c_out in VGG_TABLE:
        if name.startswith("conv"):
            expected += _conv_params(k, c_in, c_out) + 2 * c_out  # conv + BN (γ, β)
        elif name == "linear":
            expected += c_in * c_out + c_out
    model = VGGConvNet()
    assert sum(p.numel() for p in model.parameters()) == expected == 9_231_114


def test_preact_parameter_count_closed_form() -> None:
    expected = 2 * 512  # final BatchNorm γ, β
    for name, k, _, _, c_in, c_out in PREACT_TABLE:
        if name.startswith("conv"):
            expected += _conv_params(k, c_in, c_out)
        elif name.startswith("PreAct"):
            expected += 2 * c_in + _conv_params(k, c_in, c_out)  # BN + conv
        elif name == "linear":
            expected += c_in * c_out + c_out
    model = PreActConvNet()
    assert sum(p.numel() for p in model.parameters()) == expected == 11_138_122


@pytest.mark.parametrize("cls", [VGGConvNet, PreActConvNet])
def test_output_shape(cls: type[nn.Module]) -> None:
    out = cls()(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10)


@pytest.mark.parametrize("cls", [VGGConvNet, PreActConvNet])
def test_custom_channels_and_classes(cls: type[nn.Module]) -> None:
    model = cls(in_channels=1, num_classes=7)
    assert model(torch.randn(2, 1, 32, 32)).shape == (2, 7)
    first_conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    assert first_conv.in_channels == 1


@pytest.mark.parametrize("cls", [VGGConvNet, PreActConvNet])
def test_channels_last_matches_contiguous(cls: type[nn.Module]) -> None:
    torch.manual_seed(0)
    model = cls().eval()
    x = torch.randn(2, 3, 32, 32)
    expected = model(x)
    model_cl = model.to(memory_format=torch.channels_last)
    got = model_cl(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", [VGGConvNet, PreActConvNet])
def test_input_too_large_for_the_pooling_raises(cls: type[nn.Module]) -> None:
    with pytest.raises(ValueError, match="1×1"):
        cls().eval()(torch.randn(1, 3, 64, 64))


def test_preact_block_is_x_plus_conv_relu_bn() -> None:
    torch.manual_seed(0)
    block = PreActBlock(4).eval()
    with torch.no_grad():
        block.bn.running_mean.uniform_(-1, 1)
        block.bn.running_var.uniform_(0.5, 2)
        block.bn.weight.uniform_(0.5, 2)
        block.bn.bias.uniform_(-1, 1)
    x = torch.randn(2, 4, 5, 5)
    expected = x + block.conv(torch.relu(block.bn(x)))
    torch.testing.assert_close(block(x), expected)
    with torch.no_grad():
        block.conv.weight.zero_()
        block.conv.bias.zero_()
    torch.testing.assert_close(block(x), x)  # identity shortcut


@pytest.mark.parametrize("cls", [VGGConvNet, PreActConvNet])
def test_few_adam_steps_reduce_loss(cls: type[nn.Module]) -> None:
    torch.manual_seed(0)
    model = cls()
    x, y = torch.randn(4, 3, 32, 32), torch.randint(0, 10, (4,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(4):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
