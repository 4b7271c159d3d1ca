"""A tiny hymenoptera_data.zip in the real layout (JPEGs, the placeholder GIF, junk)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

# train/ants, train/bees, val/ants, val/bees: images per class folder
COUNTS = {("train", "ants"): 4, ("train", "bees"): 4, ("val", "ants"): 2, ("val", "bees"): 3}


def image_bytes(fmt: str, seed: int, size: tuple[int, int] = (40, 30)) -> bytes:
    """An image whose class shows in its colour (ants dark, bees bright)."""
    rng = np.random.default_rng(seed)
    base = 60 if seed % 2 == 0 else 200
    pixels = np.clip(base + rng.integers(-30, 30, (size[1], size[0], 3)), 0, 255)
    out = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(out, format=fmt)
    return out.getvalue()


def write_zip(path: Path, *, extra: dict[str, bytes] | None = None) -> Path:
    """``hymenoptera_data/{train,val}/{ants,bees}/*.jpg`` plus train/ants/imageNotFound.gif."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hymenoptera_data/", b"")
        for (split, cls), n in COUNTS.items():
            zf.writestr(f"hymenoptera_data/{split}/", b"")
            zf.writestr(f"hymenoptera_data/{split}/{cls}/", b"")
            for i in range(n):
                seed = 2 * i + (cls == "bees")
                zf.writestr(f"hymenoptera_data/{split}/{cls}/{split}_{cls}_{i}.jpg",
                            image_bytes("JPEG", seed))
        zf.writestr("hymenoptera_data/train/ants/imageNotFound.gif", image_bytes("GIF", 9))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path
