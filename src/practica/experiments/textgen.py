r"""Character-level text generation (CVbL 2019 §3.4; IIT-H CS6360 A2 §2).

* ``textgen-lstm`` — a two-layer LSTM (128 units) predicting the next character of a book,
  trained on random 30-character windows with the mean cross-entropy over all timesteps
  (handout eq. 13). Defaults of the handout's starter: batch 64, Adam 2e-3 multiplied by
  0.96 every 5000 steps, gradient norm clipped to 5. At 5 evenly spaced points it writes
  sentences of 30 characters from a random first character; at the end, long samples at
  several temperatures, prompt completions and beam-search completions. ``text`` picks the
  corpus: ``tinyshakespeare`` (default), ``grimm`` or a path.
* ``minchar-rnn`` — min-char-rnn in NumPy (hidden 100, 25-character chunks, Adagrad 0.1,
  gradients clipped to [−5, 5]) on ``shakespeare_train.txt``; then, with the provided
  snapshot ``char-rnn-snapshot.npz`` (loaded without running pickles), samples at several
  temperatures, string completions and the analysis of the weights that put a newline or a
  space after ':' (and that put 'u' after 'q').

Losses are in nats per character; ``bits_per_char = loss / ln 2``.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..config import non_negative, option, positive
from ..context import RunContext
from ..data.char_rnn_snapshot import load_snapshot
from ..data.store import data_roots
from ..data.text import CORPORA, TextDataset, locate_corpus
from ..errors import ConfigError, TrainingDiverged
from ..models.char_lstm import CharLSTM
from ..numpy_nn.char_rnn import Adagrad, CharRNN, Sweep, clip_grads, mean_loss
from ..records.atomic import atomic_write_text
from ..report.html import esc
from ..text import sampling
from ..text.explain import explain, format_explanation
from ..text.lstm import Generator, save_generator
from ..train import LoopConfig
from ..train.array_checkpoint import load_arrays, save_arrays
from ..train.optim import make_schedule
from .base import Experiment, Target
from .classify import flatten
from .recurrent import chunk_trainer, cpu_threads

LN2 = math.log(2.0)
DEFAULT_SNAPSHOT = "min-char-rnn/char-rnn-snapshot.npz"
HANDOUT_LSTM = "CVbL 2019 §3.4 (question 3.6: LSTM text generation)"
HANDOUT_MINCHAR = "IIT-H CS6360 A2 §2 (min-char-rnn: temperature, completion, weights)"
#: Prompts completed at the end of a run, per named corpus (others: the first of these).
PROMPTS = {
    "tinyshakespeare": ["ROMEO:\n", "KING HENRY:\nMy lords, ", "The duke "],
    "grimm": ["Sleeping beauty is", "The wolf said to the", "Once upon a time "],
    "minchar-shakespeare": ["ROMEO:\n", "The duke ", "First Citizen:\n"],
}
TEMPERATURES = (0.0, 0.5, 1.0, 2.0)


def pre(text: str) -> str:
    return f"<pre>{esc(text)}</pre>"


# --- textgen-lstm --------------------------------------------------------------------------

@dataclass
class TextGenConfig:
    text: str = option("tinyshakespeare", f"corpus: {', '.join(CORPORA)} or the path of a "
                       "UTF-8 text file")
    seq_length: int = positive("characters per training window (BPTT length)", 30)
    batch_size: int = positive("windows per batch", 64)
    lr: float = positive("Adam learning rate", 2e-3)
    lr_decay: float = positive("multiply the learning rate by this every lr_step steps", 0.96)
    lr_step: int = positive("steps between learning-rate decays", 5000)
    clip_grad_norm: float = non_negative("clip the gradient norm to this (0: off)", 5.0)
    hidden: int = positive("LSTM units per layer", 128)
    layers: int = positive("stacked LSTM layers", 2)
    embed_dim: int = non_negative("character embedding size (0: one-hot inputs)", 0)
    dropout: float = option(0.0, "dropout between the LSTM layers and before the output "
                            "layer (0: none, as the handout)", check=lambda v: 0 <= v < 1,
                            check_msg="must be in [0, 1)")
    schedule: str = option("step", "learning rate: step (× lr_decay every lr_step steps, the "
                           "starter's) or cosine (to 0 over the steps)",
                           choices=("step", "cosine"))
    steps: int = positive("training steps (~7 min on one CPU thread)", 10000)
    eval_every: int = positive("evaluate on the validation part every this many steps", 500)
    val_fraction: float = option(0.1, "the last this fraction of the text is validation",
                                 check=lambda v: 0 < v < 1, check_msg="must be in (0, 1)")
    val_windows: int = non_negative("validation windows per evaluation (0: all)", 2000)
    sample_points: int = positive("evenly spaced points of training at which to sample", 5)
    sample_count: int = positive("sentences per sample point", 3)
    sample_length: int = positive("characters per sentence during training", 30)
    final_length: int = positive("characters per sample at the end", 300)
    temperatures: list[float] = option(list(TEMPERATURES), "temperatures T of the final "
                                       "samples (softmax(logits / T); 0: greedy)",
                                       check=lambda v: v >= 0, check_msg="must be >= 0")
    prompts: list[str] = option([], "prompts to complete at the end (empty: per corpus; "
                                "quote prompts with spaces or commas as a TOML array: "
                                "--set 'prompts=[\"O, \", \"The king \"]')")
    beam_width: int = non_negative("beam width of the beam-search completions (0: none)", 5)
    beam_length: int = positive("characters per beam-search completion", 60)
    threads: int = non_negative("CPU threads (0: torch's default)", 1)


def check_prompts(prompts: list[str], vocab: Sequence[str]) -> None:
    """Refuse, before training, a prompt with characters the corpus never holds."""
    known = set(vocab)
    for prompt in prompts:
        unknown = sorted({c for c in prompt if c not in known})
        if unknown:
            raise ConfigError(f"prompt {prompt!r} has characters the corpus never uses: "
                              f"{''.join(unknown)!r}; change the prompt or the text")


def corpus_prompts(cfg_text: str, configured: list[str], text: str) -> list[str]:
    """The configured prompts, else the named corpus's, else the text's first 20 characters."""
    return list(configured) or PROMPTS.get(cfg_text) or [text[:20]]


class WindowEvaluator:
    """Loss (nats and bits/char) and next-character accuracy on fixed validation windows."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch: int = 500) -> None:
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)
        self.batch = batch

    def __call__(self, model: CharLSTM) -> dict[str, dict[str, float]]:
        total, correct, count = 0.0, 0, 0
        for s in range(0, len(self.x), self.batch):
            x = self.x[s: s + self.batch].to(model.head.weight.device)
            y = self.y[s: s + self.batch].to(x.device)
            logits, _ = model(x)
            total += float(F.cross_entropy(logits.float().flatten(0, 1), y.flatten(),
                                           reduction="sum"))
            correct += int((logits.argmax(-1) == y).sum())
            count += y.numel()
        loss = total / count
        return {"val": {"loss": loss, "bits_per_char": loss / LN2, "accuracy": correct / count}}


