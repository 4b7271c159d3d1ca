"""VGG11 (configuration "A" of Simonyan & Zisserman 2015, Table 1) for 32×32 images.

The configuration is a list like torchvision's: a number is a 3×3 convolution (stride 1,
padding 1) with that many filters, followed here by BatchNorm and ReLU; ``"M"`` is a 2×2
max-pool with stride 2::

    A = 64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M      (8 conv + 3 FC = 11)

Adapted to MNIST (Waterloo A5 §2.1): one input channel, and 32×32 inputs (28×28 images
resized) so the five 2×2 pools halve 32 → 16 → 8 → 4 → 2 → 1 exactly, leaving a 512×1×1
feature map. The paper's 7×7 adaptive pool and 25088-input first FC layer are therefore
replaced by a flatten of 512 features ("change at least one other layer"): the classifier is
512 → 4096 → 4096 → classes with ReLU and dropout 0.5, or a smaller ``head`` width.
"""

from __future__ import annotations

import torch
from torch import nn

#: VGG configuration A (VGG11): numbers are conv output channels, "M" a 2×2 max-pool.
VGG11_CFG: tuple[int | str, ...] = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M",
                                    512, 512, "M")


def make_features(cfg: tuple[int | str, ...], in_channels: int = 1,
                  batch_norm: bool = True) -> nn.Sequential:
    """The convolutional part: Conv3×3(pad 1) [→ BN] → ReLU per number, MaxPool2×2 per "M"."""
    layers: list[nn.Module] = []
    channels = in_channels
    for item in cfg:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        if not isinstance(item, int) or item <= 0:
            raise ValueError(f"VGG config items are positive ints or 'M', got {item!r}")
        layers.append(nn.Conv2d(channels, item, kernel_size=3, padding=1, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm2d(item))
        layers.append(nn.ReLU(inplace=True))
        channels = item
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG features, flattened, then an FC head ``features → head → head → classes``.

    ``image_size`` must be divisible by 2**(number of pools); the head's input is
    ``channels × (image_size / 2**pools)²`` (512 for VGG11 at 32×32).
    """

    def __init__(self, cfg: tuple[int | str, ...] = VGG11_CFG, *, in_channels: int = 1,
                 num_classes: int = 10, image_size: int = 32, head: int = 4096,
                 dropout: float = 0.5, batch_norm: bool = True) -> None:
        super().__init__()
        pools = sum(1 for c in cfg if c == "M")
        if image_size % (2 ** pools):
            raise ValueError(f"image_size {image_size} is not divisible by 2**{pools}; VGG's "
                             f"{pools} max-pools need it (use 32 for VGG11)")
        channels = [c for c in cfg if c != "M"][-1]
        side = image_size // 2 ** pools
        self.features = make_features(cfg, in_channels, batch_norm)
        self.classifier = nn.Sequential(
            nn.Linear(channels * side * side, head), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(head, head), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(head, num_classes),
        )
        for m in self.modules():  # torchvision's VGG initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


def vgg11(in_channels: int = 1, num_classes: int = 10, *, image_size: int = 32,
          head: int = 4096, dropout: float = 0.5) -> VGG:
    """VGG11 with BatchNorm for ``image_size``² inputs (MNIST: 1 channel, 32×32)."""
    return VGG(VGG11_CFG, in_channels=in_channels, num_classes=num_classes,
               image_size=image_size, head=head, dropout=dropout)
