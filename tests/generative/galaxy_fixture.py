"""Write a tiny Galaxy Zoo in the Kaggle layout: images_training_rev1/*.jpg + the CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from practica.data.galaxy_zoo import CLASS_COLUMNS, IMAGES_DIR, SOLUTIONS


def galaxy_image(size: int, centre: int, colour: tuple[int, int, int]) -> Image.Image:
    """Blue sky with a ``centre × centre`` square of ``colour`` in the middle."""
    a = np.zeros((size, size, 3), dtype=np.uint8)
    a[..., 2] = 200
    lo = (size - centre) // 2
    a[lo:lo + centre, lo:lo + centre] = colour
    return Image.fromarray(a)


def write_galaxy_zoo(root: Path, probs: np.ndarray, *, size: int = 48, centre: int = 16,
                     ids: list[int] | None = None) -> Path:
    folder = root / "galaxy-zoo"
    (folder / IMAGES_DIR).mkdir(parents=True)
    ids = ids or [100008 + 7 * i for i in range(len(probs))]
    lines = ["GalaxyID," + ",".join(CLASS_COLUMNS)]
    for gid, row in zip(ids, probs, strict=True):
        lines.append(f"{gid}," + ",".join(f"{v:.6f}" for v in row))
        galaxy_image(size, centre, (255, 40, 0)).save(folder / IMAGES_DIR / f"{gid}.jpg",
                                                      quality=95)
    (folder / SOLUTIONS).write_text("\n".join(lines) + "\n")
    return folder


def fixture_probs(n: int = 10, seed: int = 0) -> np.ndarray:
    """Vote fractions whose argmax cycles through Class1.1, 1.2, 1.3 and Class8.2."""
    rng = np.random.default_rng(seed)
    probs = rng.uniform(0, 0.2, (n, len(CLASS_COLUMNS)))
    winners = [0, 1, 2, CLASS_COLUMNS.index("Class8.2")]
    for i in range(n):
        probs[i, winners[i % 4]] = 0.9
        if winners[i % 4] > 2:  # top-level answer still "features or disk"
            probs[i, 1] = 0.8
    return probs