def lm_loss(model: CharLSTM, batch: tuple[torch.Tensor, torch.Tensor]):
    """Mean cross-entropy over every timestep and window (eq. 13), bits/char, accuracy."""
    x, y = batch
    logits, _ = model(x)
    loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten())
    accuracy = (logits.argmax(-1) == y).float().mean()
    return loss, {"bits_per_char": loss.detach() / LN2, "accuracy": accuracy}


def training_samples(gen: Generator, seed: int, step: int, count: int, length: int
                     ) -> list[dict[str, str]]:
    """``count`` sentences from random first characters: greedy and at T = 1."""
    rng = np.random.default_rng([seed, step, 1])
    out = []
    for _ in range(count):
        first = int(rng.integers(gen.model.vocab_size))
        row = {"first": gen.vocab[first]}
        for name, t in (("greedy", 0.0), ("T=1", 1.0)):
            ids = sampling.generate(gen.model.step, None, [first], length - 1, rng, t)
            row[name] = gen.vocab[first] + gen.decode(ids)
        out.append(row)
    return out


def format_training_samples(samples: dict[str, list[dict[str, str]]]) -> str:
    lines = []
    for step, rows in sorted(samples.items(), key=lambda kv: int(kv[0])):
        lines.append(f"== step {step} ==")
        for row in rows:
            for name in ("greedy", "T=1"):
                lines.append(f"  {name:>6}: {row[name]!r}")
    return "\n".join(lines)


