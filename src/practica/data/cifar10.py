"""CIFAR-10 (Krizhevsky 2009) in its official Python format.

Accepted sources, searched in every data root: the extracted ``cifar-10-batches-py/``
folder, the official ``cifar-10-python.tar.gz``, or any tar archive of that folder (e.g.
``cifar-10-batches-py.tar.xz``). Archives are extracted once, safely, into the cache.
Each batch is a pickled dict ``{data: uint8 N×3072 (R, G, B planes of 32×32), labels:
list[int]}``; it is read with an allow-list unpickler, so a batch holding any other
object is refused.
"""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from ..errors import DataError
from .base import DatasetInfo, ImageDataset, Split, VerifyReport
from .store import (
    Download,
    cache_dir,
    data_roots,
    download,
    file_digest,
    restricted_loads,
    safe_extract,
)

FOLDER = "cifar-10-batches-py"
ARCHIVES = ("cifar-10-python.tar.gz", "cifar-10-batches-py.tar.xz", "cifar-10-batches-py.tar.gz",
            "cifar-10-batches-py.tar", "cifar-10-python.tar")
#: Rows expected in the training and test sets (tests shrink this for tiny fixtures).
SIZES = (50000, 10000)
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")
#: Published MD5s of the official files (the archive and the members inside it).
OFFICIAL_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
DOWNLOAD = Download(url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                    filename="cifar-10-python.tar.gz", md5="c58f30108f718f92721af3b95e74349a",
                    size=170_498_071)
HOW_TO_GET = ("run `practica data fetch cifar10` with network access, or put "
              "cifar-10-python.tar.gz (or the extracted cifar-10-batches-py/ folder) in a "
              "folder given by --data-dir or PRACTICA_DATA")


def locate(data_dir: str | Path | None = None) -> Path | None:
    """The first CIFAR-10 source found in the data roots (folder or archive)."""
    for root in data_roots(data_dir):
        if (root / FOLDER / TEST_BATCH).is_file():
            return root / FOLDER
        for name in ARCHIVES:
            if (root / name).is_file():
                return root / name
    return None


#: A temporary extraction folder older than this is a leftover of a killed process.
STALE_PART_SECONDS = 3600


