"""Deterministic minibatches from in-memory tensors.

The batch for step ``s`` is a function of (seed, s) alone: each epoch draws its own
permutation from a generator seeded with (seed, epoch). A resumed run therefore sees
exactly the batches an uninterrupted run would have seen, without saving sampler state.
"""

from __future__ import annotations

import torch

from ..errors import ConfigError


class EpochBatches:
    """Indices of minibatch ``step``: reshuffled every epoch, last partial batch dropped."""

    def __init__(self, n: int, batch_size: int, seed: int, *, shuffle: bool = True) -> None:
        if batch_size <= 0:
            raise ConfigError(f"batch_size must be > 0, got {batch_size}")
        if n < batch_size:
            raise ConfigError(f"batch_size {batch_size} is larger than the {n} training "
                              "examples; choose a smaller batch_size")
        self.n, self.batch_size, self.seed, self.shuffle = n, batch_size, seed, shuffle
        self.per_epoch = n // batch_size
        self._epoch = -1
        self._order = torch.arange(n)

    def epoch_of(self, step: int) -> int:
        return step // self.per_epoch

    def _permutation(self, epoch: int) -> torch.Tensor:
        if epoch != self._epoch:
            if self.shuffle:
                g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
                self._order = torch.randperm(self.n, generator=g)
            self._epoch = epoch
        return self._order

    def __call__(self, step: int) -> torch.Tensor:
        order = self._permutation(self.epoch_of(step))
        start = (step % self.per_epoch) * self.batch_size
        return order[start:start + self.batch_size]


class BucketedBatches(EpochBatches):
    """Like :class:`EpochBatches`, with examples of similar length batched together.

    Each epoch's permutation is cut into pools of ``pool`` batches; each pool is sorted by
    length and cut into batches, and the epoch's batches are then shuffled. Every example
    is still seen once per epoch, but a padded batch wastes little on padding: for tweets
    of 10 to 140 characters, a random batch is padded to nearly its longest tweet.
    """

    def __init__(self, lengths: torch.Tensor, batch_size: int, seed: int, *,
                 pool: int = 50) -> None:
        super().__init__(len(lengths), batch_size, seed)
        self.lengths, self.pool = torch.as_tensor(lengths), pool

    def _permutation(self, epoch: int) -> torch.Tensor:
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            order = torch.randperm(self.n, generator=g)[:self.per_epoch * self.batch_size]
            size = self.pool * self.batch_size
            pools = [p[torch.argsort(self.lengths[p], stable=True)] for p in order.split(size)]
            batches = torch.cat(pools).view(self.per_epoch, self.batch_size)
            self._order = batches[torch.randperm(self.per_epoch, generator=g)].reshape(-1)
            self._epoch = epoch
        return self._order


def batched(n: int, batch_size: int):
    """(start, stop) slices covering ``range(n)`` in order, for evaluation."""
    for start in range(0, n, batch_size):
        yield start, min(start + batch_size, n)
