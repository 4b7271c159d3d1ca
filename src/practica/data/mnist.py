"""MNIST and Fashion-MNIST in the IDX format (gzipped or raw).

IDX: a big-endian header — two zero bytes, a type code (0x08 = uint8), the number of
dimensions, then one uint32 per dimension — followed by the raw array. Images have magic
number 2051 (0x00000803, three dimensions) and labels 2049 (0x00000801, one dimension).
Files are searched in ``<root>/mnist/`` (``<root>/fashion-mnist/``) and ``<root>/`` of each
data root; Fashion-MNIST also in ``/usr/share/datasets/fashion-mnist`` (Debian's package
``dataset-fashion-mnist``).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError
from .base import DatasetInfo, ImageDataset, Split, VerifyReport
from .store import Download, cache_dir, data_roots, download

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
#: Rows expected in the training and test sets (tests shrink this for tiny fixtures).
SIZES = (60000, 10000)
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class IdxSet:
    """One IDX data set: its name, folder names, downloads and known content MD5s."""

    name: str
    folders: tuple[str, ...]
    system_dirs: tuple[str, ...]
    base_url: str
    gz_md5: dict[str, str]
    raw_md5: dict[str, str]
    classes: tuple[str, ...]
    description: str
    mirror_url: str = ""  # tried when base_url fails
    gz_size: dict[str, int] = field(default_factory=dict)  # bytes of each .gz download

    def downloads(self) -> tuple[Download, ...]:
        mirrors = (self.mirror_url,) if self.mirror_url else ()
        return tuple(Download(self.base_url + FILES[k] + ".gz", FILES[k] + ".gz", md5=md5,
                              mirrors=tuple(m + FILES[k] + ".gz" for m in mirrors),
                              size=self.gz_size.get(k))
                     for k, md5 in self.gz_md5.items())

    def how_to_get(self) -> str:
        extra = (" (or `apt-get install dataset-fashion-mnist`)" if self.system_dirs else "")
        return (f"run `practica data fetch {self.name}` with network access{extra}, or put the "
                f"four IDX files in {self.folders[0]}/ under --data-dir or PRACTICA_DATA")


MNIST = IdxSet(
    name="mnist", folders=("mnist", "MNIST/raw", ""), system_dirs=(),
    base_url="https://ossci-datasets.s3.amazonaws.com/mnist/",
    gz_md5={"train_images": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train_labels": "d53e105ee54ea40749a09fcbcd1e9432",
            "test_images": "9fb629c4189551a2d022fa330f9573f3",
            "test_labels": "ec29112dd5afa0611ce80d1b7f02629c"},
    raw_md5={"train_images": "6bbc9ace898e44ae57da46a324031adb",
             "train_labels": "a25bea736e30d166cdddb491f175f624",
             "test_images": "2646ac647ad5339dbf082846283269ea",
             "test_labels": "27ae3e4e09519cfbb04c329615203637"},
    classes=tuple(str(i) for i in range(10)),
    description="MNIST: 60,000 + 10,000 28×28 handwritten digits",
    mirror_url="http://yann.lecun.com/exdb/mnist/",
    gz_size={"train_images": 9_912_422, "train_labels": 28_881, "test_images": 1_648_877,
             "test_labels": 4_542},
)
FASHION_MNIST = IdxSet(
    name="fashion-mnist", folders=("fashion-mnist", "FashionMNIST/raw"),
    system_dirs=("/usr/share/datasets/fashion-mnist",),
    base_url="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    gz_md5={"train_images": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train_labels": "25c81989df183df01b3e8a0aad5dffbe",
            "test_images": "bef4ecab320f06d8554ea6380940ec79",
            "test_labels": "bb300cfdad3c16e7a12a480ee83cd310"},
    raw_md5={},
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
             "Sneaker", "Bag", "Ankle boot"),
    description="Fashion-MNIST: 60,000 + 10,000 28×28 clothing images, 10 classes",
    gz_size={"train_images": 26_421_880, "train_labels": 29_515, "test_images": 4_422_102,
             "test_labels": 5_148},
)
SETS = {s.name: s for s in (MNIST, FASHION_MNIST)}


def _file_in(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        if (folder / name).is_file():
            return folder / name
    return None


def locate(spec: IdxSet, data_dir: str | Path | None = None) -> Path | None:
    """The first folder holding all four IDX files of ``spec``."""
    candidates = [root / sub for root in data_roots(data_dir) for sub in spec.folders]
    candidates += [Path(d) for d in spec.system_dirs]
    for folder in candidates:
        if all(_file_in(folder, stem) for stem in FILES.values()):
            return folder
    return None


def read_bytes(path: Path) -> bytes:
    """The decompressed bytes of an IDX file (gzip detected by its magic bytes)."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path}: corrupt gzip file ({exc}); delete it and fetch it "
                            "again") from None
    return raw


