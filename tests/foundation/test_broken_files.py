"""A corpus of broken files fed to every loader: truncated, bit-flipped, wrong magic,
huge headers, links. Each loader either reads the file or refuses it with one DataError
line; nothing else escapes, and nothing is written outside the test's folder."""

from __future__ import annotations

import gzip
import io
import struct
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from practica.errors import PracticaError

from .formats import idx_bytes, tar_folder, write_cifar_folder, write_mnist_folder


def truncated(raw: bytes) -> bytes:
    return raw[: len(raw) // 2]


def bit_flipped(raw: bytes) -> bytes:
    out = bytearray(raw)
    for i in range(len(out) // 3, min(len(out), len(out) // 3 + 48)):
        out[i] ^= 0xA5
    return bytes(out)


def wrong_magic(raw: bytes) -> bytes:
    return b"\x00\x11\x22\x33\x44\x55\x66\x77" + raw[8:]


def empty(raw: bytes) -> bytes:
    return b""


CORRUPTIONS: dict[str, Callable[[bytes], bytes]] = {
    "truncated": truncated, "bit-flipped": bit_flipped, "wrong-magic": wrong_magic,
    "empty": empty}


def huge_idx_header(raw: bytes) -> bytes:
    return struct.pack(">I", 2051) + struct.pack(">III", 2 ** 31, 2 ** 31, 4)


def huge_npy_member(raw: bytes) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (2 ** 40,)})
    member = buffer.getvalue() + b"\0" * 32
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("Wxh.npy", member)
    return out.getvalue()


