"""Galaxy Zoo (Kaggle "Galaxy Zoo – The Galaxy Challenge"), the Waterloo A5 §5 data.

On disk, as the competition distributes it (after unzipping)::

    <root>/galaxy-zoo/images_training_rev1/<GalaxyID>.jpg      61,578 RGB JPEGs, 424×424
    <root>/galaxy-zoo/training_solutions_rev1.csv             GalaxyID,Class1.1,…,Class11.6

(``<root>`` itself may also hold the two entries.) The CSV gives, per galaxy, 37 vote
fractions for the 11 questions of the Galaxy Zoo decision tree (Class1.1–1.3, 2.1–2.2, 3.1–3.2,
4.1–4.2, 5.1–5.4, 6.1–6.2, 7.1–7.3, 8.1–8.7, 9.1–9.3, 10.1–10.3, 11.1–11.6).

Images are centre-cropped (the galaxy sits in the middle; the border is mostly sky), resized
and kept as uint8 N×3×S×S. Labels (``grouping``): ``argmax`` — the index of the largest of
the 37 probabilities; ``question`` — the question (1–11) that class belongs to;
``top-level`` — the answer to question 1: smooth, features or disk, star or artifact. A
fixed-seed 10% of the galaxies is the test split. Decoded arrays are cached in the cache
folder (``np.load(allow_pickle=False)``), since decoding all JPEGs takes minutes.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..records.atomic import atomic_open
from .base import DatasetInfo, ImageDataset, Split, VerifyReport
from .store import cache_dir, data_roots

IMAGES_DIR = "images_training_rev1"
SOLUTIONS = "training_solutions_rev1.csv"
FOLDERS = ("galaxy-zoo", "galaxy_zoo", "")
QUESTION_SIZES = (3, 2, 2, 2, 4, 2, 3, 7, 3, 3, 6)
CLASS_COLUMNS = tuple(f"Class{q}.{a}" for q, n in enumerate(QUESTION_SIZES, 1)
                      for a in range(1, n + 1))
TOP_LEVEL = ("smooth", "features or disk", "star or artifact")
GROUPINGS = ("argmax", "question", "top-level")
TEST_FRACTION = 0.1
HOW_TO_GET = ("download images_training_rev1.zip and training_solutions_rev1.zip from "
              "Kaggle's galaxy-zoo-the-galaxy-challenge (needs a Kaggle login), unzip both "
              "into a galaxy-zoo/ folder under --data-dir or PRACTICA_DATA")


def locate(data_dir: str | Path | None = None) -> Path | None:
    """The first folder holding both the CSV and the image folder."""
    for root in data_roots(data_dir):
        for sub in FOLDERS:
            folder = root / sub if sub else root
            if (folder / SOLUTIONS).is_file() and (folder / IMAGES_DIR).is_dir():
                return folder
    return None


def read_solutions(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """GalaxyIDs (int64, N) and the 37 probabilities (float32, N×37) of the CSV."""
    try:
        with Path(path).open(newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise DataError(f"{path} not found; {HOW_TO_GET}") from None
    except UnicodeDecodeError:
        raise DataError(f"{path} is not a text CSV file (corrupt or still zipped?)") from None
    if not rows or tuple(c.strip() for c in rows[0]) != ("GalaxyID", *CLASS_COLUMNS):
        got = ",".join(rows[0][:4]) + ",…" if rows else "an empty file"
        raise DataError(f"{path}: header should be GalaxyID,Class1.1,…,Class11.6 (38 columns), "
                        f"got {got}")
    ids, probs = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != 38:
            raise DataError(f"{path} line {line}: {len(row)} fields, expected 38")
        try:
            ids.append(int(row[0]))
            probs.append([float(v) for v in row[1:]])
        except ValueError:
            raise DataError(f"{path} line {line}: not a number in {row[:3]}…") from None
    if not ids:
        raise DataError(f"{path}: no galaxies listed")
    p = np.asarray(probs, dtype=np.float32)
    if not np.isfinite(p).all() or p.min() < 0 or p.max() > 1:
        raise DataError(f"{path}: probabilities must lie in [0, 1]")
    return np.asarray(ids, dtype=np.int64), p


def labels_of(probs: np.ndarray, grouping: str = "argmax") -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer labels and class names for the chosen ``grouping`` (see module docstring)."""
    if grouping == "argmax":
        return probs.argmax(1).astype(np.int64), CLASS_COLUMNS
    if grouping == "question":
        question = np.repeat(np.arange(len(QUESTION_SIZES)), QUESTION_SIZES)
        names = tuple(f"Class{q}" for q in range(1, len(QUESTION_SIZES) + 1))
        return question[probs.argmax(1)].astype(np.int64), names
    if grouping == "top-level":
        return probs[:, :3].argmax(1).astype(np.int64), TOP_LEVEL
    raise DataError(f"grouping must be one of {', '.join(GROUPINGS)}, got {grouping!r}")


