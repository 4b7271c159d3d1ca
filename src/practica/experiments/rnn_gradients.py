r"""How far back the loss reaches: ‖∂L/∂h(t)‖ over t, vanilla RNN vs LSTM (CVbL 2019 §3.2–3.3).

Question 3.1 asks for ``∂L/∂W_hh``: by the chain rule it sums, over t, terms holding

    ∂L/∂h(t) = ∂L/∂h(T) · ∏_{k=t+1}^{T} ∂h(k)/∂h(k−1),
    ∂h(k)/∂h(k−1) = diag(1 − h(k)²) W_hh                         (vanilla RNN)

a product of ``T − t`` Jacobians, which shrinks (or grows) geometrically with ``T − t``.
The LSTM's cell path ``c(k) = … + c(k−1) ⊙ f(k)`` multiplies by the forget gate instead,
which can stay close to 1.

This experiment measures it: for palindromes with a 100-digit input (``T = 101``), the
cross-entropy of the last step, summed over a batch, is differentiated with respect to every
hidden state ``h(t)``; the plot shows the mean over examples of ``‖∂L_n/∂h_n(t)‖₂`` on a log
scale, for both models at initialisation and after training. Training uses the handout's
``part1/train.py`` defaults — input length 10 (``T = 11``), 10000 steps, RMSProp 1e-3 — as a
sub-run of ``palindrome-point``; the weights do not depend on the length, so the trained
cell is then unrolled over the 100-step input. (``train_length=101`` trains on the measured
task itself; neither model learns it, so the curves barely move.) The norms are computed in
float64, so the tail of the curves does not underflow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..config import non_negative, option, positive
from ..context import RunContext
from ..data.palindromes import ENCODINGS, PalindromeDataset
from ..models.rnn import LSTM, VanillaRNN
from ..records.atomic import save_figure
from ..train import load_checkpoint
from .base import Experiment, child
from .palindromes import MODELS, POINT, PalindromeConfig, build_model, model_seed
from .recurrent import cpu_threads


def unroll(model: nn.Module, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The hidden states ``h(1) … h(T)`` and the logits ``p(T)``, exactly as ``model(x)``."""
    if not isinstance(model, (VanillaRNN, LSTM)):
        raise TypeError(f"expected a VanillaRNN or LSTM, got {type(model).__name__}")
    x = model._prepare_input(x, model.W_ph.dtype)
    h = x.new_zeros(x.shape[0], model.num_hidden)
    c = torch.zeros_like(h)
    states = []
    for t in range(model.seq_length):
        if isinstance(model, LSTM):
            h, c = model.step(x[:, t], h, c)
        else:
            h = model.step(x[:, t], h)
        states.append(h)
    return states, h @ model.W_ph.T + model.b_p


def hidden_gradient_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """``mean_n ‖∂L_n/∂h_n(t)‖₂`` for ``t = 1 … T`` (index ``t − 1``), L the last-step loss.

    The loss is summed over the batch, so the gradient at example ``n`` is that of its own
    loss ``L_n`` alone (``h_n`` reaches no other example's loss).
    """
    states, logits = unroll(model, x)
    loss = F.cross_entropy(logits, y, reduction="sum")
    grads = torch.autograd.grad(loss, states)
    return np.array([float(g.norm(dim=1).mean()) for g in grads])


@dataclass
class GradientsConfig:
    length: int = option(100, "input length: the palindromes have length + 1 digits",
                         check=lambda v: v >= 1, check_msg="must be >= 1")
    models: list[str] = option(["rnn", "lstm"], "models to compare",
                               check=lambda v: v in MODELS, check_msg="must be rnn or lstm")
    encoding: str = option("digit", "input encoding (as palindrome-rnn)", choices=ENCODINGS)
    hidden: int = positive("hidden units", 128)
    batch_size: int = positive("palindromes per training batch", 128)
    lr: float = positive("RMSProp learning rate", 1e-3)
    clip_grad_norm: float = non_negative("clip the gradient norm to this (0: off)", 10.0)
    train_length: int = option(11, "palindrome length T the models are trained on (the "
                               "handout's train.py: input length 10)",
                               check=lambda v: v >= 2, check_msg="must be >= 2")
    train_steps: int = non_negative("training steps before the second measurement "
                                    "(0: initialisation only)", 10000)
    eval_every: int = positive("evaluate the training runs every this many steps", 500)
    measure_size: int = positive("palindromes the gradient norms are averaged over", 256)
    threads: int = non_negative("CPU threads (0: torch's default)", 1)


