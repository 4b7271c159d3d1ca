"""The one training loop of the PyTorch experiments.

An experiment hands over a model, an optimiser, a function giving the batch of step ``s``,
a loss function and an evaluation function; the loop does the rest: steps, mixed
precision, gradient clipping, LR schedule, periodic evaluation and logging, checkpoints
(at every evaluation and at the end), exact resume, and a clean stop when the loss turns
NaN or infinite (the last good checkpoint is kept). Under ``torchrun`` it trains data-parallel
(see ``distributed.py``).
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..context import RunContext
from ..errors import PracticaError, TrainingDiverged, describe
from . import distributed
from .checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state

Batch = Any
#: loss_fn(model, batch) -> (scalar loss, {metric name: scalar tensor}) for one batch.
LossFn = Callable[[nn.Module, Batch], tuple[torch.Tensor, Mapping[str, torch.Tensor]]]
#: evaluate(model) -> {split: {metric: value}}, e.g. {"test": {"loss": .., "accuracy": ..}}.
EvalFn = Callable[[nn.Module], Mapping[str, Mapping[str, float]]]


@dataclass
class LoopConfig:
    """How long to train and how often to evaluate/checkpoint."""

    steps: int
    eval_every: int
    checkpoint_every: int | None = None  # default: at every evaluation
    clip_grad_norm: float | None = None
    scheduler_per: str = "step"  # "step" or "eval"
    log_seconds: bool = False  # log train/seconds (time since the start) at each evaluation
    eval_at_start: bool = True  # evaluate the untrained model (step 0) before training


def autocast(ctx: RunContext) -> contextlib.AbstractContextManager:
    """The autocast context for ``--amp`` (bf16 on CPU or CUDA, fp16 on CUDA)."""
    amp = ctx.settings.amp
    if amp == "none":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    return torch.autocast(device_type=ctx.device.type, dtype=dtype)


def to_device(batch: Batch, ctx: RunContext) -> Batch:
    """Move tensors in ``batch`` to the run's device (4-D ones channels_last if asked)."""
    if isinstance(batch, torch.Tensor):
        batch = batch.to(ctx.device, non_blocking=True)
        if ctx.settings.channels_last and batch.dim() == 4:
            batch = batch.contiguous(memory_format=torch.channels_last)
        return batch
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(b, ctx) for b in batch)
    if isinstance(batch, dict):
        return {k: to_device(v, ctx) for k, v in batch.items()}
    return batch


