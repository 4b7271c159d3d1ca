"""Character-level text corpora (CVbL 2019 §3.4, IIT-H CS6360 A2 §2).

:class:`TextDataset` reads any UTF-8 text file and turns it into character indices:

* the vocabulary is the **sorted** set of characters in the file, so the same file always
  gives the same indices; it is stored with a trained model (``vocab``) and can be passed
  back in (``vocab=...``) to encode a file with a model's own vocabulary;
* the first ``1 − val_fraction`` of the characters are the training part, the rest the
  validation part (a split by position: no window straddles the two);
* a training batch is ``batch_size`` random windows of ``seq_length + 1`` characters: the
  first ``seq_length`` are the input, the last ``seq_length`` (shifted by one) the target.

Named corpora (``tinyshakespeare``, ``grimm``, ``minchar-shakespeare``) are looked for under
the data roots (``--data-dir``, ``PRACTICA_DATA``, the cache); anything else is a path.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import DataError
from .base import DatasetInfo, VerifyReport
from .store import Download, data_roots, file_digest

#: Corpus name -> path under a data root.
CORPORA = {
    "tinyshakespeare": "text/tinyshakespeare.txt",
    "grimm": "text/books/book_EN_grimms_fairy_tails.txt",
    "minchar-shakespeare": "min-char-rnn/shakespeare_train.txt",
}


def locate_corpus(name: str, data_dir: str | Path | None = None) -> Path:
    """The file of a named corpus (searched in the data roots), or ``name`` as a path."""
    if name in CORPORA:
        for root in data_roots(data_dir):
            path = root / CORPORA[name]
            if path.is_file():
                return path
        raise DataError(f"corpus {name!r} not found: put {CORPORA[name]} under --data-dir or "
                        "PRACTICA_DATA, or give the path of a UTF-8 text file")
    path = Path(name).expanduser()
    if not path.is_file():
        known = ", ".join(CORPORA)
        raise DataError(f"text file not found: {path} (give a UTF-8 text file or one of {known})")
    return path


def read_text(path: str | Path) -> str:
    """The whole file as text; one-line errors for a missing, empty or non-UTF-8 file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"text file not found: {path}") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not raw:
        raise DataError(f"{path} is empty; a text corpus needs some characters")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 (byte {exc.start}: {raw[exc.start:exc.start + 1]!r});"
                        " convert it, e.g. with iconv -t UTF-8") from None
    return text.removeprefix("\ufeff")