def run_gradients(cfg: GradientsConfig, ctx: RunContext) -> dict[str, float]:
    curves: dict[str, np.ndarray] = {}
    out: dict[str, float] = {}
    for model_name in cfg.models:
        point = PalindromeConfig(
            model=model_name, length=cfg.train_length, encoding=cfg.encoding, hidden=cfg.hidden,
            batch_size=cfg.batch_size, lr=cfg.lr, clip_grad_norm=cfg.clip_grad_norm,
            steps=max(cfg.train_steps, 1), eval_every=min(cfg.eval_every,
                                                          max(cfg.train_steps, 1)),
            val_size=1000, test_size=2000, threads=cfg.threads)
        seed = model_seed(ctx.settings.seed, point.replicate)
        measure = PalindromeDataset(cfg.length + 1, seed=seed, encoding=cfg.encoding,
                                    stream="gradients").fixed_set(cfg.measure_size)
        # the sub-run starts from these weights (they do not depend on the length)
        states = {"init": build_model(point, seed, seq_length=cfg.length)}
        if cfg.train_steps:
            summary = child(ctx, model_name, POINT, point)
            out[f"{model_name}/trained/test_accuracy"] = summary["metrics"]["test/accuracy"]
            trained = build_model(point, seed, seq_length=cfg.length)
            ckpt = ctx.run.path / "children" / model_name / "checkpoints" / "last.pt"
            trained.load_state_dict(load_checkpoint(ckpt)["model"])
            states["trained"] = trained
        with cpu_threads(cfg.threads):
            for state, model in states.items():
                norms = hidden_gradient_norms(model.double(), *measure)
                key = f"{model_name}/{state}"
                curves[key] = norms
                for t, v in enumerate(norms, 1):
                    ctx.run.log(t, key, {"grad_h_norm": v})
                out[f"{key}/grad_norm_t1"] = float(norms[0])
                out[f"{key}/grad_norm_tT"] = float(norms[-1])
                out[f"{key}/log10_ratio_tT_t1"] = _log10_ratio(norms[-1], norms[0])
    plot_gradients(curves, ctx.run.plots / "grad_norm_over_time.png", cfg.length,
                   cfg.train_length)
    ctx.standard_plots = False
    return out


def _log10_ratio(a: float, b: float) -> float:
    """log10(a / b): how many orders of magnitude the gradient shrinks from t = T to t = 1."""
    if b <= 0:
        return math.inf
    return math.log10(a / b) if a > 0 else -math.inf


def plot_gradients(curves: dict[str, np.ndarray], path, length: int,
                   train_length: int) -> None:
    """``‖∂L/∂h(t)‖`` against t on a log axis; dashed at initialisation, solid after training."""
    import matplotlib.pyplot as plt

    from ..report import plots  # noqa: F401 - selects the Agg backend

    colours = {"rnn": "tab:blue", "lstm": "tab:orange"}
    fig, ax = plt.subplots(figsize=(7, 4.4), dpi=110)
    for key, norms in curves.items():
        model, state = key.split("/")
        t = np.arange(1, len(norms) + 1)
        keep = norms > 0  # a log axis cannot show an exact zero
        ax.plot(t[keep], norms[keep], "--" if state == "init" else "-",
                color=colours.get(model), label=f"{model.upper()}, "
                f"{'at initialisation' if state == 'init' else f'trained on T = {train_length}'}")
    ax.set_yscale("log")
    ax.set(xlabel="time step t (the loss is at the last step)",
           ylabel="mean ‖∂L/∂h(t)‖ (log scale)",
           title=f"Gradient reaching h(t), input length {length}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path)
    plt.close(fig)


EXPERIMENTS = [Experiment(
    name="rnn-gradients",
    handout="CVbL 2019 §3.2 Q3.1 (BPTT, vanishing gradients), §3.3",
    description="‖∂L/∂h(t)‖ over t for a 100-step palindrome input, RNN vs LSTM, at "
                "initialisation and after training (T = 11, 10000 steps), on a log scale",
    config_cls=GradientsConfig,
    run=run_gradients,
    smoke={"train_steps": 20, "eval_every": 10, "measure_size": 64},
)]
