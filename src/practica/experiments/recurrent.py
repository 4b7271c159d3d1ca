"""Shared pieces of the recurrent-network experiments (CVbL 2019 §3; Waterloo A5 §3).

* :class:`LSTMClassifier` — ``torch.nn.LSTM`` and a linear head on the last state, for
  sequences of equal length or padded ones (the state is read at each sequence's own end).
* :func:`fit_until` — the shared training loop run in chunks of ``eval_every`` steps, stopped
  early when :func:`stop_reason` says the held-out accuracy reached its goal or plateaued;
  :class:`BestCheckpoint` keeps the weights of its best held-out evaluation.
* :func:`cpu_threads` — small recurrent models run fastest on one CPU thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from ..train import Trainer
from ..train.checkpoint import load_checkpoint, save_checkpoint


@contextlib.contextmanager
def cpu_threads(n: int) -> Iterator[None]:
    """Use ``n`` intra-op threads inside the block (0: leave torch's setting alone).

    A recurrent step is a chain of small matrix products; on a 2-core machine that is busy
    with something else a second spinning thread makes it many times slower, not faster.
    """
    previous = torch.get_num_threads()
    if n > 0:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class LSTMClassifier(nn.Module):
    r"""``torch.nn.LSTM`` over ``x(1..T)``, then ``p = W h(T) + b`` on the last hidden state.

    ``forward(x, lengths=None)`` takes ``x`` of shape ``(N, T, input_dim)``. With ``lengths``
    the batch is padded at the end and ``h`` is read at step ``lengths[n]`` of example ``n``:
    either by packing (``padding="pack"``) or by running over the padding and gathering the
    state at each example's last real step (``"gather"``; a unidirectional LSTM's state at
    step ``t`` depends only on steps ``≤ t``, so the padding after it cannot leak in; about
    twice as fast as packing on CPU). ``log_probs=True`` returns ``log softmax(p)``, the
    handout's softmax output ready for the NLL loss.
    """

    def __init__(self, input_dim: int, hidden: int, classes: int, *, layers: int = 1,
                 padding: str = "gather", log_probs: bool = False,
                 bidirectional: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        if padding not in ("gather", "pack"):
            raise ValueError(f"padding must be 'gather' or 'pack', got {padding!r}")
        if bidirectional and padding != "pack":
            raise ValueError("a bidirectional LSTM needs padding='pack'")
        self.lstm = nn.LSTM(input_dim, hidden, num_layers=layers, batch_first=True,
                            bidirectional=bidirectional, dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout) if dropout else nn.Identity()
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), classes)
        self.padding, self.log_probs, self.bidirectional = padding, log_probs, bidirectional

    def last_state(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``h(T_n)`` of the top layer for every example ``n``, shape ``(N, hidden)``
        (bidirectional: both directions' final states, ``(N, 2 hidden)``)."""
        if lengths is None or self.padding == "pack":
            if lengths is not None:
                x = pack_padded_sequence(x, lengths.cpu(), batch_first=True,
                                         enforce_sorted=False)
            _, (h, _) = self.lstm(x)
            return torch.cat([h[-2], h[-1]], dim=1) if self.bidirectional else h[-1]
        out, _ = self.lstm(x)
        index = (lengths.to(out.device) - 1).clamp(min=0)
        return out[torch.arange(out.shape[0], device=out.device), index]

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        p = self.head(self.drop(self.last_state(x, lengths)))
        return F.log_softmax(p, dim=-1) if self.log_probs else p


# --- early stopping on top of the shared Trainer ------------------------------------------

