r"""Variational auto-encoders (Waterloo A5 §4–5): three encoder/decoder pairs, the ELBO and
an importance-sampled log-likelihood.

The encoder gives the mean ``μ`` and log-variance ``log σ²`` of ``q(z|x) = N(μ, diag σ²)``;
the decoder gives the logits of ``p(x|z)``. The evidence lower bound is::

    log p(x) ≥ ELBO(x) = E_q[log p(x|z)] − KL(q(z|x) || p(z)),   p(z) = N(0, I)

With ``z ∈ R^d`` and ``q = N(μ, σ²)`` the KL divergence has a closed form::

    KL = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²)

Reparameterisation: ``z = μ + σ ⊙ ε``, ``ε ~ N(0, I)``, so z is a deterministic,
differentiable function of (μ, σ) and the noise; the expectation over q can be estimated by
sampling and still back-propagated into the encoder. The encoder outputs ``log σ²``
rather than σ² so that any real number is a valid output (σ² = exp(·) > 0) and small
variances are reached without the network having to produce tiny positive numbers.

Architectures (all for N×C×H×W inputs):

* ``mlp`` — one hidden layer of 512 ReLU units in the encoder and in the decoder;
* ``conv`` — five 4×4 stride-2 convolutions with 32, 64, 128, 256, 512 filters (BatchNorm,
  LeakyReLU 0.2, as the handout's starter code), mirrored by five transposed convolutions;
* ``resnet`` — a strided stem, five residual blocks (written here, not torchvision's), and
  the mirror image in the decoder.

Conv and ResNet pad the image to the next multiple of 32 (28 → 32) and crop the output back.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

ARCHITECTURES = ("mlp", "conv", "resnet")
LIKELIHOODS = ("bernoulli", "gaussian")
LOG_2PI = math.log(2 * math.pi)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(μ, σ²) || N(0, I)) = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²)`` per example (N,)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """``z = μ + exp(½ log σ²) ⊙ ε`` with ``ε ~ N(0, I)``."""
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
    return mu + (0.5 * logvar).exp() * eps


def gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor
                         ) -> torch.Tensor:
    """``log N(z; μ, diag σ²)`` summed over the last dimension."""
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) / logvar.exp()).sum(dim=-1)


def reconstruction_nll(logits: torch.Tensor, x: torch.Tensor, likelihood: str = "bernoulli",
                       sigma: float = 0.1) -> torch.Tensor:
    """``−log p(x|z)`` per example, summed over pixels (nats).

    Bernoulli: ``−Σ x log p + (1 − x) log(1 − p)`` with ``p = σ(logits)`` (binary cross-
    entropy; for grey values in [0, 1] it is the usual BCE reconstruction loss). Gaussian:
    ``Σ ½((x − μ)²/s² + log 2π s²)`` with mean ``μ = σ(logits)`` and a fixed std ``s``.
    """
    if likelihood == "bernoulli":
        nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    elif likelihood == "gaussian":
        mean = torch.sigmoid(logits)
        nll = 0.5 * ((x - mean).pow(2) / sigma**2 + LOG_2PI + 2 * math.log(sigma))
    else:
        raise ValueError(f"likelihood must be one of {', '.join(LIKELIHOODS)}, got "
                         f"{likelihood!r}")
    return nll.flatten(1).sum(dim=1)


def _padded(size: int) -> int:
    return 32 * math.ceil(size / 32)


# --- MLP ---------------------------------------------------------------------------------

class MLPEncoder(nn.Module):
    """x → ReLU(512) [→ ReLU(512) × (depth − 1)] → (μ, log σ²)."""

    def __init__(self, image_shape: tuple[int, int, int], latent: int, hidden: int = 512,
                 depth: int = 1):
        super().__init__()
        n = math.prod(image_shape)
        self.fc1 = nn.Linear(n, hidden)
        self.deeper = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth - 1))
        self.head = nn.Linear(hidden, 2 * latent)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = F.relu(self.fc1(x.flatten(1)))
        for layer in self.deeper:
            h = F.relu(layer(h))
        return self.head(h).chunk(2, dim=1)


class MLPDecoder(nn.Module):
    """z → ReLU(512) [→ ReLU(512) × (depth − 1)] → logits of p(x|z)."""

    def __init__(self, image_shape: tuple[int, int, int], latent: int, hidden: int = 512,
                 depth: int = 1):
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.fc1 = nn.Linear(latent, hidden)
        self.deeper = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth - 1))
        self.out = nn.Linear(hidden, math.prod(image_shape))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.fc1(z))
        for layer in self.deeper:
            h = F.relu(layer(h))
        return self.out(h).view(len(z), *self.image_shape)


# --- five convolutions ------------------------------------------------------------------

def _conv_block(n_in: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(n_in, n_out, 4, stride=2, padding=1),
                         nn.BatchNorm2d(n_out), nn.LeakyReLU(0.2))


def _deconv_block(n_in: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(n_in, n_out, 4, stride=2, padding=1),
                         nn.BatchNorm2d(n_out), nn.LeakyReLU(0.2))


class ConvEncoder(nn.Module):
    """Five 4×4/2 convolutions, 32 → 512 filters: 32×32 → 1×1 (64×64 → 2×2)."""

    def __init__(self, image_shape: tuple[int, int, int], latent: int,
                 widths: tuple[int, ...] = (32, 64, 128, 256, 512)) -> None:
        super().__init__()
        channels, height, width = image_shape
        self.size = _padded(max(height, width))
        n_in, blocks = channels, []
        for w in widths:
            blocks.append(_conv_block(n_in, w))
            n_in = w
        self.convs = nn.Sequential(*blocks)
        side = self.size // 2 ** len(widths)
        self.head = nn.Linear(widths[-1] * side * side, 2 * latent)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head(self.convs(pad_to(x, self.size)).flatten(1)).chunk(2, dim=1)


class ConvDecoder(nn.Module):
    """Linear to 512×s×s, then five 4×4/2 transposed convolutions 512 → 256 → … → C."""

    def __init__(self, image_shape: tuple[int, int, int], latent: int,
                 widths: tuple[int, ...] = (512, 256, 128, 64, 32)) -> None:
        super().__init__()
        self.image_shape = tuple(image_shape)
        channels, height, width = image_shape
        self.side = _padded(max(height, width)) // 2 ** len(widths)
        self.fc = nn.Linear(latent, widths[0] * self.side * self.side)
        blocks = [_deconv_block(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)]
        blocks.append(nn.ConvTranspose2d(widths[-1], channels, 4, stride=2, padding=1))
        self.deconvs = nn.Sequential(*blocks)
        self.widths = widths

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.fc(z), 0.2).view(len(z), self.widths[0], self.side, self.side)
        return crop_to(self.deconvs(h), self.image_shape[1:])


# --- five residual blocks ---------------------------------------------------------------

class ResidualBlock(nn.Module):
    """``y = ReLU(BN(conv(ReLU(BN(conv(x))))) + shortcut(x))`` (He et al. 2016).

    ``resample``: ``"down"`` halves the size (first conv has stride 2), ``"up"`` doubles it
    (nearest-neighbour upsampling first); the shortcut is a 1×1 convolution whenever the
    shape changes, the identity otherwise.
    """

    def __init__(self, n_in: int, n_out: int, resample: str | None = None) -> None:
        super().__init__()
        if resample not in (None, "down", "up"):
            raise ValueError(f"resample must be None, 'down' or 'up', got {resample!r}")
        self.resample = resample
        stride = 2 if resample == "down" else 1
        self.conv1 = nn.Conv2d(n_in, n_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(n_out)
        self.conv2 = nn.Conv2d(n_out, n_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(n_out)
        self.shortcut: nn.Module = nn.Identity()
        if resample is not None or n_in != n_out:
            self.shortcut = nn.Sequential(nn.Conv2d(n_in, n_out, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.resample == "up":
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        return F.relu(h + self.shortcut(x))


class ResNetEncoder(nn.Module):
    """4×4/2 stem to 32 channels (32×32 → 16×16), then five residual blocks: one at 16×16,
    four halving the size (16 → 1; 64×64 inputs end at 2×2)."""

    def __init__(self, image_shape: tuple[int, int, int], latent: int,
                 widths: tuple[int, ...] = (32, 64, 128, 256, 256)) -> None:
        super().__init__()
        channels, height, width = image_shape
        self.size = _padded(max(height, width))
        self.stem = nn.Sequential(nn.Conv2d(channels, 32, 4, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(32), nn.ReLU())
        n_in, blocks = 32, []
        for i, w in enumerate(widths):
            blocks.append(ResidualBlock(n_in, w, None if i == 0 else "down"))
            n_in = w
        self.blocks = nn.Sequential(*blocks)
        side = self.size // 2 ** len(widths)
        self.head = nn.Linear(widths[-1] * side * side, 2 * latent)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.blocks(self.stem(pad_to(x, self.size)))
        return self.head(h.flatten(1)).chunk(2, dim=1)


class ResNetDecoder(nn.Module):
    """Linear to 256×s×s, five residual blocks (four doubling the size, the last one not),
    then a 4×4/2 transposed convolution to C channels — the encoder mirrored."""

    def __init__(self, image_shape: tuple[int, int, int], latent: int,
                 widths: tuple[int, ...] = (256, 128, 64, 32, 32)) -> None:
        super().__init__()
        self.image_shape = tuple(image_shape)
        channels, height, width = image_shape
        self.side = _padded(max(height, width)) // 2 ** len(widths)
        self.first = widths[0]
        self.fc = nn.Linear(latent, widths[0] * self.side * self.side)
        n_in, blocks = widths[0], []
        for i, w in enumerate(widths):
            blocks.append(ResidualBlock(n_in, w, "up" if i < len(widths) - 1 else None))
            n_in = w
        self.blocks = nn.Sequential(*blocks)
        self.out = nn.ConvTranspose2d(widths[-1], channels, 4, stride=2, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.fc(z)).view(len(z), self.first, self.side, self.side)
        return crop_to(self.out(self.blocks(h)), self.image_shape[1:])


def pad_to(x: torch.Tensor, size: int) -> torch.Tensor:
    """Zero-pad the last two dimensions symmetrically to ``size × size``."""
    dh, dw = size - x.shape[-2], size - x.shape[-1]
    if dh == 0 and dw == 0:
        return x
    return F.pad(x, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2))


def crop_to(x: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """The centre ``H × W`` of the last two dimensions (undoes :func:`pad_to`)."""
    h, w = hw
    top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
    return x[..., top:top + h, left:left + w]


ENCODERS = {"mlp": MLPEncoder, "conv": ConvEncoder, "resnet": ResNetEncoder}
DECODERS = {"mlp": MLPDecoder, "conv": ConvDecoder, "resnet": ResNetDecoder}


class VAE(nn.Module):
    """Encoder ``x → (μ, log σ²)``, reparameterised sample, decoder ``z → logits of p(x|z)``."""

    def __init__(self, arch: str = "mlp", image_shape: tuple[int, int, int] = (1, 28, 28),
                 latent: int = 20, likelihood: str = "bernoulli", sigma: float = 0.1,
                 depth: int = 1) -> None:
        super().__init__()
        if arch not in ARCHITECTURES:
            raise ValueError(f"arch must be one of {', '.join(ARCHITECTURES)}, got {arch!r}")
        if depth != 1 and arch != "mlp":
            raise ValueError(f"depth applies to the MLP VAE only (arch={arch!r})")
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {', '.join(LIKELIHOODS)}")
        self.arch, self.latent, self.image_shape = arch, latent, tuple(image_shape)
        self.likelihood, self.sigma = likelihood, sigma
        extra = {"depth": depth} if arch == "mlp" else {}
        self.encoder = ENCODERS[arch](self.image_shape, latent, **extra)
        self.decoder = DECODERS[arch](self.image_shape, latent, **extra)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Logits of ``p(x|z)``, shaped like the images."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar)), mu, logvar

    def mean_image(self, logits: torch.Tensor) -> torch.Tensor:
        """``E[x|z]`` in [0, 1] (the Bernoulli probabilities or the Gaussian mean)."""
        return torch.sigmoid(logits)

    def loss_terms(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-example ``(−log p(x|z), KL)`` with one reparameterised sample; −ELBO = sum."""
        logits, mu, logvar = self(x)
        recon = reconstruction_nll(logits.float(), x, self.likelihood, self.sigma)
        return recon, gaussian_kl(mu.float(), logvar.float())

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Mean images ``E[x|z]`` for ``z ~ N(0, I)``."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent, generator=generator).to(device)
        return self.mean_image(self.decode(z))


