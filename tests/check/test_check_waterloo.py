"""practica check on Waterloo A5 §4–5: a ``vae.py`` written as the starter's training loop
suggests passes; the usual KL, reconstruction and sampling mistakes fail with the message
that names them."""

from __future__ import annotations

from pathlib import Path

import pytest

from practica.check import run_checks
from practica.check.worker import verdict

GOOD = '''
import torch
import torch.nn.functional as F
from torch import nn


def reparameterize(z_means, z_log_var):
    std = torch.exp(0.5 * z_log_var)
    return z_means + torch.randn_like(std) * std


def reconst_loss(x_reconst, x):
    return F.binary_cross_entropy(x_reconst, x, reduction="sum")


def kl_div(mu, log_var):
    return -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())


class VAE(nn.Module):
    def __init__(self, input_chanel=1, zdim=4, image_size=8):
        super().__init__()
        n = input_chanel * image_size * image_size
        self.shape = (input_chanel, image_size, image_size)
        self.enc = nn.Linear(n, 2 * zdim)
        self.dec = nn.Linear(zdim, n)

    def forward(self, x):
        mu, log_var = self.enc(x.flatten(1)).chunk(2, dim=1)
        z = reparameterize(mu, log_var)
        return torch.sigmoid(self.dec(z)).view(len(x), *self.shape), mu, log_var
'''

KL = "-0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())"
BCE = 'F.binary_cross_entropy(x_reconst, x, reduction="sum")'
REPARAMETERIZE = "z_means + torch.randn_like(std) * std"


def learner(folder: Path, code: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vae.py").write_text(code)
    return folder


def test_the_starter_loop_written_out_passes_every_piece(tmp_path):
    verdicts = run_checks("waterloo-a5", learner(tmp_path / "ok", GOOD))
    assert [v.status for v in verdicts] == ["PASS"] * 5, verdicts


def test_the_reference_passes_every_piece(tmp_path):
    code = "from practica.handouts.waterloo_a5 import *  # noqa: F401,F403\n"
    verdicts = run_checks("waterloo-a5", learner(tmp_path / "ref", code))
    assert [v.status for v in verdicts] == ["PASS"] * 5, verdicts


@pytest.mark.parametrize("piece, old, new, message", [
    ("kl_div", KL, "0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())",
     "kl_div is wrong: the sign is flipped"),
    ("kl_div", KL, "-torch.sum(1 + log_var - mu.pow(2) - log_var.exp())",
     "kl_div is wrong: twice the KL: the ½ is missing"),
    ("kl_div", KL, "-0.5 * torch.sum(1 + torch.log(log_var ** 2) - mu ** 2 - log_var ** 2)",
     "kl_div is wrong: log_var is taken for σ"),
    ("kl_div", KL, "-0.5 * torch.mean(1 + log_var - mu.pow(2) - log_var.exp())",
     "kl_div is wrong: averaged over the latent dimensions"),
    ("kl_div", KL, "-0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp(), dim=1)",
     "kl_div returned shape (5,), expected a scalar"),
    ("reconst_loss", BCE, "F.binary_cross_entropy(x_reconst, x)",
     "reconst_loss is wrong: averaged over the pixels (reduction='mean')"),
    ("reconst_loss", BCE, 'F.binary_cross_entropy(x, x_reconst, reduction="sum")',
     "reconst_loss is wrong: x_reconst and x are swapped"),
    ("reconst_loss", BCE, 'F.mse_loss(x_reconst, x, reduction="sum")',
     "reconst_loss is wrong: this is the squared error"),
    ("loss", BCE, 'F.binary_cross_entropy(x_reconst, x, reduction="sum") / len(x)',
     "reconst_loss averages over the batch and kl_div sums over it"),
    ("reparameterize", REPARAMETERIZE, "z_means + torch.randn_like(std) * std ** 2",
     "ε is scaled by exp(log_var), the variance"),
    ("reparameterize", REPARAMETERIZE, "z_means + torch.rand_like(std) * std",
     "it should be standard normal (torch.randn_like)"),
    ("reparameterize", REPARAMETERIZE, "z_means + torch.randn(std.shape[1]) * std",
     "every example gets the same ε"),
    ("reparameterize", REPARAMETERIZE, "z_means + torch.randn_like(std).detach() * std.detach()",
     "z does not depend on log_var (σ = exp(½ log_var))"),
    ("vae", "torch.sigmoid(self.dec(z))", "self.dec(z)",
     "the cross-entropy needs probabilities: end the decoder with a sigmoid"),
    ("vae", "z = reparameterize(mu, log_var)", "z = mu",
     "x_reconst is the same on two calls in train mode"),
])
def test_broken_implementations_fail_with_the_right_message(tmp_path, piece, old, new,
                                                            message):
    assert old in GOOD
    folder = learner(tmp_path / "broken", GOOD.replace(old, new))
    v = verdict("waterloo-a5", folder, piece)  # in this process: one torch import for all
    assert v["status"] == "FAIL" and message in v["message"], v