def load_image(path: Path, crop: int, size: int) -> np.ndarray:
    """One JPEG: centre crop ``crop × crop`` (at most the image), resize to ``size``; 3×S×S."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
            w, h = img.size
            c = min(crop, w, h)
            left, top = (w - c) // 2, (h - c) // 2
            img = img.crop((left, top, left + c, top + c))
            img = img.resize((size, size), Image.Resampling.BILINEAR)
            return np.asarray(img, dtype=np.uint8).transpose(2, 0, 1).copy()
    except FileNotFoundError:
        raise DataError(f"{path} is missing: every GalaxyID of {SOLUTIONS} needs "
                        f"{IMAGES_DIR}/<GalaxyID>.jpg") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"{path}: not a readable JPEG ({exc})") from None


def _decode_all(folder: Path, ids: np.ndarray, crop: int, size: int, progress: bool
                ) -> np.ndarray:
    from tqdm.auto import tqdm

    out = np.empty((len(ids), 3, size, size), dtype=np.uint8)
    for i, gid in enumerate(tqdm(ids, desc="galaxy-zoo", disable=not progress)):
        out[i] = load_image(folder / IMAGES_DIR / f"{gid}.jpg", crop, size)
    return out


def load(data_dir: str | Path | None = None, *, image_size: int = 64, crop: int = 256,
         grouping: str = "top-level", limit: int = 0, seed: int = 0,
         progress: bool = True) -> ImageDataset:
    """Decode Galaxy Zoo into train/test splits of uint8 N×3×S×S images with labels."""
    if grouping not in GROUPINGS:
        raise DataError(f"grouping must be one of {', '.join(GROUPINGS)}, got {grouping!r}")
    folder = locate(data_dir)
    if folder is None:
        looked = ", ".join(str(r) for r in data_roots(data_dir))
        raise DataError(f"Galaxy Zoo not found (looked for {SOLUTIONS} and {IMAGES_DIR}/ in "
                        f"galaxy-zoo/ under {looked}); {HOW_TO_GET}")
    ids, probs = read_solutions(folder / SOLUTIONS)
    if limit:
        ids, probs = ids[:limit], probs[:limit]
    key = hashlib.sha256(f"{folder.resolve()}|{len(ids)}|{ids[-1]}|{crop}|{image_size}"
                         .encode()).hexdigest()[:16]
    cached = cache_dir() / "galaxy-zoo" / f"images-{key}.npy"
    if cached.is_file():
        images = np.load(cached, allow_pickle=False)
        if images.shape != (len(ids), 3, image_size, image_size):
            raise DataError(f"{cached} does not match the data set; delete it")
    else:
        images = _decode_all(folder, ids, crop, image_size, progress)
        with atomic_open(cached, "wb", sync=False) as fh:
            np.save(fh, images, allow_pickle=False)
    labels, classes = labels_of(probs, grouping)
    order = np.random.default_rng(seed).permutation(len(ids))
    n_test = max(1, int(round(TEST_FRACTION * len(ids)))) if len(ids) > 1 else 0
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    return ImageDataset("galaxy-zoo", Split(images[train], labels[train]),
                        Split(images[test], labels[test]), classes, folder)


def _verify(folder: Path) -> VerifyReport:
    report = VerifyReport("galaxy-zoo", folder, valid=False)
    try:
        ids, _ = read_solutions(folder / SOLUTIONS)
    except DataError as exc:
        report.lines.append(f"invalid: {exc}")
        return report
    present = {p.stem for p in (folder / IMAGES_DIR).glob("*.jpg")}
    missing = [i for i in ids.tolist() if str(i) not in present]
    report.lines.append(f"{len(ids)} galaxies in {SOLUTIONS}, {len(present)} JPEGs, "
                        f"{len(missing)} missing")
    report.valid = not missing
    return report


INFO = DatasetInfo("galaxy-zoo", "Galaxy Zoo: 61,578 424×424 galaxy images with 37 vote "
                   "fractions (Kaggle)", locate, _verify, (), HOW_TO_GET)
