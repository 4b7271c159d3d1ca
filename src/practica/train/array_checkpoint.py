"""Checkpoints of nested dicts of NumPy arrays and scalars (for the NumPy engine).

The state is flattened to ``a/b/c`` keys: arrays go into an ``.npz`` (read back with
``allow_pickle=False``), scalars — including the 128-bit integers of NumPy's PCG64 state —
into a JSON entry. No pickle is involved at any point.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..data.store import read_plain_npz
from ..errors import DataError, PracticaError, describe
from ..records.atomic import atomic_write_bytes

_META = "__scalars__.json"


def _flatten(state: Any, prefix: str, arrays: dict[str, np.ndarray], scalars: dict[str, Any]
             ) -> None:
    if isinstance(state, dict):
        if not state:
            scalars[prefix + "/"] = {}
        for key, value in state.items():
            if "/" in str(key):
                raise ValueError(f"checkpoint keys may not contain '/': {key!r}")
            _flatten(value, f"{prefix}/{key}" if prefix else str(key), arrays, scalars)
    elif isinstance(state, np.ndarray):
        if state.dtype == object:
            raise TypeError(f"{prefix}: object arrays cannot be checkpointed")
        arrays[prefix] = state
    elif isinstance(state, (np.generic,)):
        scalars[prefix] = state.item()
    elif state is None or isinstance(state, (bool, int, float, str)):
        scalars[prefix] = state
    elif isinstance(state, (list, tuple)):
        scalars[prefix] = list(state)
    else:
        raise TypeError(f"{prefix}: cannot checkpoint a {type(state).__name__}")


def _insert(root: dict, key: str, value: Any) -> None:
    parts = key.split("/")
    node = root
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    if parts[-1]:
        node[parts[-1]] = value


def save_arrays(path: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically as an .npz with a JSON entry for scalars."""
    arrays: dict[str, np.ndarray] = {}
    scalars: dict[str, Any] = {}
    _flatten(state, "", arrays, scalars)
    buffer = io.BytesIO()
    meta = np.frombuffer(json.dumps(scalars).encode(), dtype=np.uint8)
    np.savez(buffer, **{_META: meta}, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def load_arrays(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_arrays` (no pickle allowed)."""
    try:
        data = read_plain_npz(path)
        scalars = json.loads(bytes(data[_META]).decode())
        state: dict[str, Any] = {}
        for key, value in scalars.items():
            _insert(state, key, value)
        for key, value in data.items():
            if key != _META:
                _insert(state, key, value)
    except FileNotFoundError:
        raise PracticaError(f"checkpoint not found: {path}") from None
    except DataError as exc:
        raise PracticaError(f"cannot read checkpoint {path}: {exc}") from None
    except (ValueError, KeyError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PracticaError(f"cannot read checkpoint {path}: {describe(exc)}") from None
    return state
