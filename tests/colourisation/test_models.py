"""MyConv2d against nn.Conv2d, shapes of every model, skip wiring, tiny overfits."""

from __future__ import annotations

import functools
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from practica.models.colourisation import (
    BLOCKS,
    ColourCNN,
    ColourUNet,
    MyConv2d,
    RegressionCNN,
    SuperResCNN,
    SuperResUNet,
)


@pytest.fixture(autouse=True)
def single_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.mark.parametrize("impl", MyConv2d.IMPLS)
@pytest.mark.parametrize("c_in, c_out, k, pad, size", [(1, 4, 3, 1, 6), (3, 5, 5, 2, 7),
                                                       (2, 3, 3, 0, 5), (4, 2, 1, 0, 4)])
def test_myconv_matches_nn_conv2d_values_and_gradients(impl, c_in, c_out, k, pad, size):
    torch.manual_seed(0)
    mine = MyConv2d(c_in, c_out, k, padding=pad, impl=impl).double()
    ref = nn.Conv2d(c_in, c_out, k, padding=pad).double()
    ref.load_state_dict(mine.state_dict())
    x1 = torch.randn(2, c_in, size, size + 1, dtype=torch.float64, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    y1, y2 = mine(x1), ref(x2)
    assert y1.shape == y2.shape == (2, c_out, size + 2 * pad - k + 1, size + 2 + 2 * pad - k)
    torch.testing.assert_close(y1, y2)
    g = torch.randn_like(y1)
    (y1 * g).sum().backward()
    (y2 * g).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    torch.testing.assert_close(mine.weight.grad, ref.weight.grad)
    torch.testing.assert_close(mine.bias.grad, ref.bias.grad)


def test_myconv_im2col_passes_finite_difference_gradcheck():
    torch.manual_seed(1)
    conv = MyConv2d(2, 3, 3, padding=1, impl="im2col").double()
    x = torch.randn(1, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    w = conv.weight.detach().clone().requires_grad_(True)
    b = conv.bias.detach().clone().requires_grad_(True)

    def f(x, w, b):
        return torch.func.functional_call(conv, {"weight": w, "bias": b}, (x,))

    assert torch.autograd.gradcheck(f, (x, w, b))


def test_myconv_by_hand():
    conv = MyConv2d(1, 1, 3, padding=1, impl="im2col")
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[[[0., 0., 0.], [0., 1., 2.], [0., 0., 0.]]]]))
        conv.bias.fill_(0.5)
    x = torch.tensor([[[[1., 2., 3.]]]])  # 1×3 image: y[j] = x[j] + 2 x[j+1] + 0.5
    assert conv(x).flatten().tolist() == [5.5, 8.5, 3.5]


def test_myconv_init_is_uniform_in_the_fan_in_bound():
    torch.manual_seed(0)
    conv = MyConv2d(32, 64, 3)
    bound = 1 / math.sqrt(32 * 9)
    for p in (conv.weight, conv.bias):
        assert p.abs().max() <= bound
    assert conv.weight.abs().max() > 0.99 * bound and conv.weight.mean().abs() < 0.05 * bound
    with pytest.raises(ValueError, match="impl"):
        MyConv2d(1, 1, 3, impl="fft")


NF = 8


@pytest.mark.parametrize("model, c_in, c_out", [
    (RegressionCNN(1, NF), 1, 3),
    (ColourCNN(1, 24, NF), 1, 24),
    (ColourUNet(1, 24, NF), 1, 24),
    (SuperResCNN(16, NF), 3, 16),
    (SuperResUNet(32, NF), 3, 32),
])
def test_every_model_keeps_the_image_size(model, c_in, c_out):
    for h, w in ((32, 32), (64, 48)):  # fully convolutional: larger inputs work too
        acts = model.activations(torch.rand(2, c_in, h, w))
        assert list(acts) == list(BLOCKS)
        shapes = {k: tuple(v.shape) for k, v in acts.items()}
        assert shapes == {
            "downconv1": (2, NF, h // 2, w // 2), "downconv2": (2, 2 * NF, h // 4, w // 4),
            "rfconv": (2, 2 * NF, h // 4, w // 4), "upconv1": (2, NF, h // 2, w // 2),
            "upconv2": (2, c_out, h, w), "finalconv": (2, c_out, h, w)}
    assert torch.equal(model.eval()(torch.ones(1, c_in, 8, 8)),
                       model.activations(torch.ones(1, c_in, 8, 8))["finalconv"])
    with pytest.raises(ValueError, match="divisible by 4"):
        model(torch.rand(1, c_in, 30, 32))
    with pytest.raises(ValueError, match=f"N×{c_in}×H×W"):
        model(torch.rand(1, c_in + 1, 32, 32))


def _conv_in(block: nn.Module) -> int:
    conv = block[0] if isinstance(block, nn.Sequential) else block
    return conv.in_channels


def test_unet_skips_concatenate_encoder_features_and_input():
    cnn, unet = ColourCNN(1, 24, NF), ColourUNet(1, 24, NF)
    assert [_conv_in(getattr(cnn, b)) for b in BLOCKS] == [1, NF, 2 * NF, 2 * NF, NF, 24]
    assert [_conv_in(getattr(unet, b)) for b in BLOCKS] == [1, NF, 2 * NF, 4 * NF, 2 * NF, 25]
    # the UNet output depends on the input through the last skip even if upconv2 is zeroed
    with torch.no_grad():
        for p in unet.upconv2.parameters():
            p.zero_()
    unet.eval()
    x = torch.rand(1, 1, 8, 8)
    assert not torch.allclose(unet(x), unet(x + 0.5))


def test_conv_classes_and_im2col_models_agree():
    assert isinstance(RegressionCNN().downconv1[0], nn.Conv2d)
    assert isinstance(ColourCNN().downconv1[0], MyConv2d)
    assert all(isinstance(m, MyConv2d) for m in ColourUNet().modules()
               if isinstance(m, (nn.Conv2d, MyConv2d)))
    torch.manual_seed(0)
    fast = ColourUNet(1, 5, NF).eval()
    slow = ColourUNet(1, 5, NF, conv=functools.partial(MyConv2d, impl="im2col")).eval()
    slow.load_state_dict(fast.state_dict())
    x = torch.rand(2, 1, 16, 16)
    torch.testing.assert_close(fast(x), slow(x), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="odd"):
        ColourCNN(kernel=4)


def _overfit(model: nn.Module, x: torch.Tensor, loss_of, steps: int) -> tuple[float, float]:
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(steps):
        loss = loss_of(model(x))
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else float(loss.detach())
    return first, float(loss.detach())


def test_unet_overfits_a_tiny_colouring():
    torch.manual_seed(0)
    x = torch.rand(4, 1, 8, 8)
    y = (x[:, 0] * 3.999).long()  # 4 "colours" by brightness band
    model = ColourUNet(1, 4, num_filters=8)
    first, last = _overfit(model, x, lambda out: F.cross_entropy(out, y), 150)
    model.eval()
    acc = (model(x).argmax(1) == y).float().mean()
    assert last < 0.1 * first and acc > 0.95


def test_regression_cnn_overfits_tiny_rgb_targets():
    torch.manual_seed(0)
    rgb = torch.rand(4, 3, 8, 8)
    model = RegressionCNN(1, num_filters=8)
    first, last = _overfit(model, rgb.mean(1, keepdim=True),
                           lambda out: F.mse_loss(out, rgb), 150)
    assert last < 0.2 * first
