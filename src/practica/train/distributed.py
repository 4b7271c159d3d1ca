"""Data-parallel training across processes, launched with ``torchrun``.

``torchrun --nproc_per_node=2 -m practica run mlp-torch`` starts two processes; torchrun
sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` in their environments and this module
turns them into a :class:`World`. With more than one process:

- every rank builds the same global minibatch (the batch of step ``s`` depends on the seed
  and ``s`` alone, see ``batches.py``) and keeps its own contiguous slice of it;
- the model is wrapped in ``DistributedDataParallel``, which averages the gradients over
  the ranks. With equal slices, the mean of the per-rank mean losses is the mean loss of
  the global batch, so N processes take the same steps as one process with the same global
  batch (up to float summation order);
- rank 0 owns the run directory: metrics, plots, report and ``checkpoints/last.pt``. Rank
  ``k > 0`` keeps only its own checkpoint in ``ranks/<k>/`` (its random-number state
  differs from rank 0's), so ``practica resume`` continues a distributed run exactly;
- each rank seeds its generators with ``seed + rank``, so random augmentation and dropout
  differ between the slices of a batch, as they would in one process;
- the backend is gloo on the CPU and NCCL on CUDA, where rank ``k`` uses ``cuda:LOCAL_RANK``.

BatchNorm statistics stay per rank (as in plain DDP); on GPUs,
``torch.nn.SyncBatchNorm.convert_sync_batchnorm`` would synchronise them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from ..errors import PracticaError


@dataclass(frozen=True)
class World:
    """This process's place among the training processes."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        """Whether training is spread over more than one process."""
        return self.size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 writes the run's records."""
        return self.rank == 0


def world() -> World:
    """The world described by torchrun's environment variables (one process without them)."""
    try:
        size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError as exc:
        raise PracticaError(f"bad torchrun environment (RANK/WORLD_SIZE/LOCAL_RANK): {exc}"
                            ) from None
    if size < 1 or not 0 <= rank < size:
        raise PracticaError(f"bad torchrun environment: RANK={rank}, WORLD_SIZE={size}")
    return World(rank=rank, size=size, local_rank=local)


def init(device_type: str) -> World:
    """Join the process group if torchrun started several processes (idempotent)."""
    w = world()
    if w.active and not torch.distributed.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        if device_type == "cuda":
            torch.cuda.set_device(w.local_rank)
        torch.distributed.init_process_group(backend=backend)
    return w


def shutdown() -> None:
    """Leave the process group (at the end of a run)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def broadcast(value: Any) -> Any:
    """Rank 0's ``value`` on every rank (any picklable value of our own making)."""
    if not torch.distributed.is_initialized():
        return value
    box = [value]
    torch.distributed.broadcast_object_list(box, src=0)
    return box[0]


def shard(batch: Any, w: World) -> Any:
    """Rank ``w.rank``'s contiguous slice of every tensor in a global minibatch.

    The global batch size must divide evenly, so every rank's loss is a mean over the same
    number of examples and the averaged gradient equals the global batch's.
    """
    if not w.active:
        return batch
    if isinstance(batch, torch.Tensor):
        n = batch.shape[0]
        if n % w.size:
            raise PracticaError(f"the global batch of {n} does not split evenly over "
                                f"{w.size} processes; choose a batch size divisible by {w.size}")
        k = n // w.size
        return batch[w.rank * k:(w.rank + 1) * k]
    if isinstance(batch, (tuple, list)):
        return type(batch)(shard(b, w) for b in batch)
    if isinstance(batch, Mapping):
        return {k: shard(v, w) for k, v in batch.items()}
    return batch


def wrap(model: torch.nn.Module, w: World, device: torch.device) -> torch.nn.Module:
    """``model`` in DistributedDataParallel when the world is active, else unchanged."""
    if not w.active:
        return model
    from torch.nn.parallel import DistributedDataParallel

    if device.type == "cuda":
        return DistributedDataParallel(model, device_ids=[device.index or 0])
    return DistributedDataParallel(model)
