r"""Tweet sentiment with a character-level LSTM (Waterloo A5 §3).

Each tweet is a sequence of ASCII characters, each a one-hot vector ``x(t) ∈ {0,1}^128``
(non-ASCII characters become the placeholder SUB, see :mod:`practica.data.tweets`). An LSTM
with 128 hidden units reads it; a linear layer maps its final state to two scores and a
softmax gives the class probabilities::

    h(t), c(t) = LSTM(x(t), h(t−1), c(t−1)),   ŷ = softmax(W h(T_n) + b),   L = −log ŷ_y

Handout settings: batch 32, learning rate 1e-4, at least 100000 iterations, accuracy on the
test and training sets every 1000 iterations. The handout allows "stochastic gradient
descent or any related optimization algorithm"; plain SGD at 1e-4 barely moves in 100000
steps, so the default is Adam.

The handout's run draws random batches. ``batching=bucketed`` (the tuned variants') cuts each
epoch's shuffled tweets into pools of 50 batches, sorts each pool by length, cuts it into
batches and shuffles the batches: every tweet is still seen once per epoch, but a batch is
padded little, so training runs over about half as many characters.

Tweets in a batch have different lengths: they are padded at the end, and ``T_n`` is tweet
``n``'s own length — the final state is read at its last character, so padding never enters
it (``padding=gather`` runs the LSTM over the padded batch and picks that state,
``padding=pack`` packs the sequences; both give the same result).

The curves: ``train`` is the running accuracy over the 1000 training batches since the last
point, ``train-sample`` a fixed random sample of training tweets evaluated like the test
set, ``test`` the whole test set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pad_sequence

from ..config import non_negative, option, positive
from ..context import RunContext
from ..data import tweets
from ..errors import ConfigError
from ..report.plots import xy_plot
from ..train import BucketedBatches, EpochBatches, LoopConfig, Trainer, to_device
from ..train.optim import OPTIMIZERS, SCHEDULES, make_optimizer, make_schedule
from .base import Experiment, Target, child
from .classify import flatten
from .recurrent import LSTMClassifier, cpu_threads


class CharLSTM(nn.Module):
    """ASCII codes → one-hot (or a learned embedding) → LSTM → linear → log-probabilities.

    The handout's model is the default: one-hot inputs, one layer, one direction. The
    options of a tuned variant: ``embedding`` (a learned ``n_chars × embedding`` table in
    place of the one-hot vectors), ``layers``, ``bidirectional`` (the final states of both
    directions, concatenated; needs packed sequences so that the backward direction starts
    at each tweet's own last character) and ``dropout`` (on the inputs of every LSTM layer
    and of the linear layer).
    """

    def __init__(self, hidden: int = 128, *, padding: str = "gather",
                 n_chars: int = tweets.N_CHARS, classes: int = 2, embedding: int = 0,
                 layers: int = 1, bidirectional: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        self.n_chars = n_chars
        self.embed = nn.Embedding(n_chars, embedding) if embedding else None
        self.drop = nn.Dropout(dropout) if dropout else nn.Identity()
        self.net = LSTMClassifier(embedding or n_chars, hidden, classes, padding=padding,
                                  log_probs=True, layers=layers, bidirectional=bidirectional,
                                  dropout=dropout)

    def forward(self, codes: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``codes`` (N, L) padded character codes, ``lengths`` (N,) → log-probs (N, 2)."""
        x = self.embed(codes.long()) if self.embed is not None else \
            F.one_hot(codes.long(), self.n_chars).float()
        return self.net(self.drop(x), lengths)


Encoded = list[torch.Tensor]


