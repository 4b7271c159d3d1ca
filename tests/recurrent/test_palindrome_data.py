"""The palindrome data set: palindromes, targets, encodings, determinism."""

from __future__ import annotations

import pytest
import torch

from practica.data.palindromes import (
    PalindromeDataset,
    encode,
    generate_palindromes,
    stream_seed,
)


@pytest.mark.parametrize("length", [2, 3, 4, 5, 10, 11, 36])
def test_generated_sequences_are_palindromes(length: int) -> None:
    full = generate_palindromes(200, length, torch.Generator().manual_seed(0))
    assert full.shape == (200, length) and full.dtype == torch.int64
    assert torch.equal(full, full.flip(1))
    assert full.min() >= 0 and full.max() <= 9
    # all ⌈T/2⌉ free digits vary: every digit value occurs in the first column
    assert set(full[:, 0].tolist()) == set(range(10))


@pytest.mark.parametrize("length", [4, 5])
def test_items_are_first_digits_and_last_digit(length: int) -> None:
    ds = PalindromeDataset(length, seed=3)
    x, y = ds[17]
    assert x.shape == (length - 1,) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and y.item() == int(x[0])  # the last digit is the first
    full = torch.cat([x.long(), y.view(1)])
    assert torch.equal(full, full.flip(0))


def test_batches_are_deterministic_under_the_seed() -> None:
    a = PalindromeDataset(9, seed=1).batch(5, 64)
    b = PalindromeDataset(9, seed=1).batch(5, 64)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert torch.equal(PalindromeDataset(9, seed=1)[123][0], PalindromeDataset(9, seed=1)[123][0])
    assert not torch.equal(PalindromeDataset(9, seed=2).batch(5, 64)[0], a[0])
    assert not torch.equal(PalindromeDataset(9, seed=1).batch(6, 64)[0], a[0])
    other_stream = PalindromeDataset(9, seed=1, stream="test").fixed_set(64)[0]
    assert not torch.equal(other_stream, PalindromeDataset(9, seed=1).fixed_set(64)[0])


def test_does_not_touch_the_global_generator() -> None:
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    PalindromeDataset(7, seed=0).batch(0, 32)
    assert torch.equal(torch.rand(3), expected)


def test_one_hot_encoding() -> None:
    digit_x, y = PalindromeDataset(6, seed=0).batch(0, 8)
    onehot_x, y2 = PalindromeDataset(6, seed=0, encoding="one-hot").batch(0, 8)
    assert onehot_x.shape == (8, 5, 10) and torch.equal(y, y2)
    assert torch.equal(onehot_x.argmax(-1), digit_x.long())
    assert torch.equal(onehot_x.sum(-1), torch.ones(8, 5))
    assert PalindromeDataset(6, encoding="one-hot").input_dim == 10
    assert PalindromeDataset(6).input_dim == 1


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match=">= 2"):
        PalindromeDataset(1)
    with pytest.raises(ValueError, match="encoding"):
        PalindromeDataset(5, encoding="binary")
    with pytest.raises(ValueError, match="encoding"):
        encode(torch.zeros(2, 3, dtype=torch.long), "binary")


def test_stream_seed_is_stable_and_distinct() -> None:
    assert stream_seed(0, "train", 1) == stream_seed(0, "train", 1)
    assert stream_seed(0, "train", 1) != stream_seed(0, "val", 1)
    assert 0 <= stream_seed("x") < 2**63
    # a fixed value: independent of PYTHONHASHSEED and of the process (resume relies on it)
    assert stream_seed(0) == 5263075011782779848