@functools.lru_cache(maxsize=8)
def _archive_digest(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of an archive, once per process per version of the file."""
    return file_digest(path, "sha256")


def _members(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_size
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".complete"}


def _trusted(dest: Path) -> bool:
    """A cache entry is used only when its marker lists every member at its size."""
    try:
        marker = json.loads((dest / ".complete").read_text())
        return bool(marker["members"]) and _members(dest) == marker["members"]
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _clean_cache(parent: Path, archive: Path, keep: Path) -> None:
    """Remove partial folders of killed extractions, and older copies of this archive."""
    now = time.time()
    for entry in parent.iterdir() if parent.is_dir() else ():
        if entry == keep:
            continue
        if entry.name.endswith(".part") and now - entry.stat().st_mtime > STALE_PART_SECONDS:
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(f"{archive.name}-") and not entry.name.endswith(".part"):
            try:
                source = json.loads((entry / ".complete").read_text()).get("source")
            except (OSError, ValueError):
                source = None
            if source == str(archive):  # the same file, since changed: a stale copy
                shutil.rmtree(entry, ignore_errors=True)


def _extracted_folder(archive: Path) -> Path:
    """Extract ``archive`` into the cache once, keyed by its content, and return the folder.

    The key is the archive's SHA-256, so a copy whose modification time changes is not
    extracted again, and a changed archive gets its own entry (the stale one is removed).
    An entry is trusted only if its marker lists every member at its size; partial folders
    left by a killed process are removed after an hour.
    """
    stat = archive.stat()
    digest = _archive_digest(str(archive), stat.st_size, stat.st_mtime_ns)
    dest = cache_dir() / "extracted" / f"{archive.name}-{digest[:16]}"
    if _trusted(dest) and (dest / FOLDER / TEST_BATCH).is_file():
        return dest / FOLDER
    # A private temporary folder, renamed into place: two runs extracting at once each use
    # their own, and the loser of the rename simply uses the winner's complete copy.
    dest.parent.mkdir(parents=True, exist_ok=True)
    _clean_cache(dest.parent, archive, dest)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent))
    try:
        safe_extract(archive, tmp)
        if not (tmp / FOLDER).is_dir():
            raise DataError(f"{archive} does not contain a {FOLDER}/ folder; is it CIFAR-10?")
        marker = {"source": str(archive), "sha256": digest, "members": _members(tmp)}
        (tmp / ".complete").write_text(json.dumps(marker))
        if dest.exists() and not _trusted(dest):
            shutil.rmtree(dest, ignore_errors=True)  # an incomplete or damaged copy
        try:
            tmp.rename(dest)
        except OSError:
            if not _trusted(dest):  # not another run's complete copy: a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest / FOLDER


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one pickled batch; validate and return (images N×3×32×32 uint8, labels int64)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"CIFAR-10 batch missing: {path}") from None
    batch = restricted_loads(raw, what=f"CIFAR-10 batch {path.name}")
    if not isinstance(batch, dict):
        raise DataError(f"CIFAR-10 batch {path.name}: expected a dict, got {type(batch).__name__}")
    batch = {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise DataError(f"CIFAR-10 batch {path.name}: missing 'data' or 'labels' "
                        f"(keys: {sorted(batch)})")
    data, labels = batch["data"], batch["labels"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != 3072:
        shape = getattr(data, "shape", None)
        dtype = getattr(data, "dtype", type(data).__name__)
        raise DataError(f"CIFAR-10 batch {path.name}: 'data' must be uint8 of shape (N, 3072), "
                        f"got {dtype} {shape}")
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != data.shape[0] or labels.dtype.kind not in "iu":
        raise DataError(f"CIFAR-10 batch {path.name}: 'labels' must be {data.shape[0]} integers, "
                        f"got {labels.dtype} {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"CIFAR-10 batch {path.name}: labels outside 0..9 "
                        f"(min {labels.min()}, max {labels.max()})")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def _read_folder(folder: Path, expected: tuple[int, int] | None = None) -> tuple[Split, Split]:
    expected = expected or SIZES
    parts = [read_batch(folder / name) for name in TRAIN_BATCHES]
    train = Split(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    test = Split(*read_batch(folder / TEST_BATCH))
    if (len(train), len(test)) != expected:
        raise DataError(f"CIFAR-10 in {folder}: expected {expected[0]} training and "
                        f"{expected[1]} test images, found {len(train)} and {len(test)}")
    return train, test


def folder_of(source: Path) -> Path:
    """The batches folder for a located source (extracting an archive if needed)."""
    return source if source.is_dir() else _extracted_folder(source)


@functools.lru_cache(maxsize=2)
def _load_cached(source: str, expected: tuple[int, int]) -> ImageDataset:
    folder = folder_of(Path(source))
    train, test = _read_folder(folder, expected)
    return ImageDataset("cifar10", train, test, CLASSES, Path(source))


def load(data_dir: str | Path | None = None, *, offline: bool = False,
         progress: bool = True) -> ImageDataset:
    """Find (or download), validate and decode CIFAR-10; cached in memory per process."""
    source = locate(data_dir)
    if source is None:
        if offline:
            raise DataError(_missing_message(data_dir))
        try:
            source = download(DOWNLOAD, progress=progress)
        except DataError as exc:
            raise DataError(f"{_missing_message(data_dir)}; download failed: {exc}") from None
    return _load_cached(str(source), SIZES)


def _missing_message(data_dir: str | Path | None) -> str:
    looked = ", ".join(str(r) for r in data_roots(data_dir))
    return f"CIFAR-10 not found (looked in {looked}); {HOW_TO_GET}"


def verify(source: Path) -> VerifyReport:
    """Validate structure and compare each file with the official MD5s."""
    report = VerifyReport("cifar10", source, valid=False)
    if source.is_file() and source.name == DOWNLOAD.filename:
        ok = file_digest(source, "md5") == DOWNLOAD.md5
        report.lines.append(f"{source.name}: md5 {'matches' if ok else 'DIFFERS from'} "
                            "the official archive")
        if not ok:
            report.modified.append(source.name)
    try:
        folder = folder_of(source)
        train, test = _read_folder(folder)
    except DataError as exc:
        report.lines.append(f"invalid: {exc}")
        return report
    for name, md5 in OFFICIAL_MD5.items():
        path = folder / name
        if not path.is_file():
            report.lines.append(f"{name}: missing")
            continue
        same = file_digest(path, "md5") == md5
        report.lines.append(f"{name}: md5 {'matches' if same else 'DIFFERS from'} official")
        if not same:
            report.modified.append(name)
    counts = np.bincount(test.labels, minlength=10)
    report.lines.append(f"structure ok: {len(train)} train / {len(test)} test images, "
                        f"test images per class {counts.min()}–{counts.max()}")
    report.valid = True
    return report


INFO = DatasetInfo("cifar10", "CIFAR-10: 50,000 + 10,000 32×32 colour images, 10 classes",
                   locate, verify, (DOWNLOAD,), HOW_TO_GET)
