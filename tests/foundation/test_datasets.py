import gzip
import hashlib
import os
import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from practica.data import DATASETS, cifar10, mnist
from practica.errors import DataError

from .formats import (
    cifar_batch,
    idx_bytes,
    malicious_pickle,
    tar_folder,
    write_cifar_folder,
    write_mnist_folder,
)


@pytest.fixture
def small_sizes(monkeypatch):
    monkeypatch.setattr(cifar10, "SIZES", (100, 30))
    monkeypatch.setattr(mnist, "SIZES", (40, 20))


def test_cifar_from_folder(tmp_path, small_sizes):
    write_cifar_folder(tmp_path)
    ds = cifar10.load(tmp_path, offline=True)
    assert ds.train.images.shape == (100, 3, 32, 32) and ds.train.images.dtype == np.uint8
    assert ds.test.labels.dtype == np.int64 and len(ds.test) == 30
    expected = cifar_batch(20, 1)
    np.testing.assert_array_equal(ds.train.images[:20].reshape(20, -1), expected["data"])
    assert ds.train.labels[:20].tolist() == expected["labels"]
    assert ds.classes[0] == "airplane"


@pytest.mark.parametrize("mode, name", [("w:gz", "cifar-10-python.tar.gz"),
                                        ("w:xz", "cifar-10-batches-py.tar.xz")])
def test_cifar_from_archives(tmp_path, small_sizes, mode, name):
    folder = write_cifar_folder(tmp_path / "src")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    tar_folder(folder, data_dir / name, mode)
    assert cifar10.locate(data_dir) == data_dir / name
    ds = cifar10.load(data_dir, offline=True)
    assert len(ds.train) == 100
    # extracted once into the cache, reused afterwards
    extracted = list((tmp_path / "cache" / "extracted").iterdir())
    assert len(extracted) == 1 and (extracted[0] / ".complete").is_file()


def test_cifar_extraction_survives_concurrent_runs_and_crash_leftovers(tmp_path, small_sizes):
    """Two runs extracting the same archive at once, and a half-written copy left by a crash,
    both end with one complete cached folder and no temporary folders."""
    folder = write_cifar_folder(tmp_path / "src")
    archive = tmp_path / "data" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    tar_folder(folder, archive, "w:gz")
    cache = tmp_path / "cache" / "extracted"
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    crashed = cache / f"{archive.name}-{digest[:16]}"
    (crashed / "cifar-10-batches-py").mkdir(parents=True)  # no .complete marker
    with ThreadPoolExecutor(4) as pool:
        folders = list(pool.map(lambda _: cifar10._extracted_folder(archive), range(4)))
    assert set(folders) == {crashed / "cifar-10-batches-py"}
    assert (crashed / ".complete").is_file()
    assert (folders[0] / "test_batch").is_file()
    assert [p.name for p in cache.iterdir()] == [crashed.name]


def test_cifar_cache_is_keyed_by_content_and_verified(tmp_path, small_sizes):
    """A new mtime reuses the entry; a damaged entry is extracted again; a changed archive
    replaces its stale copy; partial folders of killed extractions are removed."""
    folder = write_cifar_folder(tmp_path / "src")
    archive = tmp_path / "data" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    tar_folder(folder, archive, "w:gz")
    cache = tmp_path / "cache" / "extracted"
    first = cifar10._extracted_folder(archive)
    os.utime(archive, (1e9, 1e9))  # same bytes, another modification time
    assert cifar10._extracted_folder(archive) == first
    (first / "data_batch_2").write_bytes(b"truncated")  # a damaged entry is not trusted
    again = cifar10._extracted_folder(archive)
    assert again == first and (again / "data_batch_2").stat().st_size > 1000
    orphan = cache / ".cifar-10-python.tar.gz-x.abc.part"
    orphan.mkdir()
    os.utime(orphan, (1e9, 1e9))  # left by a process killed long ago
    (folder / "test_batch").write_bytes((folder / "data_batch_1").read_bytes())
    archive.unlink()
    tar_folder(folder, archive, "w:gz")  # new content: a new entry, the old one removed
    changed = cifar10._extracted_folder(archive)
    assert changed != first and [p.name for p in cache.iterdir()] == [changed.parent.name]


