"""The min-char-rnn snapshot ``char-rnn-snapshot.npz`` (IIT-H CS6360 A2 §2.3), read safely.

The file is an ``.npz`` (a zip of ``.npy`` members): float arrays ``Wxh`` (H×V), ``Whh``
(H×H), ``Why`` (V×H), ``bh`` (H×1), ``by`` (V×1), the Adagrad memories ``mWxh…``, ``chars``
(bytes) and *pickled object arrays* ``char_to_ix``, ``ix_to_char``, ``data_size``,
``vocab_size`` written by Python 2. ``np.load(allow_pickle=True)`` would run whatever such a
pickle asks for, so this loader never does that:

1. each zip member's ``.npy`` header is parsed (:func:`numpy.lib.format.read_array_header_*`);
2. plain dtypes are read with ``allow_pickle=False``;
3. object arrays are unpickled with :class:`~practica.data.store.RestrictedUnpickler`
   (only the NumPy array-rebuilding globals; ``encoding='latin1'`` for Python-2 strings),
   and their content must be plain data (dict, list, tuple, str, bytes, int, float, bool,
   None). Anything else — another global, an unexpected type — raises ``DataError``.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from .store import NUMPY_GLOBALS, read_npy_header, read_plain_npy, restricted_loads

REQUIRED = ("Wxh", "Whh", "Why", "bh", "by")
PLAIN = (dict, list, tuple, str, bytes, int, float, bool, type(None))


@dataclass(frozen=True)
class CharRNNSnapshot:
    """Weights and vocabulary of a trained min-char-rnn: ``h' = tanh(Wxh x + Whh h + bh)``,
    ``y = Why h' + by``."""

    Wxh: np.ndarray
    Whh: np.ndarray
    Why: np.ndarray
    bh: np.ndarray
    by: np.ndarray
    chars: tuple[str, ...]  # index -> character

    @property
    def hidden_size(self) -> int:
        return self.Whh.shape[0]

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    @property
    def char_to_ix(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.chars)}

    def params(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in REQUIRED}


def _check_plain(value: Any, where: str) -> None:
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            for item in value.ravel().tolist():
                _check_plain(item, where)
        return
    if isinstance(value, np.generic) and not isinstance(value, np.object_):
        return
    if not isinstance(value, PLAIN):
        raise DataError(f"{where}: refusing an object of type {type(value).__name__}; "
                        "the snapshot should hold only plain data")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_plain(k, where)
            _check_plain(v, where)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _check_plain(v, where)


def read_npy_member(raw: bytes, where: str) -> np.ndarray:
    """One ``.npy`` member: plain arrays without pickle, object arrays restricted."""
    shape, _, dtype, offset = read_npy_header(raw, where)
    if not dtype.hasobject:
        return read_plain_npy(raw, where)
    value = restricted_loads(raw[offset:], allowed=NUMPY_GLOBALS, encoding="latin1",
                             what=where)
    if not isinstance(value, np.ndarray) or value.shape != tuple(shape):
        raise DataError(f"{where}: the pickle is not the object array of shape {shape} "
                        "its header announces")
    _check_plain(value, where)
    return value


def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Every member of an ``.npz`` file, read as :func:`read_npy_member` does."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"snapshot not found: {path}")
    try:
        with zipfile.ZipFile(path) as zf:
            members = {info.filename: zf.read(info) for info in zf.infolist()}
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"{path} is not a readable .npz (zip) file ({exc})") from None
    return {name.removesuffix(".npy"): read_npy_member(raw, f"{path.name}:{name}")
            for name, raw in members.items()}


def _as_char(value: Any) -> str:
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("latin1")
    return str(value)


def load_snapshot(path: str | Path) -> CharRNNSnapshot:
    """The weights and vocabulary of a min-char-rnn ``.npz`` snapshot."""
    arrays = read_npz(path)
    missing = [k for k in REQUIRED if k not in arrays]
    if missing:
        raise DataError(f"{path} lacks {', '.join(missing)}; not a min-char-rnn snapshot")
    if "ix_to_char" in arrays:
        table = arrays["ix_to_char"].item()
        if not isinstance(table, dict):
            raise DataError(f"{path}: ix_to_char is not a dict")
        if sorted(table) != list(range(len(table))):
            gaps = sorted(set(range(len(table))) - set(table))[:5]
            raise DataError(f"{path}: ix_to_char must map 0..{len(table) - 1} to characters; "
                            f"it lacks {gaps or 'integer keys'} (corrupt snapshot)")
        chars = tuple(_as_char(table[i]) for i in range(len(table)))
    elif "chars" in arrays:
        chars = tuple(_as_char(c) for c in arrays["chars"].tolist())
    else:
        raise DataError(f"{path} has neither ix_to_char nor chars; cannot map indices to text")
    w = {k: np.asarray(arrays[k], dtype=np.float64) for k in REQUIRED}
    hidden, vocab = w["Whh"].shape[0], len(chars)
    expected = {"Wxh": (hidden, vocab), "Whh": (hidden, hidden), "Why": (vocab, hidden),
                "bh": (hidden, 1), "by": (vocab, 1)}
    for k, shape in expected.items():
        if w[k].shape != shape:
            raise DataError(f"{path}: {k} has shape {w[k].shape}, expected {shape} "
                            f"(hidden {hidden}, vocabulary {vocab})")
    return CharRNNSnapshot(chars=chars, **w)
