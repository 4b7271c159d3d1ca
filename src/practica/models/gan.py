r"""The fully connected GAN of CVbL 2019 §4: generator, discriminator and their losses.

The game (Goodfellow et al. 2014, handout eq. 14)::

    min_G max_D  V(D, G) = E_x[log D(x)] + E_z[log(1 − D(G(z)))],   z ~ N(0, I)

The discriminator returns a logit ``a`` with ``D = σ(a)``, so every log term is a softplus,
computed stably: ``−log σ(a) = softplus(−a)`` and ``−log(1 − σ(a)) = softplus(a)``.

Generator loss. Minimising ``log(1 − D(G(z)))`` (the "minimax" loss) saturates: early in
training D rejects the samples with confidence, ``D(G(z)) ≈ 0``, and the gradient
``∂/∂a log(1 − σ(a)) = −σ(a)`` vanishes. The "non-saturating" loss ``−log D(G(z))`` has the
same fixed point but gradient ``−(1 − σ(a)) ≈ −1`` there; it is the default.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

GENERATOR_LOSSES = ("non-saturating", "minimax")
ARCHITECTURES = ("mlp", "dcgan")


class Generator(nn.Module):
    """``z (N, latent) → image (N, 1, H, W)`` in [−1, 1].

    latent → 128 (LeakyReLU 0.2) → 256 → 512 → 1024 (each Linear, BatchNorm, LeakyReLU 0.2)
    → H·W with tanh, as the handout's template.
    """

    def __init__(self, latent: int = 100, image_shape: tuple[int, int, int] = (1, 28, 28),
                 hidden: tuple[int, ...] = (128, 256, 512, 1024)) -> None:
        super().__init__()
        self.latent, self.image_shape = latent, tuple(image_shape)
        layers: list[nn.Module] = [nn.Linear(latent, hidden[0]), nn.LeakyReLU(0.2)]
        for n_in, n_out in zip(hidden[:-1], hidden[1:], strict=True):
            layers += [nn.Linear(n_in, n_out), nn.BatchNorm1d(n_out), nn.LeakyReLU(0.2)]
        layers += [nn.Linear(hidden[-1], int(torch.tensor(image_shape).prod())), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(len(z), *self.image_shape)


class Discriminator(nn.Module):
    """``image → logit`` of being real: H·W → 512 → 256 → 1, LeakyReLU 0.2, optional dropout."""

    def __init__(self, image_shape: tuple[int, int, int] = (1, 28, 28),
                 hidden: tuple[int, ...] = (512, 256), dropout: float = 0.0) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        n_in = int(torch.tensor(image_shape).prod())
        for n_out in hidden:
            layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(0.2)]
            if dropout:
                layers.append(nn.Dropout(dropout))
            n_in = n_out
        layers.append(nn.Linear(n_in, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1)).squeeze(1)


class ConvGenerator(nn.Module):
    """DCGAN's generator (Radford et al. 2016) for 28×28 images: ``z (N, latent) →
    (N, C, 28, 28)`` in [−1, 1].

    latent → 128×7×7 (Linear, BatchNorm, ReLU) → 64×14×14 (4×4 stride-2 transposed
    convolution, BatchNorm, ReLU) → C×28×28 (4×4 stride-2 transposed convolution, tanh).
    """

    def __init__(self, latent: int = 100, image_shape: tuple[int, int, int] = (1, 28, 28),
                 width: int = 64) -> None:
        super().__init__()
        c, h, w = image_shape
        if (h, w) != (28, 28):
            raise ValueError(f"the DCGAN generator makes 28×28 images, not {h}×{w}")
        self.latent, self.image_shape = latent, tuple(image_shape)
        self.project = nn.Sequential(nn.Linear(latent, 2 * width * 7 * 7, bias=False),
                                     nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, c, 4, stride=2, padding=1), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.project(z).view(len(z), -1, 7, 7))


class ConvDiscriminator(nn.Module):
    """DCGAN's discriminator for 28×28 images: ``image → logit``.

    C×28×28 → 64×14×14 (4×4 stride-2 convolution, LeakyReLU 0.2) → 128×7×7 (4×4
    stride-2 convolution, BatchNorm, LeakyReLU 0.2) → Linear → 1, optional dropout after
    each LeakyReLU. ``norm="none"`` drops the BatchNorm (the real and the generated half of
    a step are then judged image by image, not against their own batch's statistics).
    """

    def __init__(self, image_shape: tuple[int, int, int] = (1, 28, 28), width: int = 64,
                 dropout: float = 0.0, norm: str = "batch") -> None:
        super().__init__()
        if norm not in ("batch", "none"):
            raise ValueError(f"norm must be 'batch' or 'none', got {norm!r}")
        c = image_shape[0]
        drop = nn.Dropout(dropout) if dropout else nn.Identity()
        self.net = nn.Sequential(
            nn.Conv2d(c, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2), drop,
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=norm == "none"),
            nn.BatchNorm2d(2 * width) if norm == "batch" else nn.Identity(),
            nn.LeakyReLU(0.2), nn.Flatten(), drop,
            nn.Linear(2 * width * 7 * 7, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


class GAN(nn.Module):
    """Generator and discriminator held together (one state dict, one ``.to()``):
    ``arch="mlp"`` the handout's fully connected pair, ``"dcgan"`` the convolutional one."""

    def __init__(self, latent: int = 100, image_shape: tuple[int, int, int] = (1, 28, 28),
                 dropout: float = 0.0, arch: str = "mlp", discriminator_norm: str = "batch"
                 ) -> None:
        super().__init__()
        if arch == "mlp":
            self.generator: nn.Module = Generator(latent, image_shape)
            self.discriminator: nn.Module = Discriminator(image_shape, dropout=dropout)
        elif arch == "dcgan":
            self.generator = ConvGenerator(latent, image_shape)
            self.discriminator = ConvDiscriminator(image_shape, dropout=dropout,
                                                   norm=discriminator_norm)
        else:
            raise ValueError(f"arch must be one of {', '.join(ARCHITECTURES)}, got {arch!r}")

    @property
    def latent(self) -> int:
        return self.generator.latent

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` images from fresh noise ``z ~ N(0, I)``."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent, generator=generator).to(device)
        return self.generator(z)


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """``−E[log D(x)] − E[log(1 − D(G(z)))]``: the negated value D maximises."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor, kind: str = "non-saturating") -> torch.Tensor:
    """``−E[log D(G(z))]`` (non-saturating) or ``E[log(1 − D(G(z)))]`` (minimax)."""
    if kind == "non-saturating":
        return F.softplus(-fake_logits).mean()
    if kind == "minimax":
        return -F.softplus(fake_logits).mean()
    raise ValueError(f"generator loss must be one of {', '.join(GENERATOR_LOSSES)}, got {kind!r}")
