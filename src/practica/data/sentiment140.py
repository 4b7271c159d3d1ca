"""Sentiment140 (Go, Bhayani & Huang 2009) converted into the tweets loader's layout.

The official archive ``trainingandtestdata.zip`` holds two CSV files, Latin-1 encoded, every
field in double quotes, six fields a line — polarity, id, date, query, user, text::

    "0","1467810369","Mon Apr 06 22:19:45 PDT 2009","NO_QUERY","_TheSpecialOne_","@switchfoot …"

* ``training.1600000.processed.noemoticon.csv``: 1,600,000 tweets labelled by the emoticons
  they held (distant supervision): 800,000 with polarity 0 (negative), 800,000 with 4;
* ``testdata.manual.2009.06.14.csv``: 498 hand-labelled tweets, 0, 2 (neutral) or 4.

:func:`convert` writes ``tweets_train.csv`` and ``tweets_test.csv`` exactly as
:mod:`practica.data.tweets` reads them and as the project's shared copy is laid out: a
``text,sentiment`` header, UTF-8, Python's csv quoting, CRLF line ends, sentiment 0 for
polarity 0 and 1 for polarity 4. The text is the source's, decoded as Latin-1 and otherwise
untouched (HTML entities and the source's mojibake stay); empty tweets are skipped.

Which tweets (``size``):

* ``full``: all 1,600,000 training tweets, in an order shuffled with ``seed``; the test file
  is the 359 hand-labelled tweets that are not neutral (the loader knows only 0/1);
* an even number N (default 100,000, the size of the shared copy): N/2 tweets of each
  polarity drawn from the training file, 20% of each polarity for the test file and the
  rest for training (so 80,000 / 20,000, each half positive), each file shuffled.

Draws use NumPy's ``RandomState(seed)``, whose stream NumPy keeps frozen, so a seed gives
the same files with any NumPy version. ``conversion.json`` next to the files records the
archive's SHA-256, the size, the seed and the counts.
"""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from pathlib import Path
from typing import IO

import numpy as np

from ..errors import DataError
from .store import Download, file_digest

DOWNLOAD = Download(
    url="http://cs.stanford.edu/people/alecmgo/trainingandtestdata.zip",
    mirrors=("https://cs.stanford.edu/people/alecmgo/trainingandtestdata.zip",),
    filename="trainingandtestdata.zip", size=81_363_704,
    sha256="004a3772c8a7ff9bbfeb875880f47f0679d93fc63e5cf9cff72d54a8a6162e57")
TRAIN_MEMBER = "training.1600000.processed.noemoticon.csv"
TEST_MEMBER = "testdata.manual.2009.06.14.csv"
#: Sentiment140 polarity -> the loader's sentiment; 2 (neutral) has no place there.
SENTIMENT = {"0": 0, "4": 1}
DEFAULT_SIZE = 100_000
TEST_FRACTION = 0.2
FIELDS = 6


def parse_size(value: str | int | None) -> int | None:
    """``full`` -> None (everything); ``100000`` or ``100k`` -> 100000 (even, at least 10)."""
    if value is None:
        return DEFAULT_SIZE
    text = str(value).strip().lower().replace("_", "").replace(",", "")
    if text == "full":
        return None
    try:
        n = int(text[:-1]) * 1000 if text.endswith("k") else int(text)
    except ValueError:
        n = -1
    if n < 10 or n % 2:
        raise DataError(f"tweets size must be 'full' or an even number of tweets (at least "
                        f"10, e.g. 100000 or 100k), got {value!r}")
    return n


def read_rows(stream: IO[str], what: str, allowed: frozenset[str]) -> list[tuple[str, str]]:
    """(polarity, text) of every line of a Sentiment140 CSV; one-line errors name the line."""
    rows = []
    reader = csv.reader(stream)
    try:
        for cells in reader:
            if not cells:
                continue
            if len(cells) != FIELDS:
                raise DataError(f"{what}:{reader.line_num}: expected {FIELDS} fields (polarity, "
                                f"id, date, query, user, text), found {len(cells)}; is this "
                                "Sentiment140's file?")
            if cells[0] not in allowed:
                raise DataError(f"{what}:{reader.line_num}: polarity must be one of "
                                f"{'/'.join(sorted(allowed))}, got {cells[0]!r}")
            rows.append((cells[0], cells[5]))
    except csv.Error as exc:
        raise DataError(f"{what}:{reader.line_num}: malformed CSV ({exc})") from None
    if not rows:
        raise DataError(f"{what}: no tweets found")
    return rows


