"""TextDataset: vocabulary, windows, split by position, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from practica.data.text import TextDataset, locate_corpus, read_text
from practica.errors import DataError

TEXT = "hello world\nthe quick brown fox\n" * 20


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "book.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_vocabulary_is_sorted_and_stable(corpus, tmp_path):
    ds = TextDataset(corpus, 8)
    assert ds.vocab == tuple(sorted(set(TEXT)))
    other = tmp_path / "same.txt"
    other.write_text(TEXT[::-1], encoding="utf-8")  # same characters, other order
    assert TextDataset(other, 8).vocab == ds.vocab
    assert ds.decode(ds.data) == TEXT


def test_windows_are_input_and_next_character_target(corpus):
    ds = TextDataset(corpus, 8, val_fraction=0.25)
    x, y = ds.batch(16, np.random.default_rng(0))
    assert x.shape == y.shape == (16, 8) and x.dtype == np.int64
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    for row_x, row_y in zip(x, y, strict=True):  # each window is a real stretch of train
        window = ds.decode(row_x) + ds.decode(row_y[-1:])
        assert window in ds.decode(ds.train)
    x2, _ = ds.batch(16, np.random.default_rng(0))
    np.testing.assert_array_equal(x, x2)  # seeded


def test_split_by_position(corpus):
    ds = TextDataset(corpus, 8, val_fraction=0.25)
    n_val = int(len(TEXT) * 0.25)
    assert ds.decode(ds.val) == TEXT[-n_val:]
    assert ds.decode(ds.train) == TEXT[:-n_val]
    vx, vy = ds.val_windows()
    assert vx.shape[1] == 8 and len(vx) == (n_val - 1) // 8
    assert ds.decode(vx[0]) == TEXT[-n_val:][:8]
    assert len(ds.val_windows(limit=3)[0]) == 3


def test_given_vocabulary_and_unknown_characters(corpus):
    vocab = tuple(sorted(set(TEXT) | {"Z"}))
    ds = TextDataset(corpus, 4, vocab=vocab)
    assert ds.vocab == vocab and ds.vocab_size == len(set(TEXT)) + 1
    with pytest.raises(DataError, match="not in the vocabulary"):
        TextDataset(corpus, 4, vocab=("h", "e"))


def test_clear_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_text(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        read_text(tmp_path / "empty.txt")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin1"))
    with pytest.raises(DataError, match="not UTF-8"):
        read_text(tmp_path / "latin1.txt")
    (tmp_path / "short.txt").write_text("abc")
    with pytest.raises(DataError, match="training characters"):
        TextDataset(tmp_path / "short.txt", 30)
    with pytest.raises(DataError, match="not found"):
        locate_corpus("grimm")  # no data roots hold it in tests
    (tmp_path / "bom.txt").write_bytes("\ufeffab".encode())
    assert read_text(tmp_path / "bom.txt") == "ab"
