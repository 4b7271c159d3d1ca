"""Where each data set comes from: its official URLs, how its files are checked, and the
steps ``practica data fetch`` takes (or, where nothing can be downloaded, tells).

Every data set records the kind of its checksum, shown by ``practica data status`` and
``practica data verify``:

* ``published`` — the official file's MD5/SHA-256 as published by its authors or by a
  well-known loader that pins it (torchvision, TensorFlow Datasets, the PyTorch tutorials);
* ``shared copy`` — no digest is published; the SHA-256 is that of the project's shared copy
  (for the UvA books: its length and text match the course repository's file where that
  could be checked, four of five; the bytes were not compared);
* ``structure only`` — no digest at all: the files are checked by reading them (members,
  counts, shapes) before they are kept, and by ``practica data verify``.

A data set with a ``manual`` step has nothing to download (a login is needed, or no public
URL exists): ``practica data fetch`` prints the step instead.

``origin`` says, per data set, where the URLs and the digests come from.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from . import coco_captioning, hymenoptera, imagenet_weights, sentiment140, text
from .store import Download, cache_dir, safe_extract

PUBLISHED = "published"
SHARED = "shared copy"
STRUCTURE = "structure only"


@dataclass(frozen=True)
class FetchOptions:
    """Choices of ``practica data fetch`` that change what is made (tweets only)."""

    tweets_size: int | None = sentiment140.DEFAULT_SIZE  # None: the full 1.6 M
    seed: int = 0
    tweets_explicit: bool = False  # the user asked for a size: convert even if present


@dataclass(frozen=True)
class Source:
    """How one data set is fetched.

    ``files`` are (folder under the destination, download) pairs; with ``own`` set instead,
    the data set's own ``DatasetInfo.downloads`` go into that folder. ``prepare`` runs after
    the downloads (extract, convert); ``outputs`` are what it makes, relative to the
    destination. ``manual`` holds the steps when there is nothing to download (``{dir}``
    stands for the destination).
    """

    name: str
    checksum: str
    origin: str
    files: tuple[tuple[str, Download], ...] = ()
    own: str | None = None
    manual: str = ""
    destination: Callable[[], Path] = cache_dir
    prepare: Callable[[Path, FetchOptions], None] | None = None
    outputs: tuple[str, ...] = ()

    def downloads(self) -> tuple[tuple[str, Download], ...]:
        if self.own is None:
            return self.files
        from . import DATASETS

        return tuple((self.own, item) for item in DATASETS[self.name].downloads)

    def download_size(self) -> int | None:
        """Bytes to download, or None when a file's size is not known."""
        sizes = [item.size for _, item in self.downloads()]
        return None if None in sizes else sum(s for s in sizes if s)

    def manual_step(self) -> str:
        return self.manual.format(dir=self.destination() / self.own if self.own
                                  else self.destination())

    def command(self) -> str:
        """What ``practica data status`` tells a user who lacks the data set."""
        if self.manual:
            return f"manual step: {self.manual_step()}"
        size = self.download_size()
        return f"run `practica data fetch {self.name}`" + (
            f" ({format_size(size)} to download)" if size else "")


def format_size(n: int | None) -> str:
    if n is None:
        return "size unknown"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _convert_tweets(root: Path, options: FetchOptions) -> None:
    sentiment140.convert(root / "sentiment140" / sentiment140.DOWNLOAD.filename,
                         root / "tweets", size=options.tweets_size, seed=options.seed)


def _extract_coco(root: Path, options: FetchOptions) -> None:
    """Unzip coco_captioning.zip into ``root/coco_captioning``, atomically; drop the zip."""
    del options
    archive, final = root / coco_captioning.ARCHIVE, root / "coco_captioning"
    tmp = Path(tempfile.mkdtemp(prefix=".coco_captioning.", suffix=".part", dir=root))
    try:
        safe_extract(archive, tmp)
        found = [p.parent for p in tmp.rglob(coco_captioning.CAPTIONS_FILE)]
        if len(found) != 1:
            raise DataError(f"{archive} holds {len(found)} copies of "
                            f"{coco_captioning.CAPTIONS_FILE}, expected one")
        if final.exists():  # a folder without the captions (locate did not find it): stale
            shutil.rmtree(final)
        found[0].rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    archive.unlink()