def run_textgen(cfg: TextGenConfig, ctx: RunContext) -> dict[str, float]:
    with cpu_threads(cfg.threads):
        path = locate_corpus(cfg.text, ctx.settings.data_dir)
        data = TextDataset(path, cfg.seq_length, val_fraction=cfg.val_fraction)
        check_prompts(corpus_prompts(cfg.text, cfg.prompts, data.text), data.vocab)
        ctx.run.write_json("vocab.json", list(data.vocab))
        torch.manual_seed(ctx.settings.seed)
        model = CharLSTM(data.vocab_size, cfg.hidden, cfg.layers, cfg.embed_dim,
                         dropout=cfg.dropout)
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        scheduler = (torch.optim.lr_scheduler.StepLR(optimizer, cfg.lr_step, cfg.lr_decay)
                     if cfg.schedule == "step" else make_schedule("cosine", optimizer, cfg.steps))

        def batch_at(step: int) -> tuple[torch.Tensor, torch.Tensor]:
            x, y = data.batch(cfg.batch_size, np.random.default_rng([ctx.settings.seed, step]))
            return torch.from_numpy(x), torch.from_numpy(y)

        trainer = chunk_trainer(ctx, model, optimizer, batch_at, lm_loss,
                                WindowEvaluator(*data.val_windows(cfg.val_windows)),
                                LoopConfig(steps=cfg.steps, eval_every=cfg.eval_every,
                                           clip_grad_norm=cfg.clip_grad_norm or None),
                                scheduler=scheduler, name="textgen-lstm")
        gen = Generator(model, data.vocab)
        samples_path = ctx.run.path / "samples_during_training.json"
        samples: dict[str, list[dict[str, str]]] = (
            json.loads(samples_path.read_text()) if ctx.resuming and samples_path.is_file()
            else {})
        points = sorted({max(1, round(cfg.steps * k / cfg.sample_points))
                         for k in range(1, cfg.sample_points + 1)})
        final: dict[str, dict[str, float]] = {}
        for point in points:
            trainer.loop.steps = point
            final = trainer.fit()
            if str(point) not in samples:
                model.eval()
                samples[str(point)] = training_samples(gen, ctx.settings.seed, point,
                                                       cfg.sample_count, cfg.sample_length)
                ctx.run.write_json(samples_path.name, samples)
        model.eval()
        save_generator(ctx.run.path / "model.pt", model, data.vocab, cfg.embed_dim)
        during = format_training_samples(samples)
        final_text = final_samples(gen, cfg, ctx.settings.seed, data.text)
    atomic_write_text(
        ctx.run.path / "samples.txt",
        f"Samples during training (30 characters from a random first character)\n{during}\n\n"
        f"{final_text}\n")
    ctx.report_sections["Samples during training"] = pre(during)
    ctx.report_sections["Samples and completions of the trained model"] = pre(final_text)
    ctx.summary_extra.update(corpus=str(path), characters=len(data.data),
                             vocab_size=data.vocab_size,
                             parameters=sum(p.numel() for p in model.parameters()))
    return flatten(final)


def final_samples(gen: Generator, cfg: TextGenConfig, seed: int, text: str) -> str:
    """Completions of each prompt at each temperature, and beam-search completions."""
    lines = ["Temperature T: p = softmax(logits / T) (T = 0: greedy; the min-char-rnn "
             "handout's alpha = 1/T)."]
    for k, prompt in enumerate(corpus_prompts(cfg.text, cfg.prompts, text)):
        for t in cfg.temperatures:
            more = gen.complete(prompt, cfg.final_length, temperature=t, seed=seed + k)
            lines += ["", f"--- prompt {prompt!r}, T = {t:g} ---", prompt + more]
        if cfg.beam_width:
            best, score = gen.beam(prompt, cfg.beam_length, cfg.beam_width)[0]
            lines += ["", f"--- prompt {prompt!r}, beam search (width {cfg.beam_width}), "
                      f"log p = {score:.2f} nats ---", prompt + best]
    return "\n".join(lines)


