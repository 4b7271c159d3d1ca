"""The checks of Waterloo A5 §4–5's VAE pieces (``vae.py``), against
:mod:`practica.handouts.waterloo_a5` and :mod:`practica.models.vae`, in float64.

Why these pieces: the handout's only fixed interface is its VAE snippet, whose training
loop leaves three lines to the student — the reparameterisation (a ``VAE`` method),
``reconst_loss`` and ``kl_div``. Each is checked as a function of the starter's name (see
the handout module for the interface), by value and by its gradients, and a wrong value is
matched against the usual mistakes to say which one it is: a flipped sign, a missing ½,
``log_var`` taken for ``log σ`` or ``σ``, an average where a sum belongs, swapped
arguments. ``loss`` checks that the two terms are reduced over the batch the same way, and
``vae`` that the learner's model returns ``x_reconst, mu, log_var`` with gradients reaching
the encoder through the sample.

The §1 CNN's sizes and parameter count are numbers, not code: ``practica shapes
examples/waterloo-a5-cnn.toml`` computes them. §2 (VGG11) and §3 (the tweet LSTM) fix no
starter interface.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import ModuleType

from ..handouts import waterloo_a5 as ref
from .compare import Mismatch, Missing, same
from .spec import Piece


def _fn(m: ModuleType, name: str) -> Callable:
    fn = getattr(m, name, None)
    if not callable(fn):
        raise Missing(f"{m.__name__}.py has no function {name}")
    return fn


def _reparameterize(m: ModuleType) -> Callable:
    """The module's ``reparameterize`` function, or the VAE method on a bare module."""
    import torch

    fn = getattr(m, "reparameterize", None)
    if callable(fn):
        return fn
    cls = getattr(m, "VAE", None)
    if cls is None or not callable(getattr(cls, "reparameterize", None)):
        raise Missing(f"{m.__name__}.py has no reparameterize (a function, or the VAE "
                      "method of the starter)")
    bare = cls.__new__(cls)
    torch.nn.Module.__init__(bare)  # train mode, none of the learner's layers
    return bare.reparameterize


def _scalar(value, name: str):
    import torch

    if not isinstance(value, torch.Tensor):
        raise Mismatch(f"{name} returned a {type(value).__name__}, not a tensor (keep it in "
                       "torch so that loss.backward() reaches the network)")
    if value.numel() != 1:
        raise Mismatch(f"{name} returned shape {tuple(value.shape)}, expected a scalar: the "
                       "training loop adds it up and calls backward on the sum")
    if not value.requires_grad:
        raise Mismatch(f"{name} does not depend on its inputs through autograd (.detach(), "
                       ".item() or NumPy inside?)")
    return value.reshape(())


def _inputs(seed: int, *shapes: tuple[int, ...]):
    import torch

    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, generator=gen, dtype=torch.float64) for s in shapes]


def _reduction(value: float, total: float, batch: int) -> float | None:
    """1 if ``value`` is the batch's sum, 1/batch if its mean, None if neither."""
    for r in (1.0, 1.0 / batch):
        if abs(value - r * total) <= 1e-9 + 1e-6 * abs(r * total):
            return r
    return None


def _diagnose(name: str, value: float, mistakes: dict[str, float], batch: int) -> None:
    for what, total in mistakes.items():
        if _reduction(value, total, batch) is not None:
            raise Mismatch(f"{name} is wrong: {what}")


def _kl_value(m: ModuleType, seed: int, batch: int, dim: int):
    import torch

    mu, log_var = _inputs(seed, (batch, dim), (batch, dim))
    mu = (mu * 1.5).requires_grad_()
    log_var = (log_var * 1.2).requires_grad_()
    got = _scalar(_fn(m, "kl_div")(mu, log_var), "kl_div")
    total = ref.kl_div(mu, log_var)
    value = float(got.detach())
    r = _reduction(value, float(total.detach()), batch)
    if r is None:
        with torch.no_grad():
            mu2, var = mu.pow(2), log_var.exp()
            mistakes = {
                "the sign is flipped (the KL is ≥ 0: −½ Σ (1 + log σ² − μ² − σ²))": -total,
                "twice the KL: the ½ is missing": 2 * total,
                "averaged over the latent dimensions: the KL sums over them": total / dim,
                "log_var is taken for log σ (σ² = exp(2 log_var)); it is log σ², so "
                "σ² = exp(log_var)": 0.5 * (mu2 + (2 * log_var).exp() - 1 - 2 * log_var).sum(),
                "log_var is taken for σ; it is log σ², so σ² = exp(log_var)":
                    0.5 * (mu2 + log_var.pow(2) - 1 - log_var.pow(2).log()).sum(),
                "the 1 of −½ Σ (1 + log σ² − μ² − σ²) is missing": total + batch * dim / 2,
                "μ where μ² belongs": 0.5 * (mu + var - 1 - log_var).sum(),
            }
        _diagnose("kl_div", value, {k: float(v) for k, v in mistakes.items()}, batch)
        same("kl_div", value, float(total.detach()),
             hint=" (expected −½ Σ (1 + log_var − μ² − exp(log_var)), summed over the "
                  "latent dimensions and the batch)")
        r = 1.0
    return got, total, r, (mu, log_var)