SOURCES: dict[str, Source] = {s.name: s for s in (
    Source("cifar10", PUBLISHED, own="",
           origin="cs.toronto.edu/~kriz; MD5 published on the CIFAR-10 page"),
    Source("mnist", PUBLISHED, own="mnist",
           origin="torchvision's MNIST mirror (yann.lecun.com as fallback); MD5s as pinned by "
                  "torchvision"),
    Source("fashion-mnist", PUBLISHED, own="fashion-mnist",
           origin="Zalando's Fashion-MNIST bucket; MD5s as pinned by torchvision"),
    Source("tweets", PUBLISHED, files=(("sentiment140", sentiment140.DOWNLOAD),),
           prepare=_convert_tweets, outputs=("tweets",),
           origin="Sentiment140's trainingandtestdata.zip (SHA-256 as pinned by TensorFlow "
                  "Datasets), converted by a seeded, documented step"),
    Source("coco-captioning", STRUCTURE, files=(("", coco_captioning.DOWNLOAD),),
           prepare=_extract_coco, outputs=("coco_captioning",),
           origin="CS231n's coco_captioning.zip; no digest published: members, shapes and "
                  "index ranges checked"),
    Source("colour-palette", STRUCTURE, own="colourization",
           origin="the CSC321 colourisation assignment's starter code (no public URL found)",
           manual="optional — copy colour_kmeans{{16,24,32}}_cat7.npy from the colours/ folder "
                  "of the CSC321 colourisation assignment's starter code into {dir}; without "
                  "them the palettes are computed by k-means"),
    Source("hymenoptera", PUBLISHED, files=(("", hymenoptera.DOWNLOAD),),
           origin="download.pytorch.org/tutorial; SHA-256 as checked by the PyTorch tutorials' "
                  "download script"),
    Source("text", PUBLISHED, files=text.DOWNLOADS,
           origin="tiny-shakespeare: char-rnn's input.txt (SHA-256 as pinned by TensorFlow "
                  "Datasets, equal to the shared copy's); books: the UvA practicals repository "
                  "(SHA-256 of the shared copy); min-char-rnn files: the CSC321 project page "
                  "(structure only)"),
    Source("galaxy-zoo", STRUCTURE, own="galaxy-zoo",
           origin="Kaggle's galaxy-zoo-the-galaxy-challenge (login required)",
           manual="a Kaggle login is needed: accept the rules at kaggle.com/c/galaxy-zoo-"
                  "the-galaxy-challenge, put your API token in ~/.kaggle/kaggle.json, run `kaggle "
                  "competitions download -c galaxy-zoo-the-galaxy-challenge -f "
                  "images_training_rev1.zip -p {dir}` and the same with -f "
                  "training_solutions_rev1.zip, then unzip both in {dir}"),
    Source("resnet18-imagenet", PUBLISHED, files=(("", imagenet_weights.DOWNLOAD),),
           destination=imagenet_weights.hub_folder,
           origin="download.pytorch.org/models; the SHA-256 whose first 8 digits torchvision "
                  "puts in the file name"),
)}

#: The checksum kinds of the files of a data set whose kinds differ per file.
FILE_KINDS = {"tweets": {"trainingandtestdata.zip": PUBLISHED,
                         "tweets_train.csv, tweets_test.csv (converted)": STRUCTURE},
              "text": {"tinyshakespeare.txt": PUBLISHED,
                       **dict.fromkeys(text.BOOKS, SHARED),
                       "shakespeare_train.txt": STRUCTURE, "char-rnn-snapshot.npz": STRUCTURE}}


def checksum_kind(name: str) -> str:
    """One line: the kind of checksum of data set ``name`` (per file where they differ)."""
    kinds = FILE_KINDS.get(name)
    if not kinds:
        return SOURCES[name].checksum
    groups: dict[str, list[str]] = {}
    for filename, kind in kinds.items():
        groups.setdefault(kind, []).append(filename)
    return "; ".join(f"{kind}: {', '.join(files)}" for kind, files in groups.items())
