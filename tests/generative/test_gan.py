"""The GAN's networks, losses and alternating update."""

from __future__ import annotations

import math

import pytest
import torch

from practica.evaluation.generative import DigitClassifier
from practica.experiments.gan import AlternatingAdam, gan_step, interpolate
from practica.models.gan import (
    GAN,
    ConvDiscriminator,
    ConvGenerator,
    Discriminator,
    Generator,
    discriminator_loss,
    generator_loss,
)


def test_shapes_and_ranges():
    g = Generator(100, (1, 28, 28))
    out = g(torch.randn(5, 100))
    assert out.shape == (5, 1, 28, 28) and out.abs().max() <= 1
    assert [m.out_features for m in g.net if isinstance(m, torch.nn.Linear)] == \
        [128, 256, 512, 1024, 784]
    d = Discriminator((1, 28, 28), dropout=0.3)
    assert d(out).shape == (5,)
    assert [m.out_features for m in d.net if isinstance(m, torch.nn.Linear)] == [512, 256, 1]


def test_dcgan_shapes_ranges_and_layers():
    torch.manual_seed(0)
    g = ConvGenerator(100, (1, 28, 28))
    out = g(torch.randn(5, 100))
    assert out.shape == (5, 1, 28, 28) and out.abs().max() <= 1
    assert [m.out_channels for m in g.net if isinstance(m, torch.nn.ConvTranspose2d)] == [64, 1]
    d = ConvDiscriminator((1, 28, 28), dropout=0.3)
    assert d(out).shape == (5,)
    assert [m.out_channels for m in d.net if isinstance(m, torch.nn.Conv2d)] == [64, 128]
    both = GAN(100, (1, 28, 28), arch="dcgan")
    assert isinstance(both.generator, ConvGenerator) and both.sample(3).shape == (3, 1, 28, 28)
    # the gradient of D's logit reaches every generator weight
    d(g(torch.randn(4, 100))).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())
    with pytest.raises(ValueError, match="28×28"):
        ConvGenerator(100, (1, 32, 32))


def test_dcgan_discriminator_without_batchnorm_judges_each_image_alone():
    torch.manual_seed(0)
    d = ConvDiscriminator((1, 28, 28), dropout=0.3, norm="none").train()
    kinds = [type(m) for m in d.net]
    assert torch.nn.BatchNorm2d not in kinds and kinds.count(torch.nn.Dropout) == 2
    x = torch.randn(6, 1, 28, 28)
    d.eval()  # no dropout: an image's logit does not depend on the rest of its batch
    assert torch.allclose(d(x)[:2], d(x[:2]), atol=1e-6)
    with_bn = ConvDiscriminator((1, 28, 28)).train()
    assert not torch.allclose(with_bn(x)[:2], with_bn(x[:2]), atol=1e-4)  # batch statistics
    with pytest.raises(ValueError, match="norm"):
        ConvDiscriminator((1, 28, 28), norm="layer")


def test_losses_on_hand_computed_values():
    zero = torch.zeros(4)
    assert math.isclose(float(discriminator_loss(zero, zero)), 2 * math.log(2), rel_tol=1e-6)
    assert math.isclose(float(generator_loss(zero)), math.log(2), rel_tol=1e-6)
    assert math.isclose(float(generator_loss(zero, "minimax")), -math.log(2), rel_tol=1e-6)
    # D certain and right: -log σ(10) - log(1 - σ(-10)) = 2 softplus(-10)
    d = discriminator_loss(torch.full((3,), 10.0), torch.full((3,), -10.0))
    assert math.isclose(float(d), 2 * math.log1p(math.exp(-10)), rel_tol=1e-6)
    with pytest.raises(ValueError):
        generator_loss(zero, "wasserstein")


