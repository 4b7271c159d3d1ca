"""Training a :class:`~.captioning.CaptioningRNN` with the engine's :class:`~.solver.Solver`.

The solver's machinery (epoch permutations, evaluation schedule, callbacks, progress,
best-model tracking, exact ``state_dict``) is reused unchanged. A training example is a
caption: ``X`` holds the caption rows and ``y`` the index of the image each belongs to
(COCO has about five captions per image), so the features of a minibatch are
``features[y]``. Reported "accuracy" is the teacher-forced next-word accuracy over
non-NULL target positions. As in CS231n's CaptioningSolver the learning rate is
multiplied by ``lr_decay`` after every epoch (a :class:`~.optim.StepLR` schedule).
"""

from __future__ import annotations

import math

import numpy as np

from .captioning import CaptioningRNN
from .optim import Optimizer, StepLR
from .solver import Callback, Metrics, Progress, Solver

DATA_KEYS = ("train_captions", "train_image_idxs", "train_features",
             "val_captions", "val_image_idxs", "val_features")


class CaptioningSolver(Solver):
    """Minibatch training of a captioning model.

    Args:
        model: the captioning model.
        data: ``train_captions`` (M, T + 1) ints, ``train_image_idxs`` (M,),
            ``train_features`` (I, D), and the same three for ``val_``.
        optimizer: e.g. ``Adam(5e-3)``.
        lr_decay: learning-rate factor applied after every epoch (1: constant).
        Other arguments as for :class:`~.solver.Solver`.
    """

    def __init__(self, model: CaptioningRNN, data: dict[str, np.ndarray],
                 optimizer: Optimizer, *, lr_decay: float = 1.0, batch_size: int = 100,
                 num_epochs: int | None = None, num_steps: int | None = None,
                 eval_every: int | None = None, seed: int | None = 0,
                 callback: Callback | None = None, progress: Progress | None = None,
                 num_train_samples: int = 1000, eval_batch_size: int | None = None,
                 log_every: int | None = None, stop_on_nonfinite: bool = True) -> None:
        missing = [k for k in DATA_KEYS if k not in data]
        if missing:
            raise KeyError(f"CaptioningSolver: data is missing {missing}")
        self.features = {}
        for split in ("train", "val"):
            feats = np.asarray(data[f"{split}_features"])
            idxs = np.asarray(data[f"{split}_image_idxs"])
            if feats.ndim != 2 or feats.shape[1] != model.input_dim:
                raise ValueError(f"CaptioningSolver: {split}_features must have shape "
                                 f"(images, {model.input_dim}), got {feats.shape}")
            if idxs.dtype.kind not in "iu" or (idxs.size and (
                    idxs.min() < 0 or idxs.max() >= feats.shape[0])):
                raise ValueError(f"CaptioningSolver: {split}_image_idxs must be integers in "
                                 f"[0, {feats.shape[0]})")
            self.features[split] = feats
        super().__init__(model, {"X_train": data["train_captions"],
                                 "y_train": data["train_image_idxs"],
                                 "X_val": data["val_captions"], "y_val": data["val_image_idxs"]},
                         optimizer, batch_size=batch_size, num_epochs=num_epochs,
                         num_steps=num_steps, eval_every=eval_every, seed=seed,
                         callback=callback, progress=progress,
                         num_train_samples=num_train_samples, eval_batch_size=eval_batch_size,
                         log_every=log_every, stop_on_nonfinite=stop_on_nonfinite)
        if not 0.0 < lr_decay <= 1.0:
            raise ValueError(f"CaptioningSolver: lr_decay must be in (0, 1], got {lr_decay}")
        if lr_decay != 1.0:
            optimizer.schedule = StepLR(self.iters_per_epoch, lr_decay)
        self.lr_decay = lr_decay

    def train_step(self) -> float:
        """One forward/backward/update on the next minibatch of captions."""
        captions, image_idxs = self._next_batch()
        loss, grads = self.model.loss(self.features["train"][image_idxs], captions)
        if self.stop_on_nonfinite and not math.isfinite(loss):
            raise FloatingPointError(f"Solver: loss became {loss} at step {self.step + 1}")
        self.optimizer.step(self.model.params, grads)
        self.step += 1
        self.loss_history.append(loss)
        self._loss_sum += loss
        self._loss_count += 1
        return loss

    def evaluate(self, X: np.ndarray, y: np.ndarray, batch_size: int | None = None,
                 split: str = "val") -> dict[str, float]:
        """Mean caption loss and next-word accuracy of captions ``X`` of images ``y``."""
        bs = batch_size or self.eval_batch_size
        feats = self.features[split]
        loss_sum, correct, tokens = 0.0, 0.0, 0.0
        for i in range(0, X.shape[0], bs):
            out = self.model.evaluate(feats[y[i:i + bs]], X[i:i + bs])
            loss_sum += out["loss"] * min(bs, X.shape[0] - i)
            correct += out["correct"]
            tokens += out["tokens"]
        return {"loss": loss_sum / X.shape[0], "accuracy": correct / max(tokens, 1.0)}

    def check_accuracy(self, X: np.ndarray, y: np.ndarray, batch_size: int | None = None,
                       num_samples: int | None = None, split: str = "train") -> float:
        """Teacher-forced next-word accuracy on captions ``X`` of ``split``'s images ``y``."""
        if num_samples is not None and X.shape[0] > num_samples:
            idx = np.random.default_rng(self.seed).choice(X.shape[0], num_samples, replace=False)
            X, y = X[idx], y[idx]
        return self.evaluate(X, y, batch_size, split)["accuracy"]

    def _evaluate_and_record(self) -> Metrics:
        sub = self._train_subset
        train_loss = self._loss_sum / max(self._loss_count, 1)
        self._loss_sum, self._loss_count = 0.0, 0
        train_acc = self.evaluate(self.X_train[sub], self.y_train[sub], split="train")["accuracy"]
        val = self.evaluate(self.X_val, self.y_val, split="val")
        for key, value in zip(("step", "train_loss", "train_acc", "val_loss", "val_acc"),
                              (self.step, train_loss, train_acc, val["loss"], val["accuracy"]),
                              strict=True):
            self.history[key].append(value)
        if val["accuracy"] > self.best_val_acc:
            self.best_val_acc, self.best_step = val["accuracy"], self.step
            self.best_state = {"params": {k: v.copy() for k, v in self.model.params.items()},
                               "buffers": {}}
        metrics: Metrics = {"train": {"loss": train_loss, "accuracy": train_acc},
                            "val": {"loss": val["loss"], "accuracy": val["accuracy"]},
                            "optim": {"lr": self.optimizer.lr}}
        if self.callback is not None:
            self.callback(self.step, metrics)
        return metrics

    def sample(self, split: str, image_idxs: np.ndarray, max_length: int = 30) -> np.ndarray:
        """Greedy captions for images ``image_idxs`` of ``split`` (eval mode)."""
        return self.model.sample(self.features[split][np.asarray(image_idxs)], max_length)
