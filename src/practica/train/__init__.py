"""Training machinery shared by the PyTorch experiments."""

from .batches import BucketedBatches, EpochBatches, batched
from .checkpoint import load_checkpoint, save_checkpoint
from .loop import LoopConfig, Trainer, autocast, to_device

__all__ = ["BucketedBatches", "EpochBatches", "LoopConfig", "Trainer", "autocast", "batched",
           "load_checkpoint", "save_checkpoint", "to_device"]