def check_kl_div(m: ModuleType) -> None:
    import torch

    for seed, (batch, dim) in enumerate(((5, 3), (2, 7), (8, 1))):
        got, total, r, (mu, log_var) = _kl_value(m, seed, batch, dim)
        dmu, dlv = torch.autograd.grad(got, (mu, log_var), allow_unused=True)
        want_mu, want_lv = torch.autograd.grad(r * total, (mu, log_var))
        for what, g, w in (("mu", dmu, want_mu), ("log_var", dlv, want_lv)):
            if g is None:
                raise Mismatch(f"kl_div does not depend on {what}")
            same(f"kl_div: gradient with respect to {what}", g.numpy(), w.numpy(),
                 hint=" (expected μ for mu, ½ (exp(log_var) − 1) for log_var)")


def _recon_inputs(seed: int, shape: tuple[int, ...]):
    import torch

    logits, grey, coin = _inputs(seed, shape, shape, shape)
    x_reconst = torch.sigmoid(logits.clamp(-2.5, 2.5)).requires_grad_()
    x = torch.where(coin > 0, (coin > 1).double(), torch.sigmoid(grey))  # binary and grey
    return x_reconst, x


def _recon_value(m: ModuleType, seed: int, shape: tuple[int, ...]):
    import torch
    import torch.nn.functional as F

    x_reconst, x = _recon_inputs(seed, shape)
    got = _scalar(_fn(m, "reconst_loss")(x_reconst, x.clone()), "reconst_loss")
    total = ref.reconst_loss(x_reconst, x)
    batch, pixels = shape[0], x[0].numel()
    value = float(got.detach())
    r = _reduction(value, float(total.detach()), batch)
    if r is None:
        with torch.no_grad():
            mistakes = {
                "averaged over the pixels (reduction='mean'); the Bernoulli log-likelihood "
                "sums over the pixels of each image (reduction='sum')": total / pixels,
                "the sign is flipped (the loss is −log p(x|z) = −Σ [x log x̂ + (1 − x) "
                "log(1 − x̂)] ≥ 0)": -total,
                "x_reconst and x are swapped: binary_cross_entropy(x_reconst, x), the "
                "prediction first": F.binary_cross_entropy(x, x_reconst.detach(),
                                                           reduction="sum"),
                "this is the squared error; the reconstruction term of §4 is the "
                "cross-entropy of a Bernoulli decoder": (x_reconst - x).pow(2).sum(),
                "this is the mean squared error; the reconstruction term of §4 is the "
                "cross-entropy of a Bernoulli decoder": (x_reconst - x).pow(2).sum() / pixels,
            }
        _diagnose("reconst_loss", value, {k: float(v) for k, v in mistakes.items()},
                  batch)
        same("reconst_loss", value, float(total.detach()),
             hint=" (expected −Σ [x log x̂ + (1 − x) log(1 − x̂)] summed over the pixels and "
                  "the batch)")
        r = 1.0
    return got, total, r, x_reconst


def check_reconst_loss(m: ModuleType) -> None:
    import torch

    for seed, shape in enumerate(((4, 1, 5, 5), (2, 3, 4, 4), (3, 10))):
        got, total, r, x_reconst = _recon_value(m, seed, shape)
        (g,) = torch.autograd.grad(got, (x_reconst,), allow_unused=True)
        if g is None:
            raise Mismatch("reconst_loss does not depend on x_reconst")
        (w,) = torch.autograd.grad(r * total, (x_reconst,))
        same("reconst_loss: gradient with respect to x_reconst", g.numpy(), w.numpy(),
             hint=" (expected (x̂ − x) / (x̂ (1 − x̂)))")


def check_loss(m: ModuleType) -> None:
    batch = 6
    kl = _kl_value(m, 0, batch, 4)[2]
    recon = _recon_value(m, 0, (batch, 1, 4, 4))[2]
    if kl != recon:
        how = {1.0: "sums over", 1.0 / batch: "averages over"}
        raise Mismatch(f"reconst_loss {how[recon]} the batch and kl_div {how[kl]} it: in "
                       f"loss = reconst_loss + kl_div the KL is weighted {batch}× too "
                       f"{'lightly' if kl < recon else 'heavily'} (batch of {batch}); reduce "
                       "both the same way")