def test_cifar_malicious_batch_is_refused(tmp_path, small_sizes):
    folder = write_cifar_folder(tmp_path)
    (folder / "data_batch_3").write_bytes(malicious_pickle())
    with pytest.raises(DataError, match="refusing to unpickle"):
        cifar10.load(tmp_path, offline=True)


@pytest.mark.parametrize("mutate, message", [
    (lambda b: b.update(data=b["data"].astype(np.float32)), "must be uint8"),
    (lambda b: b.update(data=b["data"][:, :100]), r"shape \(N, 3072\)"),
    (lambda b: b.update(labels=[11] * len(b["labels"])), "outside 0..9"),
    (lambda b: b.update(labels=b["labels"][:-1]), "'labels' must be 20 integers"),
    (lambda b: b.pop("labels"), "missing 'data' or 'labels'"),
])
def test_cifar_validation_errors(tmp_path, small_sizes, mutate, message):
    folder = write_cifar_folder(tmp_path)
    batch = cifar_batch(20, 2)
    mutate(batch)
    (folder / "data_batch_2").write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(DataError, match=message):
        cifar10.load(tmp_path, offline=True)


def test_cifar_wrong_row_count(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "SIZES", (50000, 10000))
    write_cifar_folder(tmp_path)
    with pytest.raises(DataError, match="expected 50000 training and 10000 test images, "
                                        "found 100 and 30"):
        cifar10.load(tmp_path, offline=True)


def test_cifar_missing_offline_names_places_and_remedy(tmp_path):
    with pytest.raises(DataError, match=r"CIFAR-10 not found \(looked in .*practica data fetch"):
        cifar10.load(tmp_path / "empty", offline=True)


def test_cifar_verify_report(tmp_path, small_sizes):
    write_cifar_folder(tmp_path)
    report = DATASETS["cifar10"].verify(DATASETS["cifar10"].locate(tmp_path))
    assert report.valid
    assert any("DIFFERS from official" in line for line in report.lines)
    assert "test_batch" in report.modified and "data_batch_1" in report.modified


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_gz_and_raw(tmp_path, small_sizes, gz):
    write_mnist_folder(tmp_path / "mnist", gz=gz)
    ds = mnist.load("mnist", tmp_path, offline=True)
    assert ds.train.images.shape == (40, 1, 28, 28) and ds.test.labels.shape == (20,)


def test_fashion_mnist_folder(tmp_path, small_sizes):
    write_mnist_folder(tmp_path / "fashion-mnist")
    ds = mnist.load("fashion-mnist", tmp_path, offline=True)
    assert ds.classes[-1] == "Ankle boot"


def test_idx_bad_magic_and_truncation(tmp_path, small_sizes):
    folder = write_mnist_folder(tmp_path / "mnist")
    labels = np.zeros(40, dtype=np.uint8)
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels, 2051)))
    with pytest.raises(DataError, match="magic number 2051 is not the IDX labels magic 2049"):
        mnist.load("mnist", tmp_path, offline=True)
    images = np.zeros((40, 28, 28), dtype=np.uint8)
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels, 2049)))
    (folder / "train-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(images, 2051)[:-10]))
    with pytest.raises(DataError, match="truncated or corrupt"):
        mnist.load("mnist", tmp_path, offline=True)


def test_idx_label_count_mismatch(tmp_path, small_sizes):
    folder = write_mnist_folder(tmp_path / "mnist")
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(np.zeros(39, dtype=np.uint8), 2049)))
    with pytest.raises(DataError, match="39 labels for 40 images"):
        mnist.load("mnist", tmp_path, offline=True)


def test_corrupt_gzip(tmp_path, small_sizes):
    folder = write_mnist_folder(tmp_path / "mnist")
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b" + b"junk" * 10)
    with pytest.raises(DataError, match="corrupt gzip"):
        mnist.load("mnist", tmp_path, offline=True)
