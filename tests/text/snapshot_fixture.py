"""Writers of min-char-rnn snapshots in the real on-disk layout (a zip of .npy members whose
``char_to_ix``/``ix_to_char`` are Python-2 protocol-2 pickles of 0-d object arrays)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

# The opcodes Python 2's NumPy wrote for a 0-d object array (_reconstruct, BUILD with the
# state tuple (1, (), dtype('O'), False, [obj])); strings are SHORT_BINSTRINGs.
_PREFIX = (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02K\x00"
           b"\x85U\x01b\x87Rq\x03(K\x01)cnumpy\ndtype\nq\x04U\x02O8K\x00K\x01\x87Rq\x05(K\x03"
           b"U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tb\x89]q\x06}q\x07(")
_SUFFIX = b"uatb."


def _atom(value: int | str) -> bytes:
    if isinstance(value, int):
        assert 0 <= value < 256
        return b"K" + bytes([value])
    raw = value.encode("latin1")
    return b"U" + bytes([len(raw)]) + raw


def py2_dict_pickle(table: dict) -> bytes:
    """A protocol-2 pickle of ``np.array(table, dtype=object)`` as Python 2 wrote it."""
    return _PREFIX + b"".join(_atom(k) + _atom(v) for k, v in table.items()) + _SUFFIX


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, version=(1, 0), allow_pickle=False)
    return buf.getvalue()


def object_npy(pickle_bytes: bytes, shape: tuple[int, ...] = ()) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue() + pickle_bytes


def write_snapshot(path: Path, params: dict[str, np.ndarray], chars: str, *,
                   char_to_ix_pickle: bytes | None = None,
                   ix_to_char: dict | None = None) -> Path:
    """A snapshot with the real members: weights, Adagrad memories, chars and the tables."""
    c2i = {c: i for i, c in enumerate(chars)}
    i2c = ix_to_char if ix_to_char is not None else {i: c for i, c in enumerate(chars)}
    members = {f"{k}.npy": npy_bytes(v) for k, v in params.items()}
    members.update({f"m{k}.npy": npy_bytes(np.abs(v) + 1.0) for k, v in params.items()})
    members["chars.npy"] = npy_bytes(np.array([c.encode("latin1") for c in chars], dtype="S1"))
    members["vocab_size.npy"] = npy_bytes(np.array(len(chars)))
    members["data_size.npy"] = npy_bytes(np.array(1000))
    members["char_to_ix.npy"] = object_npy(char_to_ix_pickle or py2_dict_pickle(c2i))
    members["ix_to_char.npy"] = object_npy(py2_dict_pickle(i2c))
    with zipfile.ZipFile(path, "w") as zf:
        for name, raw in members.items():
            zf.writestr(name, raw)
    return path


def random_params(vocab: int, hidden: int, seed: int = 0, scale: float = 0.5
                  ) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"Wxh": rng.standard_normal((hidden, vocab)) * scale,
            "Whh": rng.standard_normal((hidden, hidden)) * scale,
            "Why": rng.standard_normal((vocab, hidden)) * scale,
            "bh": rng.standard_normal((hidden, 1)) * 0.1,
            "by": rng.standard_normal((vocab, 1)) * 0.1}
