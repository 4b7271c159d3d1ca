"""The VAE's equations: closed-form KL, reparameterisation, likelihoods, the IWAE bound."""

from __future__ import annotations

import math

import pytest
import torch

from practica.models.vae import (
    VAE,
    gaussian_kl,
    gaussian_log_density,
    importance_log_likelihood,
    iwae_bound,
    log_importance_weights,
    reconstruction_nll,
    reparameterize,
)


def test_kl_closed_form_matches_monte_carlo():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(4, 3, generator=g, dtype=torch.float64)
    logvar = torch.randn(4, 3, generator=g, dtype=torch.float64) * 0.7
    z = mu + (0.5 * logvar).exp() * torch.randn(200_000, 4, 3, generator=g,
                                                dtype=torch.float64)
    log_q = gaussian_log_density(z, mu, logvar)
    log_p = -0.5 * (math.log(2 * math.pi) + z.pow(2)).sum(-1)
    monte_carlo = (log_q - log_p).mean(0)
    closed = gaussian_kl(mu, logvar)
    assert torch.allclose(closed, monte_carlo, atol=0.02)
    reference = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, (0.5 * logvar).exp()),
        torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(1)
    assert torch.allclose(closed, reference, atol=1e-12)


def test_kl_is_zero_only_at_the_prior():
    zeros = torch.zeros(2, 5)
    assert torch.equal(gaussian_kl(zeros, zeros), torch.zeros(2))
    assert (gaussian_kl(zeros + 0.1, zeros) > 0).all()
    assert (gaussian_kl(zeros, zeros - 0.5) > 0).all()


def test_reparameterisation_has_the_right_moments_and_gradients():
    mu = torch.tensor([[1.5, -2.0]], requires_grad=True)
    logvar = torch.tensor([[math.log(0.25), math.log(4.0)]], requires_grad=True)
    g = torch.Generator().manual_seed(1)
    z = reparameterize(mu.expand(100_000, 2), logvar.expand(100_000, 2), g)
    assert torch.allclose(z.mean(0), mu[0], atol=0.02)
    assert torch.allclose(z.std(0), torch.tensor([0.5, 2.0]), atol=0.02)
    z.sum().backward()
    assert torch.allclose(mu.grad, torch.full((1, 2), 100_000.0))  # dz/dμ = 1
    assert logvar.grad.abs().min() > 0  # the noise path is differentiable in σ


def test_reconstruction_terms_match_the_distributions():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(3, 1, 2, 2, generator=g)
    x = (torch.rand(3, 1, 2, 2, generator=g) > 0.5).float()
    bern = torch.distributions.Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(reconstruction_nll(logits, x, "bernoulli"), -bern, atol=1e-5)
    xg = torch.rand(3, 1, 2, 2, generator=g)
    gauss = torch.distributions.Normal(torch.sigmoid(logits), 0.3).log_prob(xg)
    assert torch.allclose(reconstruction_nll(logits, xg, "gaussian", 0.3),
                          -gauss.flatten(1).sum(1), atol=1e-5)
    with pytest.raises(ValueError):
        reconstruction_nll(logits, x, "poisson")


@torch.no_grad()
def test_importance_sampled_likelihood_brackets_log_p_x():
    """1-D latent: log p(x) by quadrature; ELBO ≤ IWAE(k) ≈ log p(x) for large k."""
    torch.manual_seed(3)
    model = VAE("mlp", (1, 2, 2), latent=1).double().eval()
    for p in model.parameters():
        p.mul_(3.0)  # a sharper decoder makes the gap between the bounds visible
    x = torch.tensor([[[[1.0, 0.0], [1.0, 1.0]]], [[[0.0, 0.0], [1.0, 0.0]]]],
                     dtype=torch.float64)
    z = torch.linspace(-9, 9, 20001, dtype=torch.float64).unsqueeze(1)
    logits = model.decode(z)
    log_joint = torch.stack([
        -reconstruction_nll(logits, xi.expand_as(logits)) - 0.5 * (math.log(2 * math.pi)
                                                                   + z[:, 0] ** 2)
        for xi in x])
    log_px = torch.logsumexp(log_joint, 1) + math.log(float(z[1, 0] - z[0, 0]))

    repeats = 4000
    recon, kl = model.loss_terms(x.repeat(repeats, 1, 1, 1))
    elbo = -(recon + kl).view(repeats, 2).mean(0)
    iwae = importance_log_likelihood(model, x, k=4000, chunk=4000)
    assert (elbo < log_px - 0.05).all()  # a real gap, so the next check means something
    assert (iwae >= elbo).all()
    assert torch.allclose(iwae, log_px, atol=0.03)
    assert (importance_log_likelihood(model, x, k=1).shape == (2,))


def test_iwae_bound_is_log_mean_exp_and_grows_with_k():
    """L_k = log mean_i w_i exactly; in expectation L_1 (the ELBO) < L_5 < L_50."""
    log_w = torch.tensor([[0.0, -3.0], [math.log(3.0), -1.0]], dtype=torch.float64)
    assert torch.allclose(iwae_bound(log_w), torch.tensor(
        [math.log(2.0), math.log((math.exp(-3) + math.exp(-1)) / 2)], dtype=torch.float64))

    torch.manual_seed(3)
    model = VAE("mlp", (1, 2, 2), latent=1).double().eval()
    for p in model.parameters():
        p.data.mul_(3.0)
    x = torch.tensor([[[[1.0, 0.0], [1.0, 1.0]]]], dtype=torch.float64)
    with torch.no_grad():
        means = [iwae_bound(log_importance_weights(model, x.repeat(3000, 1, 1, 1), k)).mean()
                 for k in (1, 5, 50)]
        recon, kl = model.loss_terms(x.repeat(20000, 1, 1, 1))
    assert means[0] < means[1] - 0.05 < means[2] - 0.1
    assert abs(float(means[0] + (recon + kl).mean())) < 0.05  # L_1 is the one-sample ELBO


def test_iwae_objective_back_propagates_into_encoder_and_decoder():
    torch.manual_seed(0)
    model = VAE("mlp", (1, 4, 4), latent=3)
    x = torch.bernoulli(torch.full((6, 1, 4, 4), 0.3))
    (-iwae_bound(log_importance_weights(model, x, k=4)).mean()).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name  # the encoder is reached through z = μ + σ ε