class TextDataset:
    """A text file as character indices, with random training windows and a validation part.

    ``vocab`` (a sequence of single characters) fixes the vocabulary, e.g. a trained model's;
    characters outside it are an error. Without it the vocabulary is ``sorted(set(text))``.
    """

    def __init__(self, path: str | Path, seq_length: int, *, val_fraction: float = 0.1,
                 vocab: Sequence[str] | None = None) -> None:
        if seq_length < 1:
            raise ValueError(f"seq_length must be >= 1, got {seq_length}")
        if not 0 <= val_fraction < 1:
            raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
        self.path = Path(path)
        self.seq_length = seq_length
        self.text = read_text(self.path)
        self.vocab: tuple[str, ...] = tuple(vocab) if vocab is not None else tuple(
            sorted(set(self.text)))
        if len(set(self.vocab)) != len(self.vocab) or any(len(c) != 1 for c in self.vocab):
            raise DataError("a vocabulary must be distinct single characters")
        self.char_to_ix = {c: i for i, c in enumerate(self.vocab)}
        self.data = self.encode(self.text)
        n_val = int(len(self.data) * val_fraction)
        self.train = self.data[: len(self.data) - n_val]
        self.val = self.data[len(self.data) - n_val:]
        if len(self.train) < seq_length + 1:
            raise DataError(f"{self.path} has only {len(self.train)} training characters; "
                            f"need at least seq_length + 1 = {seq_length + 1}")

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> np.ndarray:
        """Character indices (int64) of ``text``; unknown characters are an error."""
        try:
            return np.fromiter((self.char_to_ix[c] for c in text), dtype=np.int64,
                               count=len(text))
        except KeyError as exc:
            raise DataError(f"character {exc.args[0]!r} is not in the vocabulary of "
                            f"{len(self.vocab)} characters") from None

    def decode(self, indices: Sequence[int] | np.ndarray) -> str:
        return "".join(self.vocab[int(i)] for i in indices)

    def windows(self, starts: np.ndarray, part: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """Inputs and targets (``N × seq_length`` each) of the windows starting at ``starts``."""
        data = self.train if part == "train" else self.val
        offsets = np.arange(self.seq_length + 1)
        chunk = data[np.asarray(starts)[:, None] + offsets]
        return chunk[:, :-1], chunk[:, 1:]

    def batch(self, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``batch_size`` random training windows (start uniform over all valid positions)."""
        starts = rng.integers(0, len(self.train) - self.seq_length, size=batch_size)
        return self.windows(starts, "train")

    def val_windows(self, limit: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Consecutive non-overlapping validation windows (at most ``limit``, evenly spread)."""
        count = (len(self.val) - 1) // self.seq_length
        if count < 1:
            raise DataError(f"the validation part of {self.path} ({len(self.val)} characters) "
                            f"is shorter than one window; lower seq_length or raise val_fraction")
        starts = np.arange(count) * self.seq_length
        if limit and count > limit:
            starts = starts[np.linspace(0, count - 1, limit).round().astype(int)]
        return self.windows(starts, "val")


# --- `practica data status|verify` -----------------------------------------------------------

SNAPSHOT = "min-char-rnn/char-rnn-snapshot.npz"
HOW_TO_GET = ("run `practica data fetch text` with network access, or put "
              "text/tinyshakespeare.txt, text/books/book_EN_grimms_fairy_tails.txt and "
              "min-char-rnn/{shakespeare_train.txt,char-rnn-snapshot.npz} under --data-dir or "
              "PRACTICA_DATA")


def _check_text(path: Path) -> None:
    read_text(path)


def _check_snapshot(path: Path) -> None:
    from .char_rnn_snapshot import load_snapshot

    load_snapshot(path)


_UVA = ("https://raw.githubusercontent.com/uvadlc/uvadlc_practicals_2020/master/assignment_2/"
        "2_recurrentnns_gnns/code/")
#: The UvA practical's books (Project Gutenberg texts): name -> (size, SHA-256).
BOOKS = {
    "book_EN_grimms_fairy_tails.txt":
        (550_595, "e6439bd511820742e842e21b75e89b394d3809eec82ca56b506c39ff39d4a7d6"),
    "book_EN_democracy_in_the_US.txt":
        (1_148_437, "1ba23c5acbb00b0ffbfe48be30273f5b965eaedca5e8dfce55253e6bb24f2ca5"),
    "book_NL_darwin_reis_om_de_wereld.txt":
        (1_366_815, "389b114334f9e34bea0b01d43dbe6892d44d7c9430c79a6517c74f0658370535"),
    "book_NL_tolstoy_anna_karenina.txt":
        (1_314_934, "e8516bf15a6636966224617543fa22a129b35655f66fdfe8af224a9802e8e633"),
    "book_TeX_calculus_made_easy.tex":
        (434_571, "ceca75298f640dfda6e9d632c7f7b1d71d04bc3e619140b8ea1bc76991d57352"),
}
_CSC321 = "http://www.cs.toronto.edu/~guerzhoy/321/proj4/"
_CSC321_MIRROR = "http://modelai.gettysburg.edu/2018/rnntext/handout/"
#: (folder under a data root, download) for every file of the text corpora.
DOWNLOADS: tuple[tuple[str, Download], ...] = (
    ("text", Download(
        url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/"
            "input.txt", filename="tinyshakespeare.txt", size=1_115_394,
        sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed")),
    *(("text/books", Download(url=f"{_UVA}Part%202/assets/{name}", filename=name, size=size,
                              sha256=sha, mirrors=(f"{_UVA}release/Part%202/assets/{name}",)))
      for name, (size, sha) in BOOKS.items()),
    ("min-char-rnn", Download(url=f"{_CSC321}shakespeare_train.txt",
                              filename="shakespeare_train.txt", size=268_330, check=_check_text,
                              mirrors=(f"{_CSC321_MIRROR}shakespeare_train.txt",))),
    ("min-char-rnn", Download(url=f"{_CSC321}char-rnn-snapshot.npz",
                              filename="char-rnn-snapshot.npz", size=1_504_590,
                              check=_check_snapshot,
                              mirrors=(f"{_CSC321_MIRROR}char-rnn-snapshot.npz",))),
)


def locate(data_dir: str | Path | None = None) -> Path | None:
    """The first data root holding every named corpus, else None."""
    for root in data_roots(data_dir):
        if all((root / rel).is_file() for rel in CORPORA.values()):
            return root
    return None


def verify(root: Path) -> VerifyReport:
    from .char_rnn_snapshot import load_snapshot

    report = VerifyReport("text", root, valid=True)
    for name, rel in CORPORA.items():
        try:
            text = read_text(root / rel)
            report.lines.append(f"{name}: {len(text):,} characters, {len(set(text))} distinct")
        except DataError as exc:
            report.valid = False
            report.lines.append(f"{name}: invalid: {exc}")
    if (root / SNAPSHOT).is_file():
        try:
            snap = load_snapshot(root / SNAPSHOT)
            report.lines.append(f"{SNAPSHOT}: hidden {snap.hidden_size}, vocabulary "
                                f"{snap.vocab_size}")
        except DataError as exc:
            report.valid = False
            report.lines.append(f"{SNAPSHOT}: invalid: {exc}")
    else:
        report.lines.append(f"{SNAPSHOT}: missing (minchar-rnn then skips the snapshot)")
    for folder, item in DOWNLOADS:
        path = root / folder / item.filename
        if item.sha256 and path.is_file():
            same = file_digest(path) == item.sha256
            report.lines.append(f"{folder}/{item.filename}: sha256 "
                                f"{'matches' if same else 'DIFFERS from'} the recorded one")
            if not same:
                report.modified.append(f"{folder}/{item.filename}")
    return report


INFO = DatasetInfo("text", "Text corpora: tiny-shakespeare, Grimm's fairy tales, min-char-rnn's "
                   "shakespeare_train.txt and char-rnn-snapshot.npz", locate, verify, (),
                   HOW_TO_GET)
