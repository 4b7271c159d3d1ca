"""Writer of a tiny COCO captioning folder in the exact CS231n on-disk layout."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

WORDS = ["<NULL>", "<START>", "<END>", "<UNK>", "a", "cat", "dog", "on", "mat", "sofa"]


def write_coco_folder(folder: Path, *, n_train_images: int = 6, n_val_images: int = 4,
                      fc7_dim: int = 24, pca_dim: int = 8, length: int = 7,
                      urls: bool = True, captions_per_image: int = 2, seed: int = 0) -> Path:
    """``folder`` with coco2014_captions.h5, the four feature files, the vocabulary and
    URL lists; ``captions_per_image`` captions per image, int32 arrays as in the original
    files."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    w = {word: i for i, word in enumerate(WORDS)}
    sentences = [["a", "cat", "on", "a", "mat"], ["a", "dog", "on", "a", "sofa"],
                 ["a", "cat"], ["a", "dog", "on", "a", "mat"]]
    with h5py.File(folder / "coco2014_captions.h5", "w") as fh:
        for split, n_images in (("train", n_train_images), ("val", n_val_images)):
            k = captions_per_image
            caps = np.zeros((k * n_images, length), dtype=np.int32)
            for row in range(k * n_images):
                words = sentences[(row + n_images) % len(sentences)]
                ids = [w["<START>"], *(w[x] for x in words), w["<END>"]]
                caps[row, :len(ids)] = ids
            fh.create_dataset(f"{split}_captions", data=caps)
            fh.create_dataset(f"{split}_image_idxs",
                              data=np.repeat(np.arange(n_images, dtype=np.int32), k))
    for split, n_images in (("train2014", n_train_images), ("val2014", n_val_images)):
        for suffix, dim in (("", fc7_dim), ("_pca", pca_dim)):
            with h5py.File(folder / f"{split}_vgg16_fc7{suffix}.h5", "w") as fh:
                fh.create_dataset("features",
                                  data=rng.standard_normal((n_images, dim)).astype(np.float32))
        if urls:
            (folder / f"{split}_urls.txt").write_text(
                "".join(f"http://images.cocodataset.org/{split}/COCO_{split}_{i:012d}.jpg\n"
                        for i in range(n_images)))
    (folder / "coco2014_vocab.json").write_text(
        json.dumps({"idx_to_word": WORDS, "word_to_idx": w}))
    return folder