def pad_batch(codes: Encoded, index: torch.Tensor | list[int]
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """The tweets ``index`` padded at the end with zeros: (codes (N, L), lengths (N,))."""
    chosen = [codes[int(i)] for i in index]
    lengths = torch.tensor([len(c) for c in chosen], dtype=torch.long)
    return pad_sequence(chosen, batch_first=True), lengths


def nll_step(model: nn.Module, batch):
    """The Trainer's loss: mean negative log-likelihood and batch accuracy."""
    codes, lengths, y = batch
    log_probs = model(codes, lengths)
    return F.nll_loss(log_probs.float(), y), {
        "accuracy": (log_probs.argmax(1) == y).float().mean()}


class TweetEvaluator:
    """Loss and accuracy on fixed sets of tweets, batched by length (little padding)."""

    def __init__(self, sets: dict[str, tuple[Encoded, torch.Tensor]], ctx: RunContext,
                 batch_size: int = 500) -> None:
        self.ctx, self.batches = ctx, {}
        for name, (codes, labels) in sets.items():
            order = sorted(range(len(codes)), key=lambda i: len(codes[i]))
            self.batches[name] = [
                (*pad_batch(codes, order[s:s + batch_size]),
                 labels[order[s:s + batch_size]]) for s in range(0, len(order), batch_size)]

    def __call__(self, model: nn.Module) -> dict[str, dict[str, float]]:
        out = {}
        for name, batches in self.batches.items():
            loss, correct, n = 0.0, 0, 0
            for batch in batches:
                codes, lengths, y = to_device(batch, self.ctx)
                log_probs = model(codes, lengths).float()
                loss += float(F.nll_loss(log_probs, y, reduction="sum"))
                correct += int((log_probs.argmax(1) == y).sum())
                n += len(y)
            out[name] = {"loss": loss / n, "accuracy": correct / n}
        return out


@dataclass
class TweetConfig:
    hidden: int = positive("LSTM hidden units", 128)
    batch_size: int = positive("tweets per batch", 32)
    optimizer: str = option("adam", "optimiser (the handout: SGD or a related algorithm)",
                            choices=OPTIMIZERS)
    lr: float = positive("learning rate", 1e-4)
    steps: int = positive("training iterations (the handout: at least 100000)", 100_000)
    eval_every: int = positive("accuracy on the test set and the training sample every this "
                               "many iterations", 1000)
    clip_grad_norm: float = non_negative("clip the gradient norm to this (0: off)", 0.0)
    padding: str = option("gather", "how padded batches reach the final state: gather (read "
                          "the state at each tweet's end) or pack (packed sequences)",
                          choices=("gather", "pack"))
    embedding: int = non_negative("learned character embedding size (0: one-hot inputs, as "
                                  "the handout)", 0)
    layers: int = positive("stacked LSTM layers", 1)
    bidirectional: bool = option(False, "read each tweet in both directions (needs "
                                 "padding=pack)")
    dropout: float = option(0.0, "dropout on the inputs of each LSTM layer and of the linear "
                            "layer", check=lambda v: 0 <= v < 1, check_msg="must be in [0, 1)")
    weight_decay: float = non_negative("weight decay of the optimiser", 0.0)
    schedule: str = option("constant", "learning-rate schedule over the steps",
                           choices=SCHEDULES)
    warmup_steps: int = non_negative("linear warm-up steps of the schedule", 0)
    batching: str = option("random", "random batches, or bucketed: tweets of similar length "
                           "batched together, each still once per epoch (half the padding "
                           "work: 2.1–2.6× faster here, benchmarks/tweet_batching.py; the "
                           "tuned variants' default)", choices=("random", "bucketed"))
    train_limit: int = non_negative("train on this many training tweets (a fixed random "
                                    "subset; 0: all) — for a learning curve", 0)
    val_size: int = non_negative("training tweets held out as a validation set, evaluated "
                                 "like the test set, to choose settings on (0: none)", 0)
    train_sample: int = non_negative("training tweets (a fixed random sample) evaluated with "
                                     "the test set (0: none)", 5000)
    test_limit: int = non_negative("evaluate on the first N test tweets only (0: all)", 0)
    threads: int = non_negative("CPU threads (0: torch's default)", 1)


def split_training(n: int, val_size: int, train_limit: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices of the training tweets: a fixed permutation (seed 0,
    whatever the run's seed, so every run is judged on the same validation tweets) gives
    the last ``val_size`` to validation and the first ``train_limit`` of the rest (all when
    0) to training. A smaller ``train_limit`` is a subset of a larger one."""
    if val_size + 1 > n:
        raise ConfigError(f"val_size={val_size} leaves no training tweets (there are {n})")
    order = np.random.default_rng(0).permutation(n)
    val, rest = order[n - val_size:], order[:n - val_size]
    if train_limit > len(rest):
        raise ConfigError(f"train_limit={train_limit}: only {len(rest)} training tweets are "
                          f"left after the validation set")
    return np.sort(rest[:train_limit] if train_limit else rest), np.sort(val)


def run(cfg: TweetConfig, ctx: RunContext) -> dict[str, float]:
    s = ctx.settings
    if cfg.bidirectional and cfg.padding != "pack":
        raise ConfigError("bidirectional=true needs padding=pack (the backward direction "
                          "must start at each tweet's last character)")
    data = tweets.load(s.data_dir, offline=s.offline, progress=s.progress)
    with cpu_threads(cfg.threads):
        all_codes = [tweets.encode(t) for t in data.train.texts]
        all_y = torch.from_numpy(data.train.labels)
        keep, held_out = split_training(len(all_codes), cfg.val_size, cfg.train_limit)
        train_codes, train_y = [all_codes[i] for i in keep], all_y[keep]
        n_test = cfg.test_limit or len(data.test)
        test_codes = [tweets.encode(t) for t in data.test.texts[:n_test]]
        sets = {"test": (test_codes, torch.from_numpy(data.test.labels[:n_test]))}
        if cfg.val_size:
            sets["val"] = ([all_codes[i] for i in held_out], all_y[held_out])
        if cfg.train_sample:
            rng = np.random.default_rng(s.seed)
            pick = np.sort(rng.choice(len(train_codes), min(cfg.train_sample, len(train_codes)),
                                      replace=False))
            sets["train-sample"] = ([train_codes[i] for i in pick], train_y[pick])
        sampler = (BucketedBatches(torch.tensor([len(c) for c in train_codes]),
                                   cfg.batch_size, seed=s.seed) if cfg.batching == "bucketed"
                   else EpochBatches(len(train_codes), cfg.batch_size, seed=s.seed))

        def batch_at(step: int):
            index = sampler(step)
            return (*pad_batch(train_codes, index), train_y[index])

        model = CharLSTM(cfg.hidden, padding=cfg.padding, embedding=cfg.embedding,
                         layers=cfg.layers, bidirectional=cfg.bidirectional,
                         dropout=cfg.dropout)
        optimizer = make_optimizer(cfg.optimizer, model.parameters(), cfg.lr,
                                   weight_decay=cfg.weight_decay)
        schedule = make_schedule(cfg.schedule, optimizer, cfg.steps,
                                 warmup_steps=cfg.warmup_steps)
        trainer = Trainer(ctx, model, optimizer, batch_at, nll_step, TweetEvaluator(sets, ctx),
                          LoopConfig(steps=cfg.steps, eval_every=cfg.eval_every,
                                     clip_grad_norm=cfg.clip_grad_norm or None),
                          scheduler=schedule, name="tweets")
        final = trainer.fit()
    ctx.summary_extra.update(train_tweets=len(train_codes), test_tweets=n_test,
                             parameters=sum(p.numel() for p in model.parameters()))
    return flatten(final)


@dataclass
class LearningCurveConfig(TweetConfig):
    sizes: list[int] = option([10_000, 20_000, 40_000, 0], "training tweets per child run "
                              "(nested subsets; 0: all that the validation set leaves)",
                              check=lambda v: v >= 0, check_msg="must be >= 0")


def run_learning_curve(cfg: LearningCurveConfig, ctx: RunContext) -> dict[str, float]:
    """tweet-sentiment-best on nested subsets of the training tweets, judged on the same
    held-out validation tweets: how much the 80k training tweets limit the accuracy."""
    from dataclasses import asdict

    if not cfg.val_size:
        raise ConfigError("the learning curve is read on a validation set: set val_size > 0")
    base = {k: v for k, v in asdict(cfg).items() if k != "sizes"}
    out: dict[str, float] = {}
    points: list[tuple[int, float, float]] = []
    for size in cfg.sizes:
        summary = child(ctx, f"n{size or 'all'}", TWEETS_BEST,
                        TweetConfig(**{**base, "train_limit": size}))
        n, m = int(summary["train_tweets"]), summary["metrics"]
        out[f"n{size or 'all'}/val/accuracy"] = m["val/accuracy"]
        out[f"n{size or 'all'}/test/accuracy"] = m["test/accuracy"]
        points.append((n, m["val/accuracy"], m["train-sample/accuracy"]
                       if "train-sample/accuracy" in m else float("nan")))
    ctx.summary_extra["learning_curve"] = [
        {"train_tweets": n, "val_accuracy": v, "train_sample_accuracy": t}
        for n, v, t in points]
    xy_plot({"validation tweets": [(n, v) for n, v, _ in points],
             "training sample": [(n, t) for n, _, t in points]},
            ctx.run.plots / "learning_curve.png", xlabel="training tweets", ylabel="accuracy",
            title="Tweet sentiment: accuracy against training-set size", logx=True)
    ctx.standard_plots = False
    return out


SMOKE = {"steps": 200, "eval_every": 100, "train_sample": 500, "test_limit": 1000}
BEST = {"batching": "bucketed", "embedding": 64, "bidirectional": True, "padding": "pack",
        "dropout": 0.2, "batch_size": 64, "lr": 2e-3, "schedule": "cosine", "warmup_steps": 300,
        "steps": 8000, "eval_every": 500, "clip_grad_norm": 5.0}
TWEETS_BEST = Experiment(
    name="tweet-sentiment-best",
    beyond=True,
    handout="Waterloo A5 §3 (\"implement an LSTM using PyTorch\": a tuned nn.LSTM)",
    description="Bidirectional character LSTM (learned 64-d embedding, hidden 128, packed "
                "sequences, dropout 0.2), batch 64, Adam 2e-3 with warm-up and cosine "
                "decay, 8000 iterations",
    config_cls=TweetConfig,
    run=run,
    target=Target("test/accuracy", 0.80, "issue 21: ≥0.80 from our 80k training tweets"),
    datasets=("tweets",),
    defaults=BEST,
    smoke=SMOKE,
)

EXPERIMENTS = [
    Experiment(
        name="tweet-sentiment",
        handout="Waterloo A5 §3 (RNN: tweet sentiment)",
        description="Character-level LSTM (one-hot ASCII, hidden 128, linear, softmax/NLL) on "
                    "tweets; batch 32, Adam 1e-4, 100000 iterations",
        config_cls=TweetConfig,
        run=run,
        datasets=("tweets",),
        smoke=SMOKE,
    ),
    TWEETS_BEST,
    Experiment(
        name="tweet-sentiment-learning-curve",
        beyond=True,
        handout="Waterloo A5 §3 (how much the training-set size limits the accuracy)",
        description="tweet-sentiment-best trained on 10k, 20k, 40k and all 70k training "
                    "tweets left after a fixed 10k validation set; validation accuracy "
                    "against training-set size",
        config_cls=LearningCurveConfig,
        run=run_learning_curve,
        datasets=("tweets",),
        defaults={**BEST, "val_size": 10_000},
        smoke={**SMOKE, "sizes": [20, 0], "val_size": 10, "steps": 4, "eval_every": 2,
               "warmup_steps": 1, "train_sample": 10},
    ),
]