def parse_idx(raw: bytes, expected_magic: int, what: str) -> np.ndarray:
    """Decode an IDX byte string of unsigned bytes; validate magic number and size."""
    if len(raw) < 8:
        raise DataError(f"{what}: file too short to be IDX ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected_magic:
        kind = "images" if expected_magic == IMAGES_MAGIC else "labels"
        raise DataError(f"{what}: magic number {magic} is not the IDX {kind} magic "
                        f"{expected_magic}; wrong or corrupt file")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    size = math.prod(dims) if dims else 0  # exact: np.prod would wrap around at 2**63
    if len(raw) != header + size:
        raise DataError(f"{what}: header says {dims} ({header + size} bytes) but the file has "
                        f"{len(raw)} bytes; truncated or corrupt")
    return np.frombuffer(raw, dtype=np.uint8, count=size, offset=header).reshape(dims)


def _read_split(folder: Path, prefix: str) -> Split:
    img_path = _file_in(folder, FILES[f"{prefix}_images"])
    lab_path = _file_in(folder, FILES[f"{prefix}_labels"])
    if img_path is None or lab_path is None:
        raise DataError(f"{folder}: missing {prefix} IDX files")
    images = parse_idx(read_bytes(img_path), IMAGES_MAGIC, str(img_path))
    labels = parse_idx(read_bytes(lab_path), LABELS_MAGIC, str(lab_path))
    if images.ndim != 3:
        raise DataError(f"{img_path}: expected 3 dimensions (N, rows, cols), got {images.shape}")
    if images.shape[1:] != (28, 28):
        raise DataError(f"{img_path}: images are {images.shape[1]}×{images.shape[2]}; MNIST and "
                        "Fashion-MNIST images are 28×28 (is this the right file?)")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(f"{lab_path}: {len(labels)} labels for {len(images)} images")
    if labels.size and labels.max() > 9:
        raise DataError(f"{lab_path}: label {labels.max()} outside 0..9")
    return Split(images[:, None].copy(), labels.astype(np.int64))


@functools.lru_cache(maxsize=4)
def _load_cached(name: str, folder: str, expected: tuple[int, int]) -> ImageDataset:
    spec = SETS[name]
    train, test = _read_split(Path(folder), "train"), _read_split(Path(folder), "test")
    if (len(train), len(test)) != expected:
        raise DataError(f"{name} in {folder}: expected {expected[0]} training and "
                        f"{expected[1]} test images, found {len(train)} and {len(test)}")
    return ImageDataset(name, train, test, spec.classes, Path(folder))


def load(name: str = "mnist", data_dir: str | Path | None = None, *, offline: bool = False,
         progress: bool = True) -> ImageDataset:
    """Find (or download), validate and decode MNIST or Fashion-MNIST (N×1×28×28 uint8)."""
    spec = SETS[name]
    folder = locate(spec, data_dir)
    if folder is None:
        looked = ", ".join(str(r) for r in data_roots(data_dir))
        missing = f"{name} not found (looked in {looked}); {spec.how_to_get()}"
        if offline:
            raise DataError(missing)
        folder = cache_dir() / spec.folders[0]
        try:
            for item in spec.downloads():
                download(item, folder, progress=progress)
        except DataError as exc:
            raise DataError(f"{missing}; download failed: {exc}") from None
    return _load_cached(name, str(folder), SIZES)


def _verify(spec: IdxSet, folder: Path) -> VerifyReport:
    report = VerifyReport(spec.name, folder, valid=False)
    try:
        train, test = _read_split(folder, "train"), _read_split(folder, "test")
    except DataError as exc:
        report.lines.append(f"invalid: {exc}")
        return report
    for key, stem in FILES.items():
        known = spec.raw_md5.get(key)
        if known:
            digest = hashlib.md5(read_bytes(_file_in(folder, stem))).hexdigest()
            state = "matches official" if digest == known else "DIFFERS from official"
            report.lines.append(f"{stem}: content md5 {state}")
            if digest != known:
                report.modified.append(stem)
    report.lines.append(f"structure ok: {len(train)} train / {len(test)} test images "
                        f"of {train.images.shape[2]}×{train.images.shape[3]}")
    report.valid = (len(train), len(test)) == SIZES
    if not report.valid:
        report.lines.append(f"unexpected sizes: expected {SIZES[0]} train / {SIZES[1]} test")
    return report


def _info(spec: IdxSet) -> DatasetInfo:
    return DatasetInfo(spec.name, spec.description,
                       lambda data_dir=None: locate(spec, data_dir),
                       lambda folder: _verify(spec, folder), spec.downloads(), spec.how_to_get())


INFO_MNIST = _info(MNIST)
INFO_FASHION = _info(FASHION_MNIST)