# --- minchar-rnn ---------------------------------------------------------------------------

@dataclass
class MinCharConfig:
    text: str = option("minchar-shakespeare", f"corpus: {', '.join(CORPORA)} or a path")
    hidden: int = positive("hidden units", 100)
    seq_length: int = positive("characters per BPTT chunk", 25)
    lr: float = positive("Adagrad learning rate", 0.1)
    clip: float = positive("clip every gradient element to [-clip, clip]", 5.0)
    steps: int = positive("training iterations (chunks of seq_length characters)", 50000)
    eval_every: int = positive("evaluate every this many iterations", 5000)
    val_fraction: float = option(0.1, "the last this fraction of the text is validation",
                                 check=lambda v: 0 < v < 1, check_msg="must be in (0, 1)")
    val_chars: int = non_negative("validation characters per evaluation (0: all)", 20000)
    snapshot: str = option(DEFAULT_SNAPSHOT, "the trained snapshot to "
                           "analyse (a path, or one under the data roots; empty: skip)")
    temperatures: list[float] = option([0.0, 0.5, 1.0, 1.5], "temperatures of the samples",
                                       check=lambda v: v >= 0, check_msg="must be >= 0")
    sample_length: int = positive("characters per sample", 300)
    prompts: list[str] = option(["ROMEO:\n", "First Citizen:\n", "The king ", "O, ",
                                 "What is "], "starter strings to complete")
    primer_chars: int = positive("start sampling from the state after reading this many "
                                 "characters of the corpus (cut at a blank line)", 300)
    top_units: int = positive("hidden units to name and ablate in the weight analysis", 5)


def find_snapshot(name: str, data_dir: str | None) -> Path | None:
    if not name:
        return None
    path = Path(name).expanduser()
    if path.is_file():
        return path
    for root in data_roots(data_dir):
        if (root / name).is_file():
            return root / name
    return None


def primer(text: str, chars: int) -> str:
    """The corpus's first ``chars`` characters, cut after the last blank line in them."""
    head = text[:chars]
    cut = head.rfind("\n\n")
    return head[: cut + 2] if cut > 0 else head