def _member(zf: zipfile.ZipFile, name: str, archive: Path) -> IO[str]:
    for info in zf.infolist():
        if info.filename.rsplit("/", 1)[-1] == name:
            return io.TextIOWrapper(zf.open(info), encoding="latin-1", newline="")
    raise DataError(f"{archive} holds no {name}; is it Sentiment140's trainingandtestdata.zip?")


def _labelled(rows: list[tuple[str, str]]) -> tuple[list[str], np.ndarray, int]:
    """Texts and 0/1 labels of the non-neutral, non-empty rows, and how many were skipped."""
    texts, labels = [], []
    for polarity, text in rows:
        if polarity in SENTIMENT and text:
            texts.append(text)
            labels.append(SENTIMENT[polarity])
    return texts, np.array(labels, dtype=np.int64), len(rows) - len(texts)


def select(labels: np.ndarray, size: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, test) of a balanced subset of ``size`` rows (see the module doc).

    With ``size`` None every row is training data (in a shuffled order) and test is empty.
    """
    rng = np.random.RandomState(seed)
    if size is None:
        return rng.permutation(len(labels)), np.array([], dtype=np.int64)
    per_class = size // 2
    n_test = round(per_class * TEST_FRACTION)
    train, test = [], []
    for label in (0, 1):
        (rows,) = np.nonzero(labels == label)
        if len(rows) < per_class:
            raise DataError(f"asked for {per_class:,} tweets of sentiment {label} but the source "
                            f"has {len(rows):,}; choose a smaller size or 'full'")
        chosen = rng.permutation(rows)[:per_class]
        test.append(chosen[:n_test])
        train.append(chosen[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def write_tweets(path: Path, texts: list[str], labels: np.ndarray) -> None:
    """``text,sentiment`` CSV (UTF-8, csv quoting, CRLF), written to a temporary name first."""
    part = path.with_name(f".{path.name}.part")
    with open(part, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(("text", "sentiment"))
        writer.writerows(zip(texts, labels.tolist(), strict=True))
    os.replace(part, path)


def convert(archive: str | Path, out_dir: str | Path, *, size: int | None = DEFAULT_SIZE,
            seed: int = 0) -> dict:
    """Write ``tweets_train.csv``/``tweets_test.csv`` into ``out_dir``; return the summary."""
    archive, out_dir = Path(archive), Path(out_dir)
    try:
        with zipfile.ZipFile(archive) as zf:
            with _member(zf, TRAIN_MEMBER, archive) as fh:
                train_rows = read_rows(fh, TRAIN_MEMBER, frozenset(SENTIMENT))
            test_rows: list[tuple[str, str]] = []
            if size is None:
                with _member(zf, TEST_MEMBER, archive) as fh:
                    test_rows = read_rows(fh, TEST_MEMBER, frozenset({"0", "2", "4"}))
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"{archive} is not a readable zip file ({exc}); delete it and fetch "
                        "it again") from None
    texts, labels, skipped = _labelled(train_rows)
    train_idx, test_idx = select(labels, size, seed)
    splits = {"train": ([texts[i] for i in train_idx], labels[train_idx])}
    if size is None:
        test_texts, test_labels, dropped = _labelled(test_rows)
        splits["test"] = (test_texts, test_labels)
    else:
        splits["test"] = ([texts[i] for i in test_idx], labels[test_idx])
        dropped = 0
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {"source": archive.name, "sha256": file_digest(archive),
               "size": "full" if size is None else size, "seed": seed,
               "skipped_empty": skipped, "test_neutral_dropped": dropped}
    for split, (split_texts, split_labels) in splits.items():
        write_tweets(out_dir / f"tweets_{split}.csv", split_texts, split_labels)
        summary[split] = {"tweets": len(split_labels), "positive": int(split_labels.sum())}
    (out_dir / "conversion.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