def linked_tar(raw: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tf:
        link = tarfile.TarInfo("cifar-10-batches-py/test_batch")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tf.addfile(link)
    return out.getvalue()


# --- each data set: build a good copy, name the file to break, and how to load it ----------

def fresh(module):
    """The module's ``load`` with its in-memory cache emptied (so a file is read again)."""
    module._load_cached.cache_clear()
    return module.load


def cifar_archive(root: Path, monkeypatch) -> tuple[Path, Callable[[], object]]:
    from practica.data import cifar10

    monkeypatch.setattr(cifar10, "SIZES", (100, 30))
    cifar10._load_cached.cache_clear()
    folder = write_cifar_folder(root / "src")
    (root / "data").mkdir(parents=True)
    archive = tar_folder(folder, root / "data" / "cifar-10-python.tar.gz")
    return archive, lambda: fresh(cifar10)(root / "data", offline=True)


def cifar_batch(root: Path, monkeypatch) -> tuple[Path, Callable[[], object]]:
    from practica.data import cifar10

    monkeypatch.setattr(cifar10, "SIZES", (100, 30))
    cifar10._load_cached.cache_clear()
    folder = write_cifar_folder(root / "data")
    return folder / "data_batch_2", lambda: fresh(cifar10)(root / "data", offline=True)


def mnist_images(root: Path, monkeypatch) -> tuple[Path, Callable[[], object]]:
    from practica.data import mnist

    monkeypatch.setattr(mnist, "SIZES", (40, 20))
    mnist._load_cached.cache_clear()
    folder = write_mnist_folder(root / "data" / "mnist", gz=False)
    return folder / "train-images-idx3-ubyte", lambda: fresh(mnist)("mnist", root / "data",
                                                                    offline=True)


def mnist_gz(root: Path, monkeypatch) -> tuple[Path, Callable[[], object]]:
    from practica.data import mnist

    monkeypatch.setattr(mnist, "SIZES", (40, 20))
    mnist._load_cached.cache_clear()
    folder = write_mnist_folder(root / "data" / "mnist", gz=True)
    return folder / "t10k-labels-idx1-ubyte.gz", lambda: fresh(mnist)("mnist", root / "data",
                                                                      offline=True)


def tweets_csv(root: Path, monkeypatch) -> tuple[Path, Callable[[], object]]:
    from practica.data import tweets

    folder = root / "data" / "tweets"
    folder.mkdir(parents=True)
    rows = "".join(f"tweet {i} is {'good' if i % 2 else 'bad'},{i % 2}\n" for i in range(40))
    for name in ("tweets_train.csv", "tweets_test.csv"):
        (folder / name).write_text("text,sentiment\n" + rows)
    return folder / "tweets_train.csv", lambda: tweets.read_tweets(folder / "tweets_train.csv")


def text_file(root: Path, monkeypatch) -> tuple[Path, Callable[[], object]]:
    from practica.data.text import read_text

    path = root / "data" / "book.txt"
    path.parent.mkdir(parents=True)
    path.write_text("Once upon a time there was a fixture.\n" * 50)
    return path, lambda: read_text(path)


def char_snapshot(root: Path, monkeypatch) -> tuple[Path, Callable[[], object]]:
    from text.snapshot_fixture import random_params, write_snapshot

    from practica.data.char_rnn_snapshot import load_snapshot

    path = write_snapshot(root / "snap.npz", random_params(5, 6), "\n :ab")
    return path, lambda: load_snapshot(path)


def colour_palette(root: Path, monkeypatch) -> tuple[Path, Callable[[], object]]:
    from practica.data.colour import read_palette

    path = root / "colour_kmeans24_cat7.npy"
    np.save(path, np.random.default_rng(0).random((24, 3)), allow_pickle=False)
    return path, lambda: read_palette(path)


def hymenoptera_zip(root: Path, monkeypatch) -> tuple[Path, Callable[[], object]]:
    from transfer.fixtures import write_zip

    from practica.data import hymenoptera

    path = write_zip(root / "data" / "hymenoptera_data.zip")
    return path, lambda: hymenoptera.read(str(path))


def array_checkpoint(root: Path, monkeypatch) -> tuple[Path, Callable[[], object]]:
    from practica.train.array_checkpoint import load_arrays, save_arrays

    path = root / "last.npz"
    save_arrays(path, {"params": {"W": np.ones((4, 4))}, "step": 3})
    return path, lambda: load_arrays(path)


def torch_checkpoint(root: Path, monkeypatch) -> tuple[Path, Callable[[], object]]:
    import torch

    from practica.train.checkpoint import load_checkpoint, save_checkpoint

    path = root / "last.pt"
    save_checkpoint(path, {"model": {"w": torch.ones(8, 8)}, "step": 3})
    return path, lambda: load_checkpoint(path)


def galaxy_solutions(root: Path, monkeypatch) -> tuple[Path, Callable[[], object]]:
    from generative.galaxy_fixture import fixture_probs, write_galaxy_zoo

    from practica.data import galaxy_zoo

    folder = write_galaxy_zoo(root / "data", fixture_probs(12))
    return folder / galaxy_zoo.SOLUTIONS, lambda: galaxy_zoo.load(
        root / "data", image_size=16, crop=32, progress=False)


def galaxy_image(root: Path, monkeypatch) -> tuple[Path, Callable[[], object]]:
    from generative.galaxy_fixture import fixture_probs, write_galaxy_zoo

    from practica.data import galaxy_zoo

    folder = write_galaxy_zoo(root / "data", fixture_probs(12))
    first = sorted((folder / galaxy_zoo.IMAGES_DIR).glob("*.jpg"))[0]
    return first, lambda: galaxy_zoo.load(root / "data", image_size=16, crop=32,
                                          progress=False)


def coco_captions(root: Path, monkeypatch) -> tuple[Path, Callable[[], object]]:
    from captioning.coco_format import write_coco_folder

    from practica.data import coco_captioning

    folder = write_coco_folder(root / "data" / "coco_captioning")
    return folder / "coco2014_captions.h5", lambda: coco_captioning.load(folder=folder)


LOADERS = {"cifar-archive": cifar_archive, "cifar-batch": cifar_batch,
           "mnist-idx": mnist_images, "mnist-gz": mnist_gz, "tweets": tweets_csv,
           "text": text_file, "char-snapshot": char_snapshot, "palette": colour_palette,
           "hymenoptera": hymenoptera_zip, "npz-checkpoint": array_checkpoint,
           "pt-checkpoint": torch_checkpoint, "galaxy-csv": galaxy_solutions,
           "galaxy-jpeg": galaxy_image, "coco-hdf5": coco_captions}
#: Format-specific attacks, on top of the generic corruptions.
SPECIFIC = {"mnist-idx": {"huge-header": huge_idx_header},
            "mnist-gz": {"huge-header": lambda raw: gzip.compress(huge_idx_header(raw))},
            "char-snapshot": {"huge-header": huge_npy_member},
            "npz-checkpoint": {"huge-header": huge_npy_member},
            "cifar-archive": {"link": linked_tar}}
CASES = [(loader, name) for loader in LOADERS
         for name in [*CORRUPTIONS, *SPECIFIC.get(loader, {})]]


def listing(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")} if folder.is_dir() else set()


@pytest.mark.parametrize("loader, corruption", CASES)
def test_a_broken_file_is_read_or_refused_with_one_line(tmp_path, monkeypatch, loader,
                                                        corruption):
    root = tmp_path / "work"
    root.mkdir()
    target, load = LOADERS[loader](root, monkeypatch)
    load()  # the good copy loads
    breaker = {**CORRUPTIONS, **SPECIFIC.get(loader, {})}[corruption]
    target.write_bytes(breaker(target.read_bytes()))
    outside = tmp_path.parent
    before = listing(outside) - listing(tmp_path)
    try:
        load()
    except PracticaError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message, message
    after = listing(outside) - listing(tmp_path)
    assert after <= before, f"written outside the test folder: {sorted(after - before)[:3]}"


def test_the_cli_never_shows_a_traceback_for_a_broken_data_set(tmp_path, capsys,
                                                               monkeypatch):
    from practica import cli
    from practica.data import mnist

    monkeypatch.setattr(mnist, "SIZES", (40, 20))
    mnist._load_cached.cache_clear()
    folder = write_mnist_folder(tmp_path / "data" / "mnist", gz=False)
    path = folder / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((40, 28, 28)), 2051)[:-100])
    code = cli.main(["data", "verify", "mnist", "--data-dir", str(tmp_path / "data")])
    out = capsys.readouterr()
    assert code == 1 and "INVALID" in out.out and "truncated" in out.out
    assert "Traceback" not in out.err
