"""Checkpoints: atomic save, safe load, and the random-number state that makes resume exact.

A checkpoint is a dict of tensors and plain Python values, saved with ``torch.save`` to a
temporary file and renamed over the old one, so a crash mid-write never leaves a broken
``last.pt``. It is read back with ``torch.load(weights_only=True)``: no arbitrary objects.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import PracticaError, describe
from ..records.atomic import atomic_open


def rng_state() -> dict[str, Any]:
    """The state of Python's, NumPy's and torch's global generators as plain data."""
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "python": _tuple_to_lists(random.getstate()),
        "numpy": {"name": np_state[0], "keys": torch.from_numpy(np_state[1].astype(np.int64)),
                  "pos": int(np_state[2]), "has_gauss": int(np_state[3]),
                  "cached_gaussian": float(np_state[4])},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the generators saved by :func:`rng_state`."""
    random.setstate(_lists_to_tuple(state["python"]))
    n = state["numpy"]
    np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"],
                         n["has_gauss"], n["cached_gaussian"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _tuple_to_lists(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_tuple_to_lists(v) for v in value]
    return value


def _lists_to_tuple(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_lists_to_tuple(v) for v in value)
    return value


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically (temporary file, fsync, rename)."""
    with atomic_open(path, "wb") as fh:
        torch.save(state, fh)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` (tensors and plain data only)."""
    path = Path(path)
    if path.is_file() and path.stat().st_size == 0:
        raise PracticaError(f"checkpoint {path} is empty (written by a process that was "
                            "killed?); delete it to restart the run from its beginning")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise PracticaError(f"checkpoint not found: {path}") from None
    except Exception as exc:
        raise PracticaError(f"cannot read checkpoint {path}: {describe(exc)}") from None