def test_non_saturating_loss_keeps_its_gradient_when_d_rejects_fakes():
    grads = {}
    for kind in ("non-saturating", "minimax"):
        logits = torch.full((2,), -8.0, requires_grad=True)  # D(G(z)) ≈ 0.0003
        generator_loss(logits, kind).backward()
        grads[kind] = logits.grad.abs().max().item()
    assert grads["non-saturating"] > 0.49  # ≈ (1 - σ(-8)) / 2
    assert grads["minimax"] < 1e-3  # ≈ σ(-8) / 2: saturated


def test_one_alternating_step_updates_both_networks_and_checkpoints_both():
    torch.manual_seed(0)
    model = GAN(8, (1, 4, 4))
    opts = AlternatingAdam(model, 1e-3, 0.5)
    g_before = [p.detach().clone() for p in model.generator.parameters()]
    d_before = [p.detach().clone() for p in model.discriminator.parameters()]
    loss, metrics = gan_step(opts, 8, "non-saturating")(model, torch.rand(6, 1, 4, 4) * 2 - 1)
    assert all(not torch.equal(a, b) for a, b in
               zip(d_before, model.discriminator.parameters(), strict=True))  # D stepped
    assert all(torch.equal(a, b) for a, b in
               zip(g_before, model.generator.parameters(), strict=True))  # G not yet
    opts.zero_grad()
    loss.backward()
    opts.step()
    assert all(not torch.equal(a, b) for a, b in
               zip(g_before, model.generator.parameters(), strict=True))
    assert {"d_loss", "d_real", "d_fake"} <= set(metrics)
    state = opts.state_dict()
    fresh = AlternatingAdam(model, 1e-3, 0.5)
    fresh.load_state_dict(state)
    assert fresh.discriminator.state_dict()["state"][0]["step"] == 1
    assert fresh.generator.state_dict()["state"][0]["step"] == 1


def test_gan_learns_a_one_dimensional_target():
    """G maps noise to a narrow distribution around 0.6 on a 1-pixel 'image'.

    GAN training oscillates around the target, so the sample mean is averaged over the last
    100 of 300 steps; the untrained generator starts near 0 (tanh of small outputs).
    """
    torch.manual_seed(0)
    model = GAN(4, (1, 1, 1))
    opts = AlternatingAdam(model, 2e-3, 0.5)
    step = gan_step(opts, 4, "non-saturating")

    def sample_mean() -> float:
        model.eval()
        with torch.no_grad():
            mean = float(model.sample(500).mean())
        model.train()
        return mean

    assert abs(sample_mean() - 0.6) > 0.4
    means = []
    for i in range(300):
        real = 0.6 + 0.05 * torch.randn(64, 1, 1, 1)
        loss, _ = step(model, real)
        opts.zero_grad()
        loss.backward()
        opts.step()
        if i >= 200 and i % 10 == 0:
            means.append(sample_mean())
    assert abs(sum(means) / len(means) - 0.6) < 0.1


class PixelClassifier(DigitClassifier):
    """Class 0 when the first pixel is brighter than the second, else class 1."""

    def __init__(self) -> None:
        super().__init__(classes=2)
        self.fc2 = torch.nn.Linear(2, 2)
        with torch.no_grad():
            self.fc2.weight.copy_(torch.eye(2) * 50)
            self.fc2.bias.zero_()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0, 0, :2]


def test_interpolation_gives_nine_images_between_different_classes():
    torch.manual_seed(0)
    model = GAN(16, (1, 28, 28)).eval()
    images, classes, confidence = interpolate(model, PixelClassifier(), seed=0, pool=64)
    assert images.shape == (9, 1, 28, 28) and len(classes) == len(confidence) == 9
    assert classes[0] != classes[-1]
    with torch.no_grad():  # the endpoints are the two chosen samples themselves
        z = torch.randn(64, 16, generator=torch.Generator().manual_seed(0))
        pool = (model.generator(z) + 1) / 2
    assert any(torch.allclose(images[0], p, atol=1e-6) for p in pool)
    assert any(torch.allclose(images[-1], p, atol=1e-6) for p in pool)
