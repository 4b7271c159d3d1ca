"""Tweet sentiment CSVs (Waterloo A5 §3): ``tweets_train.csv`` and ``tweets_test.csv``.

Each line holds a tweet and its sentiment, 0 (negative) or 1 (positive). The reader is
liberal in the layout and strict in the labels:

* a header naming the columns is optional; known names (any case, spaces/underscores
  ignored) are ``text``/``tweet``/``sentimenttext``/``content``/… for the text and
  ``sentiment``/``label``/``polarity``/``target``/… for the label; other columns (ids,
  dates) are ignored. Without a header the label is the last field (or else the first);
* fields follow Python's csv quoting (``"…"``, doubled ``""``); a line with more fields than
  columns, because of unquoted commas in the tweet, has them put back into the text when the
  text is the first or last column;
* a label must be exactly ``0`` or ``1`` (surrounding spaces allowed); anything else, an
  empty tweet or a missing field stops with ``DataError`` naming the file and line number;
* the files are read as UTF-8 (a byte-order mark is skipped, undecodable bytes become
  U+FFFD); CRLF and LF line ends both work.

For the LSTM each tweet is a sequence of ASCII codes (:func:`encode`): one-hot vectors of
size 128. Any non-ASCII character (emoji, accented letters, U+FFFD) becomes the ASCII
control character SUB (0x1A, "substitute"), which never occurs in text itself.

Files are looked for in ``<root>/tweets/`` and ``<root>/`` of each data root (``--data-dir``,
``PRACTICA_DATA``, then the cache). ``practica data fetch tweets`` makes them from
Sentiment140's official archive (see :mod:`practica.data.sentiment140`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from .base import DatasetInfo, VerifyReport
from .store import data_roots

FILES = {"train": "tweets_train.csv", "test": "tweets_test.csv"}
FOLDERS = ("tweets", "")
CLASSES = ("negative", "positive")
N_CHARS = 128
#: Code of the placeholder for non-ASCII characters: ASCII SUB ("substitute").
PLACEHOLDER = 0x1A
TEXT_NAMES = frozenset({"text", "tweet", "tweettext", "sentimenttext", "content", "message",
                        "sentence", "body"})
LABEL_NAMES = frozenset({"sentiment", "label", "labels", "polarity", "target", "class", "y"})
HOW_TO_GET = ("run `practica data fetch tweets` with network access (Sentiment140, converted), "
              "or put tweets_train.csv and tweets_test.csv (a tweet and its 0/1 sentiment per "
              "line) in tweets/ under --data-dir or PRACTICA_DATA")


@dataclass(frozen=True)
class TweetSplit:
    """Tweets and their labels (int64, 0 negative / 1 positive)."""

    texts: tuple[str, ...]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class TweetDataset:
    train: TweetSplit
    test: TweetSplit
    source: Path
    classes: tuple[str, ...] = CLASSES


def encode(text: str) -> torch.Tensor:
    """ASCII codes of ``text`` (uint8), non-ASCII characters as :data:`PLACEHOLDER`."""
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)  # one per character
    return torch.from_numpy(np.where(points < N_CHARS, points, PLACEHOLDER).astype(np.uint8))


def _norm(name: str) -> str:
    return "".join(name.lower().split()).replace("_", "").replace("-", "")


def _label(value: str) -> int | None:
    value = value.strip()
    return int(value) if value in ("0", "1") else None


@dataclass(frozen=True)
class _Layout:
    """Where the text and the label are in a row of ``ncols`` fields."""

    text: int
    label: int
    ncols: int

    def fields(self, cells: list[str]) -> tuple[str, str] | None:
        """(text, label) of a row; unquoted commas are put back when the text is at an end."""
        extra = len(cells) - self.ncols
        if extra == 0:
            return cells[self.text], cells[self.label]
        if extra < 0:
            return None
        if self.text == self.ncols - 1:
            return ",".join(cells[self.text:]), cells[self.label]
        if self.text == 0:
            label = self.label + extra
            return ",".join(cells[:extra + 1]), cells[label]
        return None


def _header_layout(cells: list[str]) -> _Layout | None:
    if any(_label(c) is not None for c in cells):
        return None  # holds a 0/1 label: a data row, not a header
    names = [_norm(c) for c in cells]
    text = [i for i, n in enumerate(names) if n in TEXT_NAMES]
    label = [i for i, n in enumerate(names) if n in LABEL_NAMES]
    if len(cells) == 2 and len(text) + len(label) == 1:  # one known name: the other is the other
        known = (text or label)[0]
        text, label = ([known], [1 - known]) if text else ([1 - known], [known])
    if len(text) == 1 and len(label) == 1:
        return _Layout(text[0], label[0], len(cells))
    return None


_RECORD_END = re.compile(r"[,;\t]\s*[01]\s*$")


def _holds_records(text: str) -> bool:
    """True when a multi-line field has inner lines ending like a record (``…,0``)."""
    return any(_RECORD_END.search(part) for part in text.splitlines()[:-1])


def read_tweets(path: str | Path) -> TweetSplit:
    """Parse one tweets CSV file (see the module docstring for what is accepted)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    text = raw.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    layout: _Layout | None = None
    texts: list[str] = []
    labels: list[int] = []
    line = 0  # last physical line consumed
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError(f"{path}:{start}: malformed CSV ({exc}); is a quote left "
                            "open?") from None
        line = reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue  # blank line
        if layout is None:
            layout = _header_layout(cells)
            if layout is not None:
                continue
            layout = _guess_layout(cells, path, start)
        run_on = (f" (this record runs on to line {line}: a quote left open?)"
                  if line > start else "")
        fields = layout.fields(cells)
        if fields is None:
            raise DataError(f"{path}:{start}: expected {layout.ncols} fields (a tweet and its "
                            f"sentiment), found {len(cells)}{run_on}")
        tweet, value = fields
        if line > start and _holds_records(tweet):
            raise DataError(f"{path}:{start}: a quote opened on this line is closed only on "
                            f"line {line}, swallowing the lines between (they look like "
                            "tweets of their own); close or escape the quote")
        label = _label(value)
        if label is None:
            hint = (" (Sentiment140's raw files use 0/4: map 4 to 1)" if value.strip() == "4"
                    else run_on)
            raise DataError(f"{path}:{start}: sentiment must be 0 or 1, got {value!r}{hint}")
        if not tweet:
            raise DataError(f"{path}:{start}: empty tweet")
        texts.append(tweet)
        labels.append(label)
    if not texts:
        raise DataError(f"{path}: no tweets found")
    return TweetSplit(tuple(texts), np.array(labels, dtype=np.int64))


