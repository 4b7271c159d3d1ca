"""Data for colourisation and super-resolution: CIFAR-10 horses and colour palettes.

The handout (IIT-H CS6360 A2 §1, after the CSC321 colourisation assignment) uses only
CIFAR-10 class 7 (horse): 5000 training and 1000 test images, pixels scaled to [0, 1].
The greyscale input is the channel mean ``g = (r + g + b) / 3``.

Colourisation as classification needs a palette of K colours (k-means centres of horse
pixels). The assignment ships them as ``colourization/colour_kmeans{16,24,32}_cat7.npy``:
a ``.npy`` object array ``[centres (K, 3), distortion]``, i.e. a pickle inside a ``.npy``.
It is parsed here with the allow-list unpickler (never ``np.load(allow_pickle=True)``);
:func:`kmeans` computes an equivalent palette when the file is not there. A pixel's class
is its nearest centre in RGB: ``c(x) = argmin_k ||x - m_k||²``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .base import DatasetInfo, VerifyReport
from .store import data_roots, read_npy_header, read_plain_npy, restricted_loads

HORSE = 7
FOLDER = "colourization"
PALETTE_SIZES = (16, 24, 32)
HOW_TO_GET = ("put the assignment's colourization/colour_kmeans{16,24,32}_cat7.npy in a "
              "folder given by --data-dir or PRACTICA_DATA (optional: without them the "
              "palette is computed with k-means)")


@dataclass(frozen=True)
class Horses:
    """CIFAR-10 horses as float32 RGB in [0, 1], N×3×32×32."""

    train: np.ndarray
    test: np.ndarray


def horses_from(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The horse images (class 7) of a uint8 N×3×H×W split, as float32 in [0, 1]."""
    return images[labels == HORSE].astype(np.float32) / 255.0


def load_horses(data_dir: str | Path | None = None, *, offline: bool = False,
                progress: bool = True) -> Horses:
    """CIFAR-10 class 7 through the project's CIFAR-10 loader (5000 train / 1000 test)."""
    from . import cifar10

    ds = cifar10.load(data_dir, offline=offline, progress=progress)
    train = horses_from(ds.train.images, ds.train.labels)
    test = horses_from(ds.test.images, ds.test.labels)
    if len(train) == 0 or len(test) == 0:
        raise DataError(f"CIFAR-10 in {ds.source} has no horse images (class {HORSE}) in "
                        "the training or test split")
    return Horses(train, test)


def greyscale(rgb: np.ndarray) -> np.ndarray:
    """Channel mean of N×3×H×W images: N×1×H×W."""
    if rgb.ndim != 4 or rgb.shape[1] != 3:
        raise DataError(f"greyscale expects N×3×H×W images, got shape {rgb.shape}")
    return rgb.mean(axis=1, keepdims=True)


# --- palettes --------------------------------------------------------------------------

def palette_filename(k: int) -> str:
    return f"colour_kmeans{k}_cat7.npy"


def locate_palette(k: int, data_dir: str | Path | None = None) -> Path | None:
    """``colourization/colour_kmeans{k}_cat7.npy`` (or the bare file) in the data roots."""
    for root in data_roots(data_dir):
        for path in (root / FOLDER / palette_filename(k), root / palette_filename(k)):
            if path.is_file():
                return path
    return None


def _check_centres(centres: object, what: str) -> np.ndarray:
    if not isinstance(centres, np.ndarray) or centres.ndim != 2 or centres.shape[1] != 3 \
            or centres.shape[0] < 1 or centres.dtype.kind not in "fiu":
        shape = getattr(centres, "shape", type(centres).__name__)
        raise DataError(f"{what}: expected numeric colour centres of shape (K, 3), got {shape}")
    centres = centres.astype(np.float64)
    if not np.all(np.isfinite(centres)) or centres.min() < -1e-6 or centres.max() > 1 + 1e-6:
        raise DataError(f"{what}: colour centres must be finite RGB values in [0, 1]")
    return centres


def read_palette_bytes(raw: bytes, what: str = "palette") -> tuple[np.ndarray, float | None]:
    """Parse a palette ``.npy``: (centres K×3 float64, distortion or None).

    Two layouts are accepted: the assignment's object array ``[centres, distortion]``
    (a pickle after the ``.npy`` header, read with the allow-list unpickler) and a plain
    numeric (K, 3) array (read with ``allow_pickle=False``).
    """
    shape, _, dtype, offset = read_npy_header(raw, what)
    if dtype != np.dtype(object):
        return _check_centres(read_plain_npy(raw, what), what), None
    obj = restricted_loads(raw[offset:], what=what)
    if not isinstance(obj, np.ndarray) or obj.shape != (2,) or shape != (2,):
        raise DataError(f"{what}: expected an object array [centres, distortion], got "
                        f"{getattr(obj, 'shape', type(obj).__name__)}")
    centres = _check_centres(obj[0], what)
    try:
        distortion = float(obj[1])
    except (TypeError, ValueError):
        raise DataError(f"{what}: the distortion must be a number, got "
                        f"{type(obj[1]).__name__}") from None
    return centres, distortion


