"""Convolutional networks for 32×32 CIFAR-10 images, built from table-shaped config lists.

* :class:`VGGConvNet` — the small VGG of CVbL 2019, §2, Table 1.
* :class:`PreActConvNet` — the VGG13-like net with pre-activation skip connections of
  UvA DL practical 1, §4, Figure 5.

Each architecture is a tuple of rows ``(name, kind, kernel, out_channels)`` that mirrors its
handout table line by line (names included, so ``model.features.conv3_a`` is the table's
``conv3_a``). Stride and padding follow from the kind, exactly as in both tables:

* ``"conv"`` / ``"preact"``: stride 1, padding ``kernel // 2`` (3×3 → 1, 1×1 → 0);
* ``"maxpool"``: 3×3, stride 2, padding 1 (halves 32 → 16 → 8 → 4 → 2 → 1);
* ``"avgpool"``: stride 1, padding 0.

Input channels are threaded from the previous row. Convolutions and linear layers use
PyTorch's default initialisation and keep their bias, as the handouts prescribe. Both nets
work with ``torch.channels_last`` inputs and models (all ops are layout-agnostic).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

LayerSpec = tuple[str, str, int, int]
"""One table row: ``(name, kind, kernel_size, out_channels)``."""

# CVbL 2019, Table 1. Every "conv" row is Conv2d → BatchNorm2d → ReLU.
# fmt: off
VGG_CONVNET_CFG: tuple[LayerSpec, ...] = (
    # name        kind       k  out       table: kernel stride padding in/out
    ("conv1",     "conv",    3, 64),   # 3×3 1 1   3/64
    ("maxpool1",  "maxpool", 3, 64),   # 3×3 2 1  64/64
    ("conv2",     "conv",    3, 128),  # 3×3 1 1  64/128
    ("maxpool2",  "maxpool", 3, 128),  # 3×3 2 1 128/128
    ("conv3_a",   "conv",    3, 256),  # 3×3 1 1 128/256
    ("conv3_b",   "conv",    3, 256),  # 3×3 1 1 256/256
    ("maxpool3",  "maxpool", 3, 256),  # 3×3 2 1 256/256
    ("conv4_a",   "conv",    3, 512),  # 3×3 1 1 256/512
    ("conv4_b",   "conv",    3, 512),  # 3×3 1 1 512/512
    ("maxpool4",  "maxpool", 3, 512),  # 3×3 2 1 512/512
    ("conv5_a",   "conv",    3, 512),  # 3×3 1 1 512/512
    ("conv5_b",   "conv",    3, 512),  # 3×3 1 1 512/512
    ("maxpool5",  "maxpool", 3, 512),  # 3×3 2 1 512/512
    ("avgpool",   "avgpool", 1, 512),  # 1×1 1 0 512/512
)  # then: linear 512/10
# fmt: on

# UvA DL practical 1, Figure 5. "conv" rows are a bare Conv2d (no BN, no activation);
# "preact" rows are PreActBlock: x + Conv3×3(ReLU(BN(x))).
# fmt: off
PREACT_CONVNET_CFG: tuple[LayerSpec, ...] = (
    # name        kind       k  out       table: kernel stride padding in/out
    ("conv0",     "conv",    3, 64),   # 3×3 1 1   3/64
    ("PreAct1",   "preact",  3, 64),   # 3×3 1 1  64/64
    ("conv1",     "conv",    1, 128),  # 1×1 1 0  64/128
    ("maxpool1",  "maxpool", 3, 128),  # 3×3 2 1 128/128
    ("PreAct2_a", "preact",  3, 128),  # 3×3 1 1 128/128
    ("PreAct2_b", "preact",  3, 128),  # 3×3 1 1 128/128
    ("conv2",     "conv",    1, 256),  # 1×1 1 0 128/256
    ("maxpool2",  "maxpool", 3, 256),  # 3×3 2 1 256/256
    ("PreAct3_a", "preact",  3, 256),  # 3×3 1 1 256/256
    ("PreAct3_b", "preact",  3, 256),  # 3×3 1 1 256/256
    ("conv3",     "conv",    1, 512),  # 1×1 1 0 256/512
    ("maxpool3",  "maxpool", 3, 512),  # 3×3 2 1 512/512
    ("PreAct4_a", "preact",  3, 512),  # 3×3 1 1 512/512
    ("PreAct4_b", "preact",  3, 512),  # 3×3 1 1 512/512
    ("maxpool4",  "maxpool", 3, 512),  # 3×3 2 1 512/512
    ("PreAct5_a", "preact",  3, 512),  # 3×3 1 1 512/512
    ("PreAct5_b", "preact",  3, 512),  # 3×3 1 1 512/512
    ("maxpool5",  "maxpool", 3, 512),  # 3×3 2 1 512/512
)  # then: BatchNorm2d(512) → ReLU → linear 512/10
# fmt: on


class ConvBNReLU(nn.Sequential):
    """VGG conv block of Table 1: ``ReLU(BN(Conv_k×k(x)))``, stride 1, 'same' padding."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=kernel_size // 2),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class PreActBlock(nn.Module):
    """Simplified pre-activation ResNet block of Figure 5 (right).

    ``y = x + Conv_k×k(ReLU(BN(x)))`` with stride 1 and 'same' padding, so the channel count
    and spatial size are unchanged and the identity shortcut needs no projection.
    """

    def __init__(self, channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(channels, channels, kernel_size, stride=1, padding=kernel_size // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(self.relu(self.bn(x)))


def _maxpool(kernel_size: int) -> nn.MaxPool2d:
    return nn.MaxPool2d(kernel_size, stride=2, padding=1)


def build_features(
    cfg: tuple[LayerSpec, ...], in_channels: int, conv_block: str
) -> tuple[nn.Sequential, int]:
    """Turn a config table into an ``nn.Sequential`` whose children carry the row names.

    Args:
        cfg: rows ``(name, kind, kernel, out_channels)``.
        in_channels: channels of the network input.
        conv_block: what a ``"conv"`` row becomes: ``"conv_bn_relu"`` (:class:`ConvBNReLU`)
            or ``"conv"`` (a bare ``nn.Conv2d``).

    Returns:
        The feature extractor and its number of output channels.
    """
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    channels = in_channels
    for name, kind, k, out in cfg:
        if kind in ("maxpool", "avgpool", "preact") and out != channels:
            raise ValueError(f"{name}: {kind} cannot change channels ({channels} → {out})")
        if kind == "conv" and conv_block == "conv_bn_relu":
            layers[name] = ConvBNReLU(channels, out, k)
        elif kind == "conv" and conv_block == "conv":
            layers[name] = nn.Conv2d(channels, out, k, stride=1, padding=k // 2)
        elif kind == "preact":
            layers[name] = PreActBlock(channels, k)
        elif kind == "maxpool":
            layers[name] = _maxpool(k)
        elif kind == "avgpool":
            layers[name] = nn.AvgPool2d(k, stride=1, padding=0)
        else:
            raise ValueError(f"{name}: unknown layer kind {kind!r} (conv_block={conv_block!r})")
        channels = out
    return nn.Sequential(layers), channels


def _flatten_1x1(x: torch.Tensor, model_name: str) -> torch.Tensor:
    if x.shape[-2:] != (1, 1):
        raise ValueError(
            f"{model_name} expects inputs that its five stride-2 pools reduce to 1×1 "
            f"(e.g. 32×32 CIFAR-10 images); the final feature map is {tuple(x.shape[-2:])}"
        )
    return torch.flatten(x, 1)


class VGGConvNet(nn.Module):
    """Small VGG of CVbL 2019 Table 1 (:data:`VGG_CONVNET_CFG`), then ``linear 512 → C``.

    Conv blocks are ``Conv2d 3×3 s1 p1 → BatchNorm2d → ReLU``; pools are ``MaxPool 3×3 s2 p1``;
    the table's ``avgpool`` is 1×1 s1 p0 (an identity on the 1×1 map left after five pools
    of a 32×32 image). Input ``(N, in_channels, 32, 32)``, output ``(N, num_classes)`` logits.
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10) -> None:
        super().__init__()
        self.features, channels = build_features(VGG_CONVNET_CFG, in_channels, "conv_bn_relu")
        self.linear = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(_flatten_1x1(self.features(x), type(self).__name__))


class PreActConvNet(nn.Module):
    """Pre-activation ConvNet of UvA DL practical 1 Figure 5 (:data:`PREACT_CONVNET_CFG`).

    ``conv0`` is a bare 3×3 conv; each ``PreAct`` row is ``x + Conv3×3(ReLU(BN(x)))``;
    the 1×1 convs widen the channels before max-pools 1-3; pools are ``MaxPool 3×3 s2 p1``.
    A final ``BatchNorm2d(512) → ReLU`` precedes ``linear 512 → C``.
    Input ``(N, in_channels, 32, 32)``, output ``(N, num_classes)`` logits.
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10) -> None:
        super().__init__()
        self.features, channels = build_features(PREACT_CONVNET_CFG, in_channels, "conv")
        self.bn = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU()
        self.linear = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn(self.features(x)))
        return self.linear(_flatten_1x1(x, type(self).__name__))