def _guess_layout(cells: list[str], path: Path, line: int) -> _Layout:
    """No header: the label is the last field if it is 0/1, else the first."""
    if len(cells) >= 2 and _label(cells[-1]) is not None:
        return _Layout(0, 1, 2)
    if len(cells) >= 2 and _label(cells[0]) is not None:
        return _Layout(1, 0, 2)
    raise DataError(f"{path}:{line}: no header naming the text and sentiment columns, and "
                    "neither the first nor the last field is a 0/1 label")


def locate(data_dir: str | Path | None = None) -> Path | None:
    """The first folder holding both tweet files."""
    for root in data_roots(data_dir):
        for sub in FOLDERS:
            folder = root / sub if sub else root
            if all((folder / name).is_file() for name in FILES.values()):
                return folder
    return None


def load(data_dir: str | Path | None = None, *, offline: bool = False,
         progress: bool = True) -> TweetDataset:
    """Find and parse both files; a DataError says where it looked when they are missing."""
    del offline, progress  # never downloads: `practica data fetch tweets` converts the source
    folder = locate(data_dir)
    if folder is None:
        looked = ", ".join(str(r) for r in data_roots(data_dir))
        raise DataError(f"tweets not found (looked in {looked}); {HOW_TO_GET}")
    return TweetDataset(read_tweets(folder / FILES["train"]), read_tweets(folder / FILES["test"]),
                        folder)


def verify(folder: Path) -> VerifyReport:
    report = VerifyReport("tweets", folder, valid=False)
    try:
        splits = {name: read_tweets(folder / f) for name, f in FILES.items()}
    except DataError as exc:
        report.lines.append(f"invalid: {exc}")
        return report
    for name, s in splits.items():
        positive = int(s.labels.sum())
        report.lines.append(f"{FILES[name]}: {len(s)} tweets, {positive} positive / "
                            f"{len(s) - positive} negative")
    report.valid = True
    return report


INFO = DatasetInfo("tweets", "Tweet sentiment: tweets_train.csv / tweets_test.csv, a tweet "
                   "and its 0/1 sentiment per line", locate, verify, (), HOW_TO_GET)
