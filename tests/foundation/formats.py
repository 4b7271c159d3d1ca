"""Writers of tiny data sets in the real on-disk formats (CIFAR pickles, IDX, archives)."""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np


def cifar_batch(n: int, seed: int, *, label_key: str = "labels") -> dict:
    rng = np.random.default_rng(seed)
    labels = [int(v) for v in rng.integers(0, 10, n)]
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    # make the class visible in the pixels so a model can learn it
    for i, y in enumerate(labels):
        data[i, y * 300:(y + 1) * 300] = 255
    return {"batch_label": f"batch {seed}", label_key: labels, "data": data,
            "filenames": [f"img_{seed}_{i}.png" for i in range(n)]}


def write_cifar_folder(root: Path, n_per_batch: int = 20, n_test: int = 30) -> Path:
    """``root/cifar-10-batches-py/`` with five training batches, a test batch and meta."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for i in range(1, 6):
        (folder / f"data_batch_{i}").write_bytes(pickle.dumps(cifar_batch(n_per_batch, i),
                                                              protocol=2))
    (folder / "test_batch").write_bytes(pickle.dumps(cifar_batch(n_test, 99), protocol=2))
    meta = {"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                            "horse", "ship", "truck"], "num_cases_per_batch": n_per_batch}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return folder


def tar_folder(folder: Path, archive: Path, mode: str = "w:gz") -> Path:
    with tarfile.open(archive, mode) as tf:
        tf.add(folder, arcname=folder.name)
    return archive


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist_folder(folder: Path, n_train: int = 40, n_test: int = 20, *,
                       gz: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        for name, payload in ((f"{prefix}-images-idx3-ubyte", idx_bytes(images, 2051)),
                              (f"{prefix}-labels-idx1-ubyte", idx_bytes(labels, 2049))):
            if gz:
                (folder / (name + ".gz")).write_bytes(gzip.compress(payload))
            else:
                (folder / name).write_bytes(payload)
    return folder


class Evil:
    """A pickle payload that would run a shell command when unpickled naively."""

    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > /tmp/practica-pwned",))


def malicious_pickle() -> bytes:
    return pickle.dumps({"data": Evil(), "labels": [0]}, protocol=2)


def tar_with_member(archive: Path, name: str, payload: bytes = b"x", *,
                    symlink_to: str | None = None, hardlink_to: str | None = None) -> Path:
    with tarfile.open(archive, "w") as tf:
        info = tarfile.TarInfo(name)
        if symlink_to is not None:
            info.type, info.linkname = tarfile.SYMTYPE, symlink_to
            tf.addfile(info)
        elif hardlink_to is not None:
            info.type, info.linkname = tarfile.LNKTYPE, hardlink_to
            tf.addfile(info)
        else:
            info.size = len(payload)
            tf.addfile(info, io.BytesIO(payload))
    return archive


def chained_symlink_tar(archive: Path, *, levels: int = 16) -> Path:
    """An archive that escapes lexical path checks (the pattern of CVE-2025-4517).

    A chain of symlinks ``a → ddd…``, ``ddd…/b → ddd…``, … makes the on-disk path of
    ``a/b/…/p`` longer than PATH_MAX, where ``os.path.realpath`` stops resolving and
    falls back to reading the path as text. A link placed there (``a/…/p/lll… → ../…``)
    really points at the extraction folder, so ``escape → a/…/p/lll…/../..`` really
    points two folders above it, while every check on the text says "inside". The
    members ``escape/pwned`` and ``escape/victim`` then write beside the grandparent of
    the extraction folder.
    """
    comp = "d" * 247
    letters = "abcdefghijklmnopqrstuvwxyz"[:levels]

    def add(name: str, kind: bytes, target: str = "", payload: bytes = b"") -> None:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = target
        info.size = len(payload)
        tf.addfile(info, io.BytesIO(payload) if payload else None)

    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tf:
        prefix = ""
        for letter in letters:
            add(prefix + comp, tarfile.DIRTYPE)
            add(prefix + letter, tarfile.SYMTYPE, comp)
            prefix += comp + "/"
        long_link = "/".join(letters) + "/" + "l" * 254
        add(long_link, tarfile.SYMTYPE, "../" * levels)
        add("escape", tarfile.SYMTYPE, long_link + "/../..")
        add("escape/pwned", tarfile.REGTYPE, payload=b"written outside\n")
        add("escape/victim", tarfile.REGTYPE, payload=b"overwritten\n")
    return archive