def check_reparameterize(m: ModuleType) -> None:
    import torch

    fn = _reparameterize(m)
    mu, log_var = _inputs(0, (500, 8), (500, 8))
    mu = (mu * 2).requires_grad_()
    log_var = (log_var * 1.2).requires_grad_()
    z = fn(mu, log_var)
    if not isinstance(z, torch.Tensor) or z.shape != mu.shape:
        shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
        raise Mismatch(f"reparameterize returned {shape}, expected a tensor of mu's shape "
                       f"{tuple(mu.shape)}")
    if not z.requires_grad:
        raise Mismatch("z does not depend on mu and log_var through autograd: the point of "
                       "the trick is z = μ + σ ε, differentiable in μ and σ")
    std = (0.5 * log_var).exp().detach()
    eps = ((z.detach() - mu.detach()) / std)
    if float(eps.abs().max()) < 1e-12:
        raise Mismatch("z = μ: no noise is added (z = μ + exp(½ log_var) ε, ε ~ N(0, I))")
    g = torch.randn(mu.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    dmu, dlv = torch.autograd.grad((z * g).sum(), (mu, log_var), allow_unused=True)
    if dmu is None or not torch.allclose(dmu, g):
        raise Mismatch("∂z/∂μ should be 1 (z = μ + σ ε)")
    if dlv is None:
        raise Mismatch("z does not depend on log_var (σ = exp(½ log_var))")
    noise = z.detach() - mu.detach()
    if not torch.allclose(dlv, 0.5 * g * noise, rtol=1e-6, atol=1e-9):
        if torch.allclose(dlv, g * noise, rtol=1e-6, atol=1e-9):
            raise Mismatch("ε is scaled by exp(log_var), the variance; z = μ + σ ε needs the "
                           "standard deviation σ = exp(½ log_var)")
        if torch.allclose(dlv * log_var.detach(), g * noise, rtol=1e-6, atol=1e-9):
            raise Mismatch("log_var is used as σ (z = μ + log_var · ε); it is log σ², so "
                           "σ = exp(½ log_var)")
        raise Mismatch("∂z/∂log_var should be ½ (z − μ) for z = μ + exp(½ log_var) ε")
    if torch.allclose(eps[0], eps[1]):
        raise Mismatch("every example gets the same ε; draw one per entry, of mu's shape")
    mean, spread = float(eps.mean()), float(eps.std())
    if abs(mean) > 0.1 or abs(spread - 1) > 0.1:
        raise Mismatch(f"ε = (z − μ) / σ has mean {mean:.2f} and std {spread:.2f}; it should be "
                       "standard normal (torch.randn_like)")
    again = fn(mu, log_var)
    if torch.equal(again, z):
        raise Mismatch("reparameterize returns the same z on every call; ε must be drawn "
                       "anew each time")


def _default(cls, name: str, fallback: int | None = None) -> int:
    try:
        param = inspect.signature(cls).parameters.get(name)
    except (TypeError, ValueError):
        param = None
    if param is not None and isinstance(param.default, int):
        return param.default
    if fallback is None:
        raise Mismatch(f"VAE's constructor should take {name} with a default, as the "
                       "starter's VAE(input_chanel=3, zdim=512, image_size=424)")
    return fallback


def check_vae(m: ModuleType) -> None:
    import torch

    cls = getattr(m, "VAE", None)
    if cls is None:
        raise Missing(f"{m.__name__}.py has no class VAE")
    channels, size = _default(cls, "input_chanel", 3), _default(cls, "image_size")
    torch.manual_seed(0)
    model = cls().double().train()
    x = torch.rand(2, channels, size, size, dtype=torch.float64, requires_grad=True)
    out = model(x)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise Mismatch("VAE.forward should return x_reconst, mu, log_var")
    x_reconst, mu, log_var = out
    if tuple(x_reconst.shape) != tuple(x.shape):
        raise Mismatch(f"x_reconst has shape {tuple(x_reconst.shape)} for x of shape "
                       f"{tuple(x.shape)}")
    if mu.shape != log_var.shape or mu.shape[0] != 2:
        raise Mismatch(f"mu {tuple(mu.shape)} and log_var {tuple(log_var.shape)} should both "
                       "be (batch, z_dim)")
    low, high = float(x_reconst.detach().min()), float(x_reconst.detach().max())
    if low < 0 or high > 1:
        raise Mismatch(f"x_reconst holds values in [{low:.3g}, {high:.3g}]; the cross-entropy "
                       "needs probabilities: end the decoder with a sigmoid")
    (dx,) = torch.autograd.grad(x_reconst.sum(), (x,), allow_unused=True)
    if dx is None or not bool(dx.abs().sum() > 0):
        raise Mismatch("no gradient flows from x_reconst back to the encoder: sample z with "
                       "the reparameterisation, z = μ + σ ε")
    again = model(x.detach())[0]
    if torch.equal(again, x_reconst.detach()):
        raise Mismatch("x_reconst is the same on two calls in train mode: is z sampled "
                       "(reparameterize), or is the decoder fed μ?")


PIECES = (
    Piece("kl_div", "Question 4.1", "vae", check_kl_div,
          "kl_div: −½ Σ (1 + log σ² − μ² − σ²) and its gradients"),
    Piece("reparameterize", "Question 4.2", "vae", check_reparameterize,
          "reparameterize: z = μ + exp(½ log_var) ε, gradients, ε ~ N(0, I) fresh per entry"),
    Piece("reconst_loss", "Question 4.3", "vae", check_reconst_loss,
          "reconst_loss: Bernoulli cross-entropy summed over pixels, and its gradient"),
    Piece("loss", "Question 4.3", "vae", check_loss,
          "loss = reconst_loss + kl_div: both reduced over the batch the same way"),
    Piece("vae", "§5.1", "vae", check_vae,
          "VAE: x_reconst, mu, log_var; probabilities; gradients through the sample"),
)
