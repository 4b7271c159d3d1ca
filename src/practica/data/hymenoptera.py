"""Hymenoptera (ants vs bees), the PyTorch transfer-learning tutorial's data set.

Layout, inside ``hymenoptera_data.zip`` or an extracted ``hymenoptera_data/`` folder::

    hymenoptera_data/{train,val}/{ants,bees}/*.jpg

read like torchvision's ``ImageFolder``: classes are the sorted sub-folder names, label
``i`` is the ``i``-th class. The zip is read in place (no extraction, so nothing can be
written outside a folder); files whose extension is not an image extension, or that PIL
cannot decode, are skipped with a warning (the real zip holds ``train/ants/
imageNotFound.gif``, a placeholder, which ImageFolder skips too). Images are decoded once
into RGB PIL images and kept in memory (about 400 images).
"""

from __future__ import annotations

import functools
import io
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from .base import DatasetInfo, VerifyReport
from .store import Download, data_roots, file_digest

FOLDER = "hymenoptera_data"
ARCHIVE = "hymenoptera_data.zip"
SPLITS = ("train", "val")
#: What torchvision's ImageFolder accepts as images.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
#: The tutorial's file; its SHA-256 is the one the PyTorch tutorials' download script checks.
DOWNLOAD = Download(url="https://download.pytorch.org/tutorial/hymenoptera_data.zip",
                    filename=ARCHIVE, size=47_286_322,
                    sha256="fbc41b31d544714d18dd1230b1e2b455e1557766e13e67f9f5a7a23af7c02209")
HOW_TO_GET = ("run `practica data fetch hymenoptera` with network access, or put "
              "hymenoptera_data.zip (the PyTorch transfer-learning tutorial's file) or its "
              "extracted hymenoptera_data/ folder in a folder given by --data-dir or "
              "PRACTICA_DATA")


@dataclass(frozen=True)
class FolderSplit:
    """Decoded RGB images (PIL), integer labels, and the file each came from."""

    images: tuple
    labels: tuple[int, ...]
    files: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class FolderDataset:
    name: str
    splits: dict[str, FolderSplit]
    classes: tuple[str, ...]
    source: Path
    skipped: tuple[str, ...]


def locate(data_dir: str | Path | None = None) -> Path | None:
    """The extracted folder or the zip, in the first data root that has one."""
    for root in data_roots(data_dir):
        if (root / FOLDER / "train").is_dir():
            return root / FOLDER
        if (root / ARCHIVE).is_file():
            return root / ARCHIVE
    return None


def _members(source: Path) -> dict[str, bytes | Path]:
    """Relative path ``split/class/file`` → bytes (zip) or the file's path (folder)."""
    out: dict[str, bytes | Path] = {}
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            if path.is_file():
                out[path.relative_to(source).as_posix()] = path
        return out
    try:
        with zipfile.ZipFile(source) as zf:
            for info in zf.infolist():
                parts = info.filename.replace("\\", "/").split("/")
                if info.is_dir():
                    continue
                if ".." in parts or info.filename.startswith("/"):
                    warnings.warn(f"hymenoptera: skipping {info.filename!r}: a path outside "
                                  "the archive's folder (corrupt or hostile zip)", stacklevel=2)
                    continue
                if parts[0] == FOLDER:  # the real zip wraps everything in hymenoptera_data/
                    parts = parts[1:]
                out["/".join(parts)] = zf.read(info)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"{source}: not a readable zip file ({exc})") from None
    return out


def _decode(data: bytes | Path, name: str):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as img:
            return img.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        warnings.warn(f"hymenoptera: skipping {name}: cannot decode it as an image ({exc})",
                      stacklevel=3)
        return None


def read(source: str | Path) -> FolderDataset:
    """Read ``{train,val}/<class>/<image>`` from a zip or folder (see the module doc)."""
    source = Path(source)
    if not source.exists():
        raise DataError(f"{source} does not exist; {HOW_TO_GET}")
    members = _members(source)
    by_split: dict[str, dict[str, list[tuple[str, bytes | Path]]]] = {s: {} for s in SPLITS}
    for rel, data in members.items():
        parts = rel.split("/")
        if len(parts) != 3 or parts[0] not in SPLITS:
            continue
        by_split[parts[0]].setdefault(parts[1], []).append((rel, data))
    classes = tuple(sorted(by_split["train"]))
    if not classes:
        raise DataError(f"{source}: no train/<class>/ folders found; expected "
                        f"{FOLDER}/{{train,val}}/{{ants,bees}}/*.jpg")
    if tuple(sorted(by_split["val"])) != classes:
        raise DataError(f"{source}: val classes {sorted(by_split['val'])} differ from train "
                        f"classes {list(classes)}")
    splits, skipped = {}, []
    for split in SPLITS:
        images, labels, files = [], [], []
        for label, cls in enumerate(classes):
            for rel, data in sorted(by_split[split][cls]):
                if not rel.lower().endswith(IMAGE_EXTENSIONS):
                    warnings.warn(f"hymenoptera: skipping {rel}: not an image file "
                                  f"(extensions {', '.join(IMAGE_EXTENSIONS)})", stacklevel=2)
                    skipped.append(rel)
                    continue
                img = _decode(data, rel)
                if img is None:
                    skipped.append(rel)
                    continue
                images.append(img)
                labels.append(label)
                files.append(rel)
        if not images:
            raise DataError(f"{source}: no images in {split}/")
        splits[split] = FolderSplit(tuple(images), tuple(labels), tuple(files))
    return FolderDataset("hymenoptera", splits, classes, source, tuple(skipped))


@functools.lru_cache(maxsize=2)
def _read_cached(source: str) -> FolderDataset:
    return read(source)


def load(data_dir: str | Path | None = None) -> FolderDataset:
    """Find and decode hymenoptera (zip or folder) in the data roots."""
    source = locate(data_dir)
    if source is None:
        looked = ", ".join(str(r) for r in data_roots(data_dir))
        raise DataError(f"hymenoptera not found (looked in {looked}); {HOW_TO_GET}")
    return _read_cached(str(source))


def verify(source: Path) -> VerifyReport:
    report = VerifyReport("hymenoptera", source, valid=False)
    if source.is_file() and source.name == ARCHIVE:
        same = file_digest(source) == DOWNLOAD.sha256
        report.lines.append(f"{ARCHIVE}: sha256 {'matches' if same else 'DIFFERS from'} the "
                            "official file" + ("" if same else " (a re-packed copy?)"))
        if not same:
            report.modified.append(ARCHIVE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = read(source)
    except DataError as exc:
        report.lines.append(f"invalid: {exc}")
        return report
    for split, s in data.splits.items():
        counts = [s.labels.count(i) for i in range(len(data.classes))]
        report.lines.append(f"{split}: {len(s)} images, " + ", ".join(
            f"{c} {n}" for c, n in zip(data.classes, counts, strict=True)))
    if data.skipped:
        report.lines.append(f"skipped (not images): {', '.join(data.skipped)}")
    report.valid = True
    return report


INFO = DatasetInfo("hymenoptera", "ants vs bees (PyTorch transfer-learning tutorial), "
                   "244 + 153 images", locate, verify, (), HOW_TO_GET)
