"""Waterloo A5 §4–5's starter-code interface (the VAE snippet of §5.1), backed by
:mod:`practica.models.vae`.

The handout fixes only a snippet: ``VAE(input_chanel=3, zdim=512, image_size=424)`` with
``encode``, ``decode``, ``reparameterize(self, z_means, z_log_var)`` and a ``forward`` that
returns ``x_recon, mu, logvar``, and a training loop whose lines the student completes::

    x_reconst, mu, log_var = model(x)
    reconst_loss = ...   # reconstruction loss between x_reconst and x
    kl_div = ...         # the KL divergence
    loss = reconst_loss + kl_div

So a learner's ``vae.py`` holds those lines as functions of the same names:
``reparameterize(z_means, z_log_var)`` (a function, or the ``VAE`` method),
``reconst_loss(x_reconst, x)`` and ``kl_div(mu, log_var)``, each returning the scalar the
loop adds up, and the ``VAE`` class. ``x_reconst`` holds the Bernoulli decoder's
probabilities (the decoder ends in a sigmoid), so that the cross-entropy compares it with
``x`` directly, as §4 asks. Both losses sum over pixels and latent dimensions; over the
batch they may sum or average, but the same way for both.

The ``VAE`` here is practica's five-convolution VAE (``zdim // 16`` = 32 filters first, as
the starter's ``encoder_conv1``), with ``zdim`` latent dimensions. Its default image size
is 64, the size practica's Galaxy Zoo runs use: at the starter's 424 the linear head alone
would hold about 10⁸ parameters.

Provenance: the snippet was compared with the handout's text and with a public
convolutional VAE whose names it shares (a CelebA VAE whose ``VAE(input_chanel=3, z_dim=512,
img_size=64)`` has the same ``encoder_conv1`` … ``decoder_conv1`` layers,
``reparameterize(self, z_means, z_log_var)`` and ``forward`` returning ``x_reconst,
z_means, z_log_var``). That source ends its decoder in ``tanh`` on inputs normalised to
[−1, 1] and uses a summed squared error; the handout asks for binary cross-entropy, so
the check asks for probabilities (a sigmoid at the end). The snippet's ``self.z_dim =
z_dim`` names a variable the constructor does not have (its argument is ``zdim``): a
learner fixes that line.
"""

from __future__ import annotations

import torch
from torch import nn

from ..models import vae


def reparameterize(z_means: torch.Tensor, z_log_var: torch.Tensor) -> torch.Tensor:
    """``z = μ + exp(½ log σ²) ⊙ ε``, ``ε ~ N(0, I)``: ∂z/∂μ = 1, ∂z/∂log σ² = ½ (z − μ)."""
    return vae.reparameterize(z_means, z_log_var)


def reconst_loss(x_reconst: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``−Σ [x log x̂ + (1 − x) log(1 − x̂)]`` over pixels and batch (x̂ = ``x_reconst``)."""
    logits = torch.log(x_reconst) - torch.log1p(-x_reconst)
    return vae.reconstruction_nll(logits, x).sum()


def kl_div(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """``KL(N(μ, σ²) || N(0, I)) = ½ Σ (μ² + σ² − 1 − log σ²)`` over dimensions and batch."""
    return vae.gaussian_kl(mu, log_var).sum()


class VAE(nn.Module):
    """``x_reconst, mu, log_var = model(x)`` with ``x_reconst`` in (0, 1)."""

    def __init__(self, input_chanel: int = 3, zdim: int = 512, image_size: int = 64) -> None:
        super().__init__()
        self.z_dim = zdim
        self.net = vae.VAE("conv", (input_chanel, image_size, image_size), latent=zdim)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net.encode(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net.decode(z))

    def reparameterize(self, z_means: torch.Tensor, z_log_var: torch.Tensor) -> torch.Tensor:
        return reparameterize(z_means, z_log_var)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, log_var = self.encode(x)
        return self.decode(self.reparameterize(mu, log_var)), mu, log_var
