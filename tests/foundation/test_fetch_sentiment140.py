"""The Sentiment140 → tweets conversion, on an archive in Sentiment140's own layout."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from practica.data import sentiment140, tweets
from practica.errors import DataError

N_PER_CLASS = 30


def source_text(i: int) -> bytes:
    """Tweet ``i`` as the archive's bytes: Latin-1 (é), UTF-8 read as Latin-1 (Â£), a comma,
    HTML entities and a trailing space — all kept as they are by the conversion."""
    return (f"@user{i} tweet {i}, caf\xe9 \xc2\xa3{i} &quot;quoted&quot; ".encode("latin-1"))


def s140_line(polarity: str, i: int, text: bytes, end: bytes = b"\r\n") -> bytes:
    """One line in Sentiment140's layout: six double-quoted fields."""
    fields = [polarity.encode(), str(1467810369 + i).encode(), b"Mon Apr 06 22:19:45 PDT 2009",
              b"NO_QUERY", f"user_{i}".encode(), text]
    return b",".join(b'"' + f.replace(b'"', b'""') + b'"' for f in fields) + end


def sentiment140_zip(path: Path, *, extra_train: bytes = b"") -> Path:
    """trainingandtestdata.zip: N_PER_CLASS tweets of polarity 0, then as many of 4 (sorted by
    polarity as in the original), and a test file with polarities 0, 2 and 4."""
    train = b"".join(s140_line("0" if i < N_PER_CLASS else "4", i, source_text(i))
                     for i in range(2 * N_PER_CLASS)) + extra_train
    test = b"".join(s140_line(p, 1000 + i, f'test {i} "{p}"'.encode(), b"\n")
                    for i, p in enumerate("04202444"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(sentiment140.TEST_MEMBER, test)
        zf.writestr(sentiment140.TRAIN_MEMBER, train)
    return path


def expected() -> dict[str, int]:
    """Source text (decoded as Latin-1) → the loader's label."""
    return {source_text(i).decode("latin-1"): int(i >= N_PER_CLASS)
            for i in range(2 * N_PER_CLASS)}


def test_balanced_subset_reads_back_exactly(tmp_path):
    archive = sentiment140_zip(tmp_path / "trainingandtestdata.zip")
    summary = sentiment140.convert(archive, tmp_path / "tweets", size=20, seed=0)
    train = tweets.read_tweets(tmp_path / "tweets" / "tweets_train.csv")
    test = tweets.read_tweets(tmp_path / "tweets" / "tweets_test.csv")
    assert (len(train), int(train.labels.sum()), len(test), int(test.labels.sum())) == (16, 8, 4, 2)
    truth = expected()
    for split in (train, test):  # text untouched (entities, mojibake, trailing space), 4 -> 1
        assert all(truth[t] == y for t, y in zip(split.texts, split.labels.tolist(), strict=True))
    assert not set(train.texts) & set(test.texts)
    raw = (tmp_path / "tweets" / "tweets_train.csv").read_bytes()
    assert raw.startswith(b"text,sentiment\r\n") and "café £".encode() not in raw
    assert "café Â£".encode() in raw and b'"' in raw  # UTF-8 out; quoted where commas are
    assert summary["train"] == {"tweets": 16, "positive": 8} and summary["seed"] == 0
    recorded = json.loads((tmp_path / "tweets" / "conversion.json").read_text())
    assert recorded["size"] == 20 and len(recorded["sha256"]) == 64


def test_the_seed_fixes_the_subset(tmp_path):
    archive = sentiment140_zip(tmp_path / "s.zip")
    files = {}
    for run, seed in (("a", 3), ("b", 3), ("c", 4)):
        sentiment140.convert(archive, tmp_path / run, size=20, seed=seed)
        files[run] = (tmp_path / run / "tweets_train.csv").read_bytes()
    assert files["a"] == files["b"] and files["a"] != files["c"]


def test_full_size_keeps_every_training_tweet_and_the_hand_labelled_test_set(tmp_path):
    archive = sentiment140_zip(tmp_path / "s.zip")
    summary = sentiment140.convert(archive, tmp_path / "t", size=None, seed=0)
    train = tweets.read_tweets(tmp_path / "t" / "tweets_train.csv")
    test = tweets.read_tweets(tmp_path / "t" / "tweets_test.csv")
    assert sorted(train.texts) == sorted(expected()) and int(train.labels.sum()) == N_PER_CLASS
    assert list(train.texts) != list(expected())  # shuffled, not sorted by polarity
    # neutral (2) tweets dropped, quotes inside the text kept, order of the source
    assert test.texts == ('test 0 "0"', 'test 1 "4"', 'test 3 "0"', 'test 5 "4"',
                          'test 6 "4"', 'test 7 "4"')
    assert test.labels.tolist() == [0, 1, 0, 1, 1, 1]
    assert summary["test_neutral_dropped"] == 2 and summary["size"] == "full"


@pytest.mark.parametrize(("line", "message"), [
    (s140_line("2", 99, b"neutral?"), r"noemoticon.csv:61: polarity must be one of 0/4"),
    (b'"0","1","date","NO_QUERY","u"\r\n', r"noemoticon.csv:61: expected 6 fields"),
], ids=["neutral-in-training", "five-fields"])
def test_a_bad_source_line_is_one_line_error(tmp_path, line, message):
    archive = sentiment140_zip(tmp_path / "s.zip", extra_train=line)
    with pytest.raises(DataError, match=message) as err:
        sentiment140.convert(archive, tmp_path / "t", size=20)
    assert "\n" not in str(err.value) and not (tmp_path / "t" / "tweets_train.csv").exists()


def test_sizes(tmp_path):
    assert sentiment140.parse_size("full") is None
    assert sentiment140.parse_size("100k") == sentiment140.parse_size(None) == 100_000
    for bad in ("21", "abc", "4"):
        with pytest.raises(DataError, match="even number"):
            sentiment140.parse_size(bad)
    archive = sentiment140_zip(tmp_path / "s.zip")
    with pytest.raises(DataError, match="asked for 50 tweets of sentiment 0 but the source has 30"):
        sentiment140.convert(archive, tmp_path / "t", size=100)


def test_an_archive_without_the_files_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(DataError, match="holds no training.1600000"):
        sentiment140.convert(tmp_path / "other.zip", tmp_path / "t")
