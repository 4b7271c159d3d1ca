"""Encoder-decoder CNNs for colourisation and super-resolution (IIT-H CS6360 A2 §1).

All models share one layout of six blocks on 32×32 inputs (NF filters, kernel k,
every convolution padded by ``k // 2`` so it keeps the spatial size)::

    downconv1  Conv(in → NF)      MaxPool2  BN  ReLU     32 → 16
    downconv2  Conv(NF → 2NF)     MaxPool2  BN  ReLU     16 → 8
    rfconv     Conv(2NF → 2NF)              BN  ReLU      8
    upconv1    Conv(2NF → NF)     Upsample2 BN  ReLU      8 → 16
    upconv2    Conv(NF → C)       Upsample2 BN  ReLU     16 → 32
    finalconv  Conv(C → C)                                32

``C`` is 3 for RGB regression and the number of palette colours for classification.
:class:`ColourUNet` concatenates skip connections along channels: upconv1 sees
``[rfconv, downconv2]`` (4NF channels), upconv2 ``[upconv1, downconv1]`` (2NF) and
finalconv ``[upconv2, input]`` (C + in). Upsampling is nearest-neighbour, as in the
assignment. Every model is fully convolutional, so it accepts any H, W divisible by 4.

:class:`MyConv2d` is the project's own convolution (im2col + matrix product), used by the
classification models in place of ``nn.Conv2d`` as the handout asks.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

BLOCKS = ("downconv1", "downconv2", "rfconv", "upconv1", "upconv2", "finalconv")


class MyConv2d(nn.Module):
    """2-D convolution (cross-correlation), stride 1, zero padding; own parameters.

    ``y[n, o, i, j] = b[o] + Σ_{c, u, v} W[o, c, u, v] · x_pad[n, c, i + u, j + v]``.
    Weights and bias start uniform in ±1/√(C·k²), as in the assignment's layer.

    ``impl="im2col"`` computes the sum itself: ``F.unfold`` gathers each k×k patch into
    a column, so the convolution is one matrix product ``W.view(O, C·k²) @ cols``.
    ``impl="functional"`` hands the same parameters to ``F.conv2d``, which is what the
    assignment's MyConv2d does; it is 3-4× faster on CPU (the experiments' default).
    Both agree with ``nn.Conv2d`` in value and gradient (tests/colourisation).
    """

    IMPLS = ("functional", "im2col")

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 padding: int = 0, impl: str = "functional") -> None:
        super().__init__()
        if impl not in self.IMPLS:
            raise ValueError(f"impl must be one of {', '.join(self.IMPLS)}, got {impl!r}")
        self.impl = impl
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.padding = kernel_size, padding
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size,
                                               kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.in_channels * self.kernel_size ** 2)
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.impl == "functional":
            return F.conv2d(x, self.weight, self.bias, padding=self.padding)
        n, _, h, w = x.shape
        k, p = self.kernel_size, self.padding
        cols = F.unfold(x, k, padding=p)  # N × (C·k²) × L
        out = self.weight.view(self.out_channels, -1) @ cols + self.bias.view(1, -1, 1)
        return out.view(n, self.out_channels, h + 2 * p - k + 1, w + 2 * p - k + 1)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"padding={self.padding}, impl={self.impl}")


def _conv(conv: type, c_in: int, c_out: int, kernel: int) -> nn.Module:
    return conv(c_in, c_out, kernel_size=kernel, padding=kernel // 2)


class ColourCNN(nn.Module):
    """The six-block encoder-decoder; ``forward`` gives per-pixel outputs (N×C×H×W).

    ``out_channels`` is the number of palette colours (logits for cross-entropy) or 3 for
    RGB regression; ``conv`` is the convolution class (MyConv2d here, nn.Conv2d for the
    regression model); ``in_channels`` is 1 (greyscale) or 3 (super-resolution).
    """

    skips = False

    def __init__(self, in_channels: int = 1, out_channels: int = 24, num_filters: int = 32,
                 kernel: int = 3, conv: type = MyConv2d) -> None:
        super().__init__()
        if kernel % 2 != 1:
            raise ValueError(f"kernel must be odd to keep the image size, got {kernel}")
        nf, c = num_filters, out_channels
        s = 2 if self.skips else 1
        self.in_channels, self.out_channels = in_channels, out_channels
        self.downconv1 = nn.Sequential(_conv(conv, in_channels, nf, kernel), nn.MaxPool2d(2),
                                       nn.BatchNorm2d(nf), nn.ReLU())
        self.downconv2 = nn.Sequential(_conv(conv, nf, 2 * nf, kernel), nn.MaxPool2d(2),
                                       nn.BatchNorm2d(2 * nf), nn.ReLU())
        self.rfconv = nn.Sequential(_conv(conv, 2 * nf, 2 * nf, kernel),
                                    nn.BatchNorm2d(2 * nf), nn.ReLU())
        self.upconv1 = nn.Sequential(_conv(conv, 2 * nf * s, nf, kernel),
                                     nn.Upsample(scale_factor=2), nn.BatchNorm2d(nf),
                                     nn.ReLU())
        self.upconv2 = nn.Sequential(_conv(conv, nf * s, c, kernel),
                                     nn.Upsample(scale_factor=2), nn.BatchNorm2d(c), nn.ReLU())
        self.finalconv = _conv(conv, c + (in_channels if self.skips else 0), c, kernel)

    def activations(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        """Every block's output, in order (the last one is the model's output)."""
        if x.dim() != 4 or x.shape[1] != self.in_channels or x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(f"{type(self).__name__} expects N×{self.in_channels}×H×W input "
                             f"with H and W divisible by 4, got {tuple(x.shape)}")
        acts: OrderedDict[str, torch.Tensor] = OrderedDict()
        acts["downconv1"] = d1 = self.downconv1(x)
        acts["downconv2"] = d2 = self.downconv2(d1)
        acts["rfconv"] = rf = self.rfconv(d2)
        if self.skips:
            acts["upconv1"] = u1 = self.upconv1(torch.cat([rf, d2], 1))
            acts["upconv2"] = u2 = self.upconv2(torch.cat([u1, d1], 1))
            acts["finalconv"] = self.finalconv(torch.cat([u2, x], 1))
        else:
            acts["upconv1"] = u1 = self.upconv1(rf)
            acts["upconv2"] = u2 = self.upconv2(u1)
            acts["finalconv"] = self.finalconv(u2)
        return acts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activations(x)["finalconv"]


class ColourUNet(ColourCNN):
    """ColourCNN with UNet skip connections (concatenation, Ronneberger et al. 2015)."""

    skips = True


class RegressionCNN(ColourCNN):
    """The assignment's RegressionCNN: nn.Conv2d layers, 3 RGB outputs, trained with MSE."""

    def __init__(self, in_channels: int = 1, num_filters: int = 32, kernel: int = 3) -> None:
        super().__init__(in_channels, 3, num_filters, kernel, conv=nn.Conv2d)


class SuperResCNN(ColourCNN):
    """ColourCNN for super-resolution: RGB input (the 4× downsampled image, upsampled)."""

    def __init__(self, out_channels: int = 24, num_filters: int = 32, kernel: int = 3,
                 conv: type = MyConv2d) -> None:
        super().__init__(3, out_channels, num_filters, kernel, conv)


class SuperResUNet(ColourUNet):
    """ColourUNet for super-resolution: RGB input (the 4× downsampled image, upsampled)."""

    def __init__(self, out_channels: int = 24, num_filters: int = 32, kernel: int = 3,
                 conv: type = MyConv2d) -> None:
        super().__init__(3, out_channels, num_filters, kernel, conv)