def rnn_samples(model: CharRNN, chars: tuple[str, ...], temperatures: list[float],
                prompts: list[str], length: int, seed: int, primer_text: str) -> str:
    """Samples and completions, starting from the state after reading ``primer_text``.

    A min-char-rnn is trained with its state carried through the whole text, so the zero
    state is one it has (almost) never seen; the provided snapshot produces gibberish from
    it ("The king" -> "kzzz…") and sensible text from the state after a few lines.
    """
    table = {c: i for i, c in enumerate(chars)}
    ids = [table[c] for c in primer_text if c in table]
    h_before = (sampling.feed(model.step, model.zero_state(), ids[:-1])[1] if len(ids) > 1
                else model.zero_state())
    h_primed = model.step(ids[-1], h_before)[1]
    lines = ["Temperature T: p = softmax(y / T), i.e. the handout's alpha = 1/T "
             "(T = 0: greedy).",
             f"The state starts as the one after reading the corpus's first {len(ids)} "
             "characters (see below)."]
    for t in temperatures:
        rng = np.random.default_rng([seed, 2])
        out = sampling.generate(model.step, h_before, ids[-1:], length, rng, t)
        lines += ["", f"--- sample, T = {t:g} ---", "".join(chars[i] for i in out)]
    for k, prompt in enumerate(prompts):
        usable = "".join(c for c in prompt if c in table)
        if not usable:
            continue
        rng = np.random.default_rng([seed, 3, k])  # shared draws would sync the texts
        out = sampling.generate(model.step, h_primed, [table[c] for c in usable],
                                length // 2, rng, 0.5)
        lines += ["", f"--- completion of {usable!r}, T = 0.5 ---",
                  usable + "".join(chars[i] for i in out)]
    return "\n".join(lines)


def checked_snapshot(cfg: MinCharConfig, data_dir: str | None) -> tuple[Path | None, Any]:
    """The snapshot to study, found and read before any training: a path the user gave
    that is missing or unreadable stops the run now, not after 50,000 iterations; the
    default one, when absent, is skipped with a warning."""
    path = find_snapshot(cfg.snapshot, data_dir)
    if path is None:
        if cfg.snapshot and cfg.snapshot != DEFAULT_SNAPSHOT:
            raise ConfigError(f"snapshot {cfg.snapshot} not found (looked as a path and under "
                              "the data roots); fix the path or set snapshot= to skip it")
        if cfg.snapshot:
            warnings.warn(f"minchar-rnn: no {DEFAULT_SNAPSHOT} in the data roots; the "
                          "snapshot's samples and weight analysis are skipped", stacklevel=2)
        return None, None
    return path, load_snapshot(path)


def run_minchar(cfg: MinCharConfig, ctx: RunContext) -> dict[str, float]:
    seed = ctx.settings.seed
    snap_path, snap = checked_snapshot(cfg, ctx.settings.data_dir)
    data = TextDataset(locate_corpus(cfg.text, ctx.settings.data_dir), cfg.seq_length,
                       val_fraction=cfg.val_fraction)
    model = CharRNN(data.vocab_size, cfg.hidden, seed=seed)
    optim = Adagrad(model.params, cfg.lr)
    sweep = Sweep(data.train, cfg.seq_length, cfg.hidden)
    val = data.val[: cfg.val_chars or None]
    step, smooth = 0, -math.log(1.0 / data.vocab_size)  # min-char-rnn's smoothed loss
    ckpt = ctx.run.checkpoints / "last.npz"
    if ctx.resuming and ckpt.is_file():
        state = load_arrays(ckpt)
        model.params.update(state["params"])
        optim.memory.update(state["memory"])
        step, smooth = int(state["step"]), float(state["smooth"])
        sweep.position, sweep.h = int(state["position"]), state["h"]
        ctx.run.truncate_metrics(step)
    else:
        v0 = mean_loss(model, val)
        ctx.run.log(0, "val", {"loss": v0, "bits_per_char": v0 / LN2})
    window = 0.0
    while step < cfg.steps:
        inputs, targets, h = sweep.next()
        loss, grads, sweep.h = model.loss_and_grads(inputs, targets, h)
        clip_grads(grads, cfg.clip)
        optim.step(model.params, grads)
        step += 1
        per_char = loss / cfg.seq_length
        smooth = 0.999 * smooth + 0.001 * per_char
        window += per_char
        if not math.isfinite(loss):
            raise TrainingDiverged(f"min-char-rnn loss became {loss} at iteration {step}; "
                                   "try a lower lr")
        if step % cfg.eval_every == 0 or step == cfg.steps:
            n = cfg.eval_every if step % cfg.eval_every == 0 else step % cfg.eval_every
            v = mean_loss(model, val)
            ctx.run.log(step, "train", {"loss": window / n, "bits_per_char": window / n / LN2,
                                        "smooth_loss": smooth})
            ctx.run.log(step, "val", {"loss": v, "bits_per_char": v / LN2})
            window = 0.0
            save_arrays(ckpt, {"params": model.params, "memory": optim.memory, "step": step,
                               "smooth": smooth, "position": sweep.position, "h": sweep.h})
    v = mean_loss(model, val)
    save_arrays(ctx.run.path / "model.npz", {"params": model.params,
                                             "vocab": "".join(data.vocab)})
    sections = {"Samples of the model trained here":
                rnn_samples(model, data.vocab, cfg.temperatures, cfg.prompts,
                            cfg.sample_length, seed, primer(data.text, cfg.primer_chars))}
    metrics = {"val/loss": v, "val/bits_per_char": v / LN2, "train/smooth_loss": smooth}
    if snap_path is not None:
        rnn = CharRNN.from_params(snap.params())
        sections["Samples of the provided snapshot"] = rnn_samples(
            rnn, snap.chars, cfg.temperatures, cfg.prompts, cfg.sample_length, seed,
            primer(data.text, cfg.primer_chars))
        table = snap.char_to_ix
        corpus = np.array([table[c] for c in data.text if c in table])
        sv = mean_loss(rnn, corpus[len(data.train):][: cfg.val_chars or None])
        metrics.update({"snapshot/val_loss": sv, "snapshot/val_bits_per_char": sv / LN2})
        for after, targets in ((":", "\n "), ("q", "u")):
            if any(c not in table for c in after + targets):
                continue
            e = explain(snap.params(), snap.chars, corpus, after, targets, top=cfg.top_units,
                        seed=seed)
            sections[f"Snapshot weights behind {targets!r} after {after!r}"] = \
                format_explanation(e)
            key = "colon" if after == ":" else "q"
            metrics[f"snapshot/{key}/p_before"] = e.ablations["original"]["p(S)"]
            metrics[f"snapshot/{key}/p_after_ablation"] = \
                e.ablations["Why[S, top units] = 0"]["p(S)"]
        ctx.summary_extra["snapshot"] = str(snap_path)
    text = "\n\n".join(f"===== {k} =====\n{v}" for k, v in sections.items())
    atomic_write_text(ctx.run.path / "samples.txt", text + "\n")
    for k, body in sections.items():
        ctx.report_sections[k] = pre(body)
    return metrics


EXPERIMENTS = [
    Experiment(
        name="textgen-lstm",
        handout=HANDOUT_LSTM,
        description="two-layer LSTM (128) character model of a book (tiny-shakespeare; "
                    "text=grimm or a path): Adam 2e-3, seq 30, batch 64; samples during "
                    "training, temperatures, completions, beam search",
        config_cls=TextGenConfig,
        run=run_textgen,
        target=Target("val/bits_per_char", 2.4, "issue 6 goal for tiny-shakespeare (readable "
                      "text; the handout gives no figure)", higher_is_better=False),
        datasets=("text",),
        smoke={"steps": 40, "eval_every": 20, "val_windows": 50, "sample_count": 1,
               "final_length": 40, "beam_width": 2, "beam_length": 10, "hidden": 32,
               "temperatures": [0.0, 1.0]},
    ),
    Experiment(
        name="textgen-lstm-best",
        beyond=True,
        handout=HANDOUT_LSTM + " (a character LSTM at the level of the field)",
        description="two-layer LSTM (384) with a 64-d embedding and dropout 0.25 on "
                    "tiny-shakespeare, 100-character windows, batch 32, Adam 2e-3 with cosine "
                    "decay, 8000 steps (~40 min on one thread); the whole validation part",
        config_cls=TextGenConfig,
        run=run_textgen,
        target=Target("val/loss", 1.47, "issue 21: nanoGPT's character model, 1.4697 "
                      "nats/char on the same 90/10 split", higher_is_better=False),
        datasets=("text",),
        defaults={"hidden": 384, "embed_dim": 64, "dropout": 0.25, "seq_length": 100,
                  "batch_size": 32, "schedule": "cosine", "steps": 8000, "val_windows": 0},
        smoke={"steps": 40, "eval_every": 20, "val_windows": 50, "sample_count": 1,
               "final_length": 40, "beam_width": 2, "beam_length": 10, "hidden": 32,
               "embed_dim": 8, "seq_length": 30, "temperatures": [0.0, 1.0]},
    ),
    Experiment(
        name="minchar-rnn",
        handout=HANDOUT_MINCHAR,
        description="min-char-rnn in NumPy (hidden 100, seq 25, Adagrad 0.1, clip ±5) on "
                    "shakespeare_train.txt; snapshot samples, completions and the weights "
                    "behind a newline/space after ':'",
        config_cls=MinCharConfig,
        run=run_minchar,
        target=None,
        datasets=("text",),
        smoke={"steps": 200, "eval_every": 100, "val_chars": 2000, "sample_length": 60},
    ),
]