def log_importance_weights(model: VAE, x: torch.Tensor, k: int, chunk: int | None = None
                           ) -> torch.Tensor:
    """``log w_i = log p(x|z_i) + log p(z_i) − log q(z_i|x)``, ``z_i ~ q(z|x)``: (k, N).

    The ``z_i`` are reparameterised, so the weights can be back-propagated (the IWAE
    objective); ``chunk`` samples are decoded at a time per image batch.
    """
    mu, logvar = model.encode(x)
    n, d = mu.shape
    pieces = []
    for start in range(0, k, chunk or k):
        m = min(chunk or k, k - start)
        eps = torch.randn(m, n, d, device=mu.device)
        z = mu + (0.5 * logvar).exp() * eps  # (m, n, d)
        logits = model.decode(z.reshape(m * n, d)).float()
        xs = x.unsqueeze(0).expand(m, *x.shape).reshape(m * n, *x.shape[1:])
        log_px_z = -reconstruction_nll(logits, xs, model.likelihood, model.sigma).view(m, n)
        log_pz = -0.5 * (LOG_2PI + z.pow(2)).sum(-1)
        log_qz = gaussian_log_density(z, mu, logvar)
        pieces.append(log_px_z + log_pz - log_qz)
    return torch.cat(pieces, dim=0)


def iwae_bound(log_w: torch.Tensor) -> torch.Tensor:
    """``L_k = log (1/k) Σ_i w_i`` per example, from the (k, N) log-weights.

    The importance-weighted bound of Burda et al. (2016): ``ELBO = L_1 ≤ L_k ≤ L_{k+1} ≤
    log p(x)`` in expectation, and ``L_k → log p(x)`` as k grows. Trained on (the IWAE), it
    lets q be broader than the ELBO allows; evaluated with large k, it estimates log p(x).
    """
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])


@torch.no_grad()
def importance_log_likelihood(model: VAE, x: torch.Tensor, k: int = 500,
                              chunk: int = 100) -> torch.Tensor:
    """``log p(x) ≈ log (1/k) Σ_i p(x|z_i) p(z_i) / q(z_i|x)``, ``z_i ~ q(z|x)`` (N,).

    :func:`iwae_bound` with many samples, drawn and decoded ``chunk`` at a time per image
    batch and combined with a log-sum-exp.
    """
    return iwae_bound(log_importance_weights(model, x, k, chunk))
