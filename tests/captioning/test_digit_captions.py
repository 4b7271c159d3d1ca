"""The MNIST digit-pair captioning task: composition, captions, COCO-style arrays."""

from __future__ import annotations

import numpy as np

from practica.data import digit_captions as dc
from practica.numpy_nn.captioning import decode_captions


def test_captions_describe_digits_and_layout():
    assert dc.describe(3, 8, 0) == ["a three to the left of an eight",
                                    "an eight to the right of a three",
                                    "a three next to an eight"]
    assert dc.describe(7, 1, 1) == ["a seven above a one", "a one below a seven",
                                    "a seven on top of a one"]
    assert dc.describe(6, 6, 0)[0] == "two sixes side by side"
    words, index = dc.vocabulary()
    assert words[:3] == ("<NULL>", "<START>", "<END>") and index["eights"] == words.index("eights")


def test_compose_puts_each_digit_in_its_half():
    digits = np.stack([np.full((28, 28), 10 * (k + 1), np.uint8) for k in range(10)])
    pairs = dc.compose(digits, np.arange(10), 50, np.random.default_rng(0))
    assert pairs.images.shape == (50, 1, 56, 56)
    for image, (a, b, layout) in zip(pairs.images[:, 0], pairs.contents, strict=True):
        first, second = (image[:, :28], image[:, 28:]) if layout == 0 else (image[:28], image[28:])
        assert set(np.unique(first)) == {0, 10 * (a + 1)} or first.min() == 10 * (a + 1)
        assert (first == 10 * (a + 1)).sum() == 28 * 28
        assert (second == 10 * (b + 1)).sum() == 28 * 28
    assert set(pairs.contents[:, 2]) == {0, 1}


def test_train_and_val_use_disjoint_digits():
    # digit k is painted with the value k + 1, so pixels tell which digits were used
    digits = np.stack([np.full((28, 28), k + 1, np.uint8) for k in range(60)])
    train_slice, val_slice = dc.split_digits(60)
    assert (train_slice.stop, val_slice.start, val_slice.stop) == (50, 50, 60)
    train, val = dc.make_pairs(digits, np.arange(60) % 10, 40, 20, seed=0)
    assert set(np.unique(train.images)) - {0} <= set(range(1, 51))
    assert set(np.unique(val.images)) - {0} <= set(range(51, 61))
    again, _ = dc.make_pairs(digits, np.arange(60) % 10, 40, 20, seed=0)
    np.testing.assert_array_equal(train.images, again.images)


def test_caption_data_is_consistent():
    digits = np.random.default_rng(0).integers(0, 255, (60, 28, 28), dtype=np.uint8)
    train, val = dc.make_pairs(digits, np.arange(60) % 10, 30, 12, seed=1)
    data = dc.caption_data(train, val, np.zeros((30, 4)), np.zeros((12, 4)))
    assert data.train_captions.shape[1] == 10 and data.train_features.dtype == np.float32
    texts = decode_captions(data.val_captions, data.idx_to_word)
    for text, image in zip(texts, data.val_image_idxs, strict=True):
        a, b, layout = val.contents[image]
        assert text in dc.describe(int(a), int(b), int(layout))
    counts = np.bincount(data.train_image_idxs, minlength=30)
    assert set(counts) <= {2, 3} and counts.sum() == len(data.train_captions)
