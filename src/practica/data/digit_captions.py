"""A small, fully known captioning task built from MNIST: two digits on a 56×56 canvas.

Each image holds two MNIST digits, either side by side (layout 0: one in the left half,
one in the right half, each at a random height) or one above the other (layout 1: top
and bottom halves, each at a random horizontal offset). Its captions are generated from
what the image really contains — the two digit labels and the layout — with a few
phrasings per image, like COCO's several captions per image::

    side by side, 3 left of 8:  "a three to the left of an eight",
                                "an eight to the right of a three", "a three next to an eight"
    stacked, 7 above 1:         "a seven above a one", "a one below a seven",
                                "a seven on top of a one"
    the same digit twice:       "two sixes side by side", "two sixes next to each other"
                                ("... one above the other", "... stacked vertically")

So a model must get digits, order, layout, articles ("an eight") and plurals right. The
task is synthetic and its grammar tiny; it is not COCO. Train and validation images use
disjoint MNIST digits: the last sixth of MNIST's training images feed validation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .coco_captioning import SPECIAL_TOKENS, CaptionData

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
PLURALS = ("zeros", "ones", "twos", "threes", "fours", "fives", "sixes", "sevens", "eights",
           "nines")
LAYOUTS = ("side by side", "one above the other")
SIDE, CANVAS = 28, 56


def _with_article(digit: int) -> str:
    word = DIGIT_WORDS[digit]  # by sound: "an eight", but "a one"
    return f"{'an' if word == 'eight' else 'a'} {word}"


def describe(first: int, second: int, layout: int) -> list[str]:
    """All captions of an image with ``first`` left/top and ``second`` right/bottom."""
    if first == second:
        many = f"two {PLURALS[first]}"
        if layout == 0:
            return [f"{many} side by side", f"{many} next to each other"]
        return [f"{many} one above the other", f"{many} stacked vertically"]
    a, b = _with_article(first), _with_article(second)
    if layout == 0:
        return [f"{a} to the left of {b}", f"{b} to the right of {a}", f"{a} next to {b}"]
    return [f"{a} above {b}", f"{b} below {a}", f"{a} on top of {b}"]


def vocabulary() -> tuple[tuple[str, ...], dict[str, int]]:
    """<NULL>, <START>, <END>, <UNK>, then every word any caption can use (sorted)."""
    words = {w for a in range(10) for b in range(10) for layout in (0, 1)
             for caption in describe(a, b, layout) for w in caption.split()}
    idx_to_word = (*SPECIAL_TOKENS, "<UNK>", *sorted(words))
    return idx_to_word, {w: i for i, w in enumerate(idx_to_word)}


def encode(captions: list[str], word_to_idx: dict[str, int], length: int) -> np.ndarray:
    """Rows <START> w1 ... wk <END> <NULL>... of exactly ``length`` word indices."""
    out = np.full((len(captions), length), word_to_idx["<NULL>"], dtype=np.int64)
    for row, caption in enumerate(captions):
        ids = [word_to_idx["<START>"], *(word_to_idx.get(w, word_to_idx["<UNK>"])
                                         for w in caption.split()), word_to_idx["<END>"]]
        if len(ids) > length:
            raise ValueError(f"caption {caption!r} needs {len(ids)} tokens, more than {length}")
        out[row, :len(ids)] = ids
    return out


@dataclass(frozen=True)
class DigitPairs:
    """Composite images (N, 1, 56, 56) uint8 and their contents (N, 3): first, second,
    layout."""

    images: np.ndarray
    contents: np.ndarray

    def __len__(self) -> int:
        return len(self.contents)


def compose(digits: np.ndarray, labels: np.ndarray, n: int, rng: np.random.Generator
            ) -> DigitPairs:
    """``n`` two-digit images drawn from ``digits`` (M, 28, 28) with their labels."""
    digits = np.asarray(digits).reshape(-1, SIDE, SIDE)
    if len(digits) < 2 or len(labels) != len(digits):
        raise ValueError(f"compose: need at least 2 labelled digits, got {len(digits)} "
                         f"images and {len(labels)} labels")
    pick = rng.integers(0, len(digits), size=(n, 2))
    layout = rng.integers(0, 2, size=n)
    offsets = rng.integers(0, CANVAS - SIDE + 1, size=(n, 2))
    images = np.zeros((n, CANVAS, CANVAS), dtype=np.uint8)
    for k in range(n):
        for slot in (0, 1):
            along, across = slot * SIDE, offsets[k, slot]
            r, c = (across, along) if layout[k] == 0 else (along, across)
            images[k, r:r + SIDE, c:c + SIDE] = digits[pick[k, slot]]
    contents = np.stack([labels[pick[:, 0]], labels[pick[:, 1]], layout], axis=1)
    return DigitPairs(images[:, None], contents.astype(np.int64))


def split_digits(n_digits: int) -> tuple[slice, slice]:
    """Train/validation slices of MNIST's training digits: the last sixth is validation."""
    n_val = max(1, n_digits // 6)
    return slice(0, n_digits - n_val), slice(n_digits - n_val, n_digits)


def make_pairs(digits: np.ndarray, labels: np.ndarray, n_train: int, n_val: int, seed: int
               ) -> tuple[DigitPairs, DigitPairs]:
    """Train and validation composites from disjoint digits, reproducible from ``seed``."""
    train, val = split_digits(len(digits))
    rng = np.random.default_rng([seed, 545])
    return (compose(digits[train], labels[train], n_train, rng),
            compose(digits[val], labels[val], n_val, rng))


def caption_data(train: DigitPairs, val: DigitPairs, train_features: np.ndarray,
                 val_features: np.ndarray) -> CaptionData:
    """Every caption of every image, in the COCO layout (captions + image indices)."""
    idx_to_word, word_to_idx = vocabulary()
    length = 2 + max(len(c.split()) for a in range(10) for b in range(10) for lay in (0, 1)
                     for c in describe(a, b, lay))
    arrays = {}
    for split, pairs in (("train", train), ("val", val)):
        texts, owners = [], []
        for i, (a, b, layout) in enumerate(pairs.contents):
            for caption in describe(int(a), int(b), int(layout)):
                texts.append(caption)
                owners.append(i)
        arrays[f"{split}_captions"] = encode(texts, word_to_idx, length)
        arrays[f"{split}_image_idxs"] = np.asarray(owners, dtype=np.int64)
    return CaptionData(train_features=np.asarray(train_features, dtype=np.float32),
                       val_features=np.asarray(val_features, dtype=np.float32),
                       idx_to_word=idx_to_word, word_to_idx=word_to_idx, **arrays)
