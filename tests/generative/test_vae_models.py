"""Shapes of the three VAE architectures and the residual block; a tiny VAE learns."""

from __future__ import annotations

import pytest
import torch

from practica.models.vae import VAE, ResidualBlock, crop_to, pad_to


@pytest.mark.parametrize("arch", ["mlp", "conv", "resnet"])
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 64, 64)])
def test_shapes(arch, shape):
    model = VAE(arch, shape, latent=7).eval()
    x = torch.rand(2, *shape)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (2, 7)
    assert model.decode(mu).shape == (2, *shape)
    recon, kl = model.loss_terms(x)
    assert recon.shape == kl.shape == (2,) and torch.isfinite(recon + kl).all()
    assert model.sample(3).shape == (3, *shape)


def test_conv_vae_has_five_convolutions_doubling_from_32():
    model = VAE("conv", (1, 28, 28))
    convs = [m for m in model.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 64, 128, 256, 512]


def test_resnet_vae_has_five_residual_blocks_each_way():
    model = VAE("resnet", (1, 28, 28))
    for part in (model.encoder, model.decoder):
        assert sum(isinstance(m, ResidualBlock) for m in part.modules()) == 5


def test_residual_block_shapes_and_identity_shortcut():
    x = torch.randn(2, 8, 8, 8)
    assert ResidualBlock(8, 16, "down")(x).shape == (2, 16, 4, 4)
    assert ResidualBlock(8, 4, "up")(x).shape == (2, 4, 16, 16)
    same = ResidualBlock(8, 8)
    assert isinstance(same.shortcut, torch.nn.Identity)
    with torch.no_grad():  # zero residual branch: y = ReLU(x)
        same.bn2.weight.zero_()
        same.bn2.bias.zero_()
    assert torch.allclose(same.eval()(x), torch.relu(x))


def test_pad_and_crop_are_inverse():
    x = torch.randn(1, 1, 28, 28)
    assert pad_to(x, 32).shape[-1] == 32
    assert torch.equal(crop_to(pad_to(x, 32), (28, 28)), x)


def test_mlp_vae_learns_tiny_binary_data():
    torch.manual_seed(0)
    patterns = (torch.rand(4, 1, 6, 6) > 0.5).float()
    x = patterns.repeat(16, 1, 1, 1)
    model = VAE("mlp", (1, 6, 6), latent=2)
    model.encoder.fc1 = torch.nn.Linear(36, 64)  # a narrow MLP is enough here
    model.encoder.head = torch.nn.Linear(64, 4)
    model.decoder.fc1 = torch.nn.Linear(2, 64)
    model.decoder.out = torch.nn.Linear(64, 36)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(100):
        recon, kl = model.loss_terms(x)
        loss = (recon + kl).mean()
        first = float(loss.detach()) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.5 * first


@pytest.mark.parametrize("arch", ["conv", "resnet"])
def test_one_training_step_changes_the_weights(arch):
    torch.manual_seed(0)
    model = VAE(arch, (1, 28, 28), latent=4)
    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    recon, kl = model.loss_terms((torch.rand(4, 1, 28, 28) > 0.5).float())
    (recon + kl).mean().backward()
    opt.step()
    changed = [not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True)]
    assert all(changed)


def test_a_deeper_mlp_vae_adds_hidden_layers_each_way_and_keeps_depth_1_as_is():
    torch.manual_seed(0)
    shallow, deep = VAE("mlp", (1, 28, 28), 20), VAE("mlp", (1, 28, 28), 20, depth=3)
    assert set(shallow.state_dict()) == {"encoder.fc1.weight", "encoder.fc1.bias",
                                         "encoder.head.weight", "encoder.head.bias",
                                         "decoder.fc1.weight", "decoder.fc1.bias",
                                         "decoder.out.weight", "decoder.out.bias"}
    extra = sum(p.numel() for p in deep.parameters()) - sum(
        p.numel() for p in shallow.parameters())
    assert extra == 4 * (512 * 512 + 512)  # two more 512 → 512 layers each way
    x = torch.rand(3, 1, 28, 28).bernoulli()
    logits, mu, logvar = deep(x)
    assert logits.shape == x.shape and mu.shape == logvar.shape == (3, 20)
    with pytest.raises(ValueError, match="MLP VAE only"):
        VAE("conv", (1, 28, 28), 20, depth=2)