def read_palette(path: str | Path) -> tuple[np.ndarray, float | None]:
    """Read a palette file safely (see :func:`read_palette_bytes`)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read palette {path}: {exc.strerror or exc}") from None
    return read_palette_bytes(raw, what=f"palette {path.name}")


def kmeans(points: np.ndarray, k: int, *, seed: int = 0, iterations: int = 30,
           sample: int = 200_000) -> tuple[np.ndarray, float]:
    """Lloyd's k-means with k-means++ seeding: (centres k×D, distortion).

    Minimises ``(1/n) Σ_i min_k ||x_i - m_k||²``; the distortion returned is the mean
    Euclidean distance to the nearest centre, as in the assignment's files (SciPy's
    convention). At most ``sample`` points (drawn with the seed) are used.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or len(points) < k or k < 1:
        raise DataError(f"k-means needs at least k={k} points of shape (n, D), "
                        f"got {points.shape}")
    rng = np.random.default_rng(seed)
    if len(points) > sample:
        points = points[rng.choice(len(points), sample, replace=False)]
    centres = [points[rng.integers(len(points))]]
    d2 = ((points - centres[0]) ** 2).sum(1)
    for _ in range(1, k):  # k-means++: next centre with probability ∝ squared distance
        total = d2.sum()
        idx = rng.choice(len(points), p=d2 / total) if total > 0 else rng.integers(len(points))
        centres.append(points[idx])
        d2 = np.minimum(d2, ((points - points[idx]) ** 2).sum(1))
    c = np.array(centres)
    for _ in range(iterations):
        assign = nearest_centre(points, c)
        new = c.copy()
        for j in range(k):
            members = points[assign == j]
            if len(members):
                new[j] = members.mean(0)
        if np.allclose(new, c):
            break
        c = new
    assign = nearest_centre(points, c)
    distortion = float(np.sqrt(((points - c[assign]) ** 2).sum(1)).mean())
    return c, distortion


def nearest_centre(points: np.ndarray, centres: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Index of the nearest centre (squared Euclidean; ties → lowest index) per row."""
    out = np.empty(len(points), dtype=np.int64)
    c2 = (centres ** 2).sum(1)
    for start in range(0, len(points), chunk):
        p = points[start:start + chunk]
        d = (p ** 2).sum(1, keepdims=True) - 2 * p @ centres.T + c2
        out[start:start + chunk] = d.argmin(1)
    return out


def colour_classes(rgb: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Per-pixel palette class of N×3×H×W images: int64 N×H×W."""
    if rgb.ndim != 4 or rgb.shape[1] != 3:
        raise DataError(f"colour_classes expects N×3×H×W images, got shape {rgb.shape}")
    n, _, h, w = rgb.shape
    flat = rgb.transpose(0, 2, 3, 1).reshape(-1, 3).astype(np.float64)
    # exact squared distances (no expansion) so ties and near-ties are decided correctly
    out = np.empty(len(flat), dtype=np.int64)
    for start in range(0, len(flat), 65536):
        p = flat[start:start + 65536, None, :]
        out[start:start + 65536] = ((p - centres[None]) ** 2).sum(-1).argmin(1)
    return out.reshape(n, h, w)


def classes_to_rgb(classes: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Palette colours of N×H×W class maps: float32 N×3×H×W."""
    return centres[classes].transpose(0, 3, 1, 2).astype(np.float32)


def palette_pixels(rgb: np.ndarray) -> np.ndarray:
    """All pixels of N×3×H×W images as an (N·H·W)×3 array."""
    return rgb.transpose(0, 2, 3, 1).reshape(-1, 3)


# --- `practica data` entry -------------------------------------------------------------

def locate_folder(data_dir: str | Path | None = None) -> Path | None:
    for k in PALETTE_SIZES:
        path = locate_palette(k, data_dir)
        if path is not None:
            return path.parent
    return None


def verify(folder: Path) -> VerifyReport:
    report = VerifyReport("colour-palette", folder, valid=True)
    for k in PALETTE_SIZES:
        path = folder / palette_filename(k)
        if not path.is_file():
            report.lines.append(f"{path.name}: missing")
            report.valid = False
            continue
        try:
            centres, distortion = read_palette(path)
        except DataError as exc:
            report.lines.append(f"invalid: {exc}")
            report.valid = False
            continue
        ok = len(centres) == k
        report.valid &= ok
        report.lines.append(f"{path.name}: {len(centres)} colours"
                            + (f", distortion {distortion:.4g}" if distortion is not None else "")
                            + ("" if ok else f" (expected {k})"))
    return report


INFO = DatasetInfo("colour-palette", "k-means colour palettes of CIFAR-10 horses "
                   "(16/24/32 colours; optional, computed when missing)",
                   locate_folder, verify, (), HOW_TO_GET)