def stop_reason(history: Sequence[Mapping[str, Any]], *, split: str = "val",
                metric: str = "accuracy", goal: float = 0.0, patience: int = 0,
                min_delta: float = 0.01) -> str | None:
    """Why training should stop now, or None to go on.

    ``history`` holds the Trainer's evaluations (``{"step": s, split: {metric: v}}``).
    Stop when the latest ``metric`` reaches ``goal`` (0: never), or when for ``patience``
    steps (0: never) it has not risen ``min_delta`` above the best value seen before — the
    best is only updated on such a rise, so a slow creep still counts once it adds up.
    """
    points = [(int(h["step"]), float(h[split][metric])) for h in history if split in h]
    if not points:
        return None
    step, latest = points[-1]
    if goal and latest >= goal:
        return f"{split} {metric} {latest:.4f} reached {goal} at step {step}"
    if not patience:
        return None
    best, improved_at = points[0][1], points[0][0]
    for s, value in points[1:]:
        if value >= best + min_delta:
            best, improved_at = value, s
    if step - improved_at >= patience:
        return (f"plateau: {split} {metric} has not risen by {min_delta} above {best:.4f} "
                f"(step {improved_at}) for {step - improved_at} steps")
    return None


class _ChunkTrainer(Trainer):
    """A Trainer that is fitted repeatedly: it restores its checkpoint only the first time."""

    _restored = False

    def restore(self) -> bool:
        if self._restored:
            return False
        self._restored = True
        return super().restore()


def fit_until(trainer: Trainer, max_steps: int,
              should_stop: Callable[[Sequence[Mapping[str, Any]]], str | None]
              ) -> tuple[dict[str, dict[str, float]], str]:
    """Train up to ``max_steps`` in chunks of ``eval_every`` steps; stop when asked.

    After every evaluation ``should_stop(trainer.history)`` may give a reason to stop. The
    run is exactly the one the Trainer alone would do up to that point (same batches,
    evaluations and checkpoints at every multiple of ``eval_every``), and a resumed run
    checks its restored history first, so a kill -9 changes nothing. ``trainer`` must have
    been built as a :class:`_ChunkTrainer` (see :func:`chunk_trainer`). Returns the last
    evaluation and the reason training ended.
    """
    every = trainer.loop.eval_every
    final: dict[str, dict[str, float]] = {}
    while True:
        trainer.loop.steps = min(max_steps, (trainer.step // every + 1) * every)
        final = trainer.fit()  # the first call restores a resumed run's checkpoint
        reason = should_stop(trainer.history)
        if reason:
            return final, reason
        if trainer.step >= max_steps:
            return final, f"reached the step budget ({max_steps})"


class BestCheckpoint:
    """Keeps the weights of the best validation evaluation so far in ``path``.

    Call it with the Trainer's history after each evaluation (``fit_until`` does, through
    ``should_stop``); the model then holds the weights of the latest evaluation. The file
    survives a resume, so the kept weights are those of the best evaluation of the whole
    run. A run that found a solution and lost it is then judged at its best point too.
    """

    def __init__(self, model: nn.Module, path: Path, *, split: str = "val",
                 metric: str = "accuracy") -> None:
        self.model, self.path, self.split, self.metric = model, path, split, metric
        self.best: tuple[int, float] | None = None
        if path.is_file():
            state = load_checkpoint(path)
            self.best = (int(state["step"]), float(state["value"]))

    def __call__(self, history: Sequence[Mapping[str, Any]]) -> None:
        points = [h for h in history if self.split in h]
        if not points:
            return
        step, value = int(points[-1]["step"]), float(points[-1][self.split][self.metric])
        if self.best is None or value > self.best[1]:
            save_checkpoint(self.path, {"step": step, "value": value,
                                        "model": self.model.state_dict()})
            self.best = (step, value)

    def load_into(self, model: nn.Module) -> int:
        """Put the kept weights into ``model``; return the step they are from."""
        model.load_state_dict(load_checkpoint(self.path)["model"])
        return int(self.best[0]) if self.best else 0


def chunk_trainer(*args: Any, **kwargs: Any) -> Trainer:
    """A :class:`~practica.train.Trainer` that :func:`fit_until` can fit chunk by chunk."""
    return _ChunkTrainer(*args, **kwargs)