class Trainer:
    """Runs ``loop.steps`` optimisation steps with evaluation, logging and checkpoints."""

    def __init__(self, ctx: RunContext, model: nn.Module, optimizer: torch.optim.Optimizer,
                 batch_at: Callable[[int], Batch], loss_fn: LossFn, evaluate: EvalFn,
                 loop: LoopConfig, scheduler: Any = None, name: str = "",
                 after_step: Callable[[int], None] | None = None,
                 defer_sync: bool | None = None) -> None:
        if loop.steps <= 0 or loop.eval_every <= 0:
            raise ValueError("steps and eval_every must be > 0")
        self.ctx, self.model, self.optimizer = ctx, model, optimizer
        self.batch_at, self.loss_fn, self.evaluate = batch_at, loss_fn, evaluate
        self.loop, self.scheduler, self.name = loop, scheduler, name
        #: called with the new step count after every optimiser step (e.g. weight averaging)
        self.after_step = after_step
        self.checkpoint_path = ctx.run.checkpoints / "last.pt"
        self.history: list[dict[str, Any]] = []  # one entry per evaluation
        self.step = 0
        self.elapsed = 0.0
        self._sums: dict[str, float] = {}  # running train metrics since the last evaluation
        self._count = 0
        #: on an accelerator, per-step losses and metrics are summed on the device and read
        #: (one host synchronisation) only at evaluations and checkpoints; the divergence
        #: check then names the first non-finite step, and no diverged weights are saved
        self.defer_sync = ctx.device.type != "cpu" if defer_sync is None else defer_sync
        self._pending: dict[str, torch.Tensor] = {}
        self._bad: torch.Tensor | None = None  # (first non-finite step, its loss) or (-1, 0)
        # fp16 needs loss scaling (the CLI allows fp16 on CUDA only; the scaler itself also
        # works on the CPU, which is how the tests exercise this path)
        self._scaler = (torch.amp.GradScaler(ctx.device.type) if ctx.settings.amp == "fp16"
                        else None)
        model.to(ctx.device)
        if ctx.settings.channels_last:
            model.to(memory_format=torch.channels_last)
        #: what the training steps call: the model, or under torchrun its DDP wrapper
        self.train_model = distributed.wrap(model, ctx.world, ctx.device)

    # -- checkpointing --------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "elapsed": self.elapsed,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "scaler": self._scaler.state_dict() if self._scaler is not None else None,
            "history": self.history,
            "train_sums": dict(self._sums),
            "train_count": self._count,
            "rng": rng_state(),
        }

    def save(self) -> None:
        save_checkpoint(self.checkpoint_path, self.state_dict())

    def restore(self) -> bool:
        """Load ``last.pt`` if resuming and it exists; return whether it did."""
        if not (self.ctx.resuming and self.checkpoint_path.is_file()):
            checkpoints = self.ctx.run.checkpoints
            if self.ctx.resuming and not (checkpoints.is_dir() and any(checkpoints.iterdir())):
                # interrupted before its first checkpoint: it starts again from step 0, so
                # the rows the first attempt logged go (no step-0 metrics twice)
                self.ctx.run.truncate_metrics(-1)
            return False
        state = load_checkpoint(self.checkpoint_path, map_location=self.ctx.device)
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        except (KeyError, RuntimeError, ValueError) as exc:
            raise PracticaError(f"checkpoint {self.checkpoint_path} does not fit this run's "
                                f"model ({describe(exc)}); it belongs to another experiment "
                                "or version: delete it to restart the run") from None
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        if self._scaler is not None and state.get("scaler"):
            self._scaler.load_state_dict(state["scaler"])
        self.step, self.elapsed = int(state["step"]), float(state["elapsed"])
        self.history = list(state["history"])
        self._sums = dict(state.get("train_sums") or {})
        self._count = int(state.get("train_count") or 0)
        set_rng_state(state["rng"])
        self.ctx.run.truncate_metrics(self.step)
        return True

    # -- the loop ---------------------------------------------------------------------------
    def _evaluate(self) -> dict[str, dict[str, float]]:
        self.model.eval()
        with torch.no_grad(), autocast(self.ctx):
            results = {split: {k: float(v) for k, v in metrics.items()}
                       for split, metrics in self.evaluate(self.model).items()}
        self.model.train()
        return results

    def _log(self, split_metrics: Mapping[str, Mapping[str, float]]) -> None:
        for split, metrics in split_metrics.items():
            self.ctx.run.log(self.step, split, metrics)

    def fit(self) -> dict[str, dict[str, float]]:
        """Train to ``loop.steps``; return the final evaluation ({split: {metric: value}})."""
        from tqdm.auto import tqdm

        self.restore()
        loop = self.loop
        ckpt_every = loop.checkpoint_every or loop.eval_every
        if loop.eval_at_start and self.step == 0 and not self.history:
            first = self._evaluate()  # the untrained model, step 0
            self._log(first)
            self.history.append({"step": 0, **first})
        self.model.train()
        desc = self.name or self.ctx.run.path.parent.name
        bar = tqdm(total=loop.steps, initial=self.step, desc=desc,
                   disable=not self.ctx.progress, file=sys.stderr, dynamic_ncols=True,
                   leave=False)
        started = time.perf_counter() - self.elapsed
        try:
            while self.step < loop.steps:
                batch = distributed.shard(self.batch_at(self.step), self.ctx.world)
                batch = to_device(batch, self.ctx)
                with autocast(self.ctx):
                    loss, metrics = self.loss_fn(self.train_model, batch)
                if self.defer_sync:
                    self._accumulate(loss, metrics)
                else:
                    loss_value = float(loss.detach())
                    if not math.isfinite(loss_value):
                        raise TrainingDiverged(self._diverged_message(loss_value))
                self.optimizer.zero_grad(set_to_none=True)
                if self._scaler is not None:
                    self._scaler.scale(loss).backward()
                    self._scaler.unscale_(self.optimizer)
                else:
                    loss.backward()
                if loop.clip_grad_norm:
                    nn.utils.clip_grad_norm_(self.model.parameters(), loop.clip_grad_norm)
                if self._scaler is not None:
                    self._scaler.step(self.optimizer)
                    self._scaler.update()
                else:
                    self.optimizer.step()
                if self.scheduler is not None and loop.scheduler_per == "step":
                    self.scheduler.step()
                self.step += 1
                if self.after_step is not None:
                    self.after_step(self.step)
                self._count += 1
                if not self.defer_sync:
                    self._sums["loss"] = self._sums.get("loss", 0.0) + loss_value
                    for k, v in metrics.items():
                        self._sums[k] = self._sums.get(k, 0.0) + float(v)
                bar.update(1)
                at_end = self.step == loop.steps
                if self.defer_sync and (self.step % loop.eval_every == 0 or at_end
                                        or self.step % ckpt_every == 0):
                    self._synchronise()
                if self.step % loop.eval_every == 0 or at_end:
                    train = {k: v / self._count for k, v in self._sums.items()}
                    if loop.log_seconds:
                        train["seconds"] = time.perf_counter() - started
                    self._sums, self._count = {}, 0
                    results = {"train": train, **self._evaluate()}
                    self._log(results)
                    self.history.append({"step": self.step, **results})
                    if self.scheduler is not None and loop.scheduler_per == "eval":
                        self.scheduler.step()
                    bar.set_postfix(_postfix(results))
                if self.step % ckpt_every == 0 or at_end:
                    self.elapsed = time.perf_counter() - started
                    self.ctx.train_times[self.name] = self.elapsed
                    self.save()
        finally:
            bar.close()
        self.elapsed = time.perf_counter() - started
        self.ctx.train_times[self.name] = self.elapsed
        return {k: v for k, v in self.history[-1].items() if k != "step"}

    def _accumulate(self, loss: torch.Tensor, metrics: Mapping[str, Any]) -> None:
        """Add this step's loss and metrics to device-side sums, without reading them."""
        value = loss.detach().float()
        if self._bad is None:
            self._bad = torch.tensor([-1.0, 0.0], device=value.device)
        first = ~torch.isfinite(value) & (self._bad[0] < 0)
        self._bad = torch.where(first, torch.stack([value.new_tensor(self.step + 1.0), value]),
                                self._bad)
        for k, v in {"loss": value, **metrics}.items():
            v = v.detach().float() if isinstance(v, torch.Tensor) else torch.tensor(float(v))
            self._pending[k] = self._pending[k] + v if k in self._pending else v

    def _synchronise(self) -> None:
        """Read the device-side sums (one synchronisation); stop if a loss was non-finite."""
        if self._bad is not None:
            step, value = (float(x) for x in self._bad.tolist())
            if step >= 0:
                raise TrainingDiverged(self._diverged_message(value, int(step)))
        for k, v in self._pending.items():
            self._sums[k] = self._sums.get(k, 0.0) + float(v)
        self._pending = {}

    def _diverged_message(self, value: float, step: int | None = None) -> str:
        where = (f"the last good checkpoint ({self.checkpoint_path}) is kept"
                 if self.checkpoint_path.is_file() else "no checkpoint had been written yet")
        step = self.step + 1 if step is None else step
        return (f"training stopped: loss became {value} at step {step}; {where}. "
                "Try a lower learning rate or gradient clipping (clip_grad_norm)")


def _postfix(results: Mapping[str, Mapping[str, float]]) -> dict[str, str]:
    out = {}
    for split, metrics in results.items():
        for k in ("loss", "accuracy"):
            if k in metrics:
                out[f"{split[:5]}_{k[:3]}"] = f"{metrics[k]:.3f}"
    return out
