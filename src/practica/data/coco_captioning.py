"""The CS231n / EECS 545 COCO captioning data (``coco_captioning/``), and its in-memory form.

Layout of the folder (as distributed in ``coco_captioning.zip``)::

    coco2014_captions.h5         train_captions (M, 17) int, train_image_idxs (M,) int,
                                 val_captions, val_image_idxs — caption rows are word
                                 indices: <START> w1 ... wk <END> <NULL> ...
    train2014_vgg16_fc7.h5       dataset ``features`` (images, 4096) float: VGG-16 fc7
    train2014_vgg16_fc7_pca.h5   dataset ``features`` (images, 512): the same, PCA-reduced
    val2014_vgg16_fc7[_pca].h5   the same for the validation images
    coco2014_vocab.json          {"idx_to_word": [...], "word_to_idx": {...}}
    train2014_urls.txt           optional: one image URL a line (row i = image i)
    val2014_urls.txt

``image_idxs[k]`` is the row of the feature file holding the image of caption ``k``. The
folder is searched as ``<root>/coco_captioning/`` and ``<root>/`` of each data root.
``practica data fetch coco-captioning`` downloads CS231n's archive (no checksum is
published for it: its member list is checked before it is kept, and the extracted folder is
checked by ``practica data verify``) and extracts it into the cache.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import DataError, describe
from .base import DatasetInfo, VerifyReport
from .store import Download, data_roots

CAPTIONS_FILE = "coco2014_captions.h5"
VOCAB_FILE = "coco2014_vocab.json"
FOLDERS = ("coco_captioning", "")
SPECIAL_TOKENS = ("<NULL>", "<START>", "<END>")
ARCHIVE = "coco_captioning.zip"
HOW_TO_GET = ("run `practica data fetch coco-captioning` with network access (CS231n's "
              "coco_captioning.zip, about 1 GB), or unzip that file and put the "
              "coco_captioning/ folder under --data-dir or PRACTICA_DATA")


def check_archive(path: Path) -> None:
    """Raise DataError unless ``path`` is a zip holding the captions and the vocabulary."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            names = {n.rsplit("/", 1)[-1] for n in zf.namelist()}
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"{ARCHIVE} is not a readable zip file ({exc})") from None
    missing = [n for n in (CAPTIONS_FILE, VOCAB_FILE) if n not in names]
    if missing:
        raise DataError(f"{ARCHIVE} lacks {', '.join(missing)}; not CS231n's COCO captioning "
                        "archive")


DOWNLOAD = Download(url="http://cs231n.stanford.edu/coco_captioning.zip", filename=ARCHIVE,
                    mirrors=("https://cs231n.stanford.edu/coco_captioning.zip",),
                    check=check_archive)


@dataclass(frozen=True)
class CaptionData:
    """Captions, the images they belong to, image features and the vocabulary.

    Used for COCO and for the digit-pair captions built in
    :mod:`practica.data.digit_captions`; the captioning experiments accept either.
    """

    train_captions: np.ndarray  # (M, T + 1) int64 word indices
    train_image_idxs: np.ndarray  # (M,) int64 rows of train_features
    train_features: np.ndarray  # (I, D) float32
    val_captions: np.ndarray
    val_image_idxs: np.ndarray
    val_features: np.ndarray
    idx_to_word: tuple[str, ...]
    word_to_idx: dict[str, int]
    train_urls: tuple[str, ...] | None = None
    val_urls: tuple[str, ...] | None = None

    def arrays(self) -> dict[str, np.ndarray]:
        """The six arrays keyed as :class:`~practica.numpy_nn.captioning_solver.CaptioningSolver`
        expects them."""
        return {f"{s}_{k}": getattr(self, f"{s}_{k}") for s in ("train", "val")
                for k in ("captions", "image_idxs", "features")}


def check_vocab(idx_to_word: object, word_to_idx: object, where: str) -> None:
    """Raise DataError unless the two maps are inverse and hold the special tokens."""
    if not isinstance(idx_to_word, list) or not all(isinstance(w, str) for w in idx_to_word):
        raise DataError(f"{where}: idx_to_word must be a list of strings")
    if not isinstance(word_to_idx, dict):
        raise DataError(f"{where}: word_to_idx must be an object mapping words to indices")
    if len(word_to_idx) != len(idx_to_word) or any(
            not isinstance(i, int) or not 0 <= i < len(idx_to_word) or idx_to_word[i] != w
            for w, i in word_to_idx.items()):
        raise DataError(f"{where}: word_to_idx and idx_to_word are not inverse of each other")
    missing = [t for t in SPECIAL_TOKENS if t not in word_to_idx]
    if missing:
        raise DataError(f"{where}: vocabulary lacks the special tokens {missing}")


def check_captions(data: CaptionData, where: str = "caption data") -> None:
    """Validate shapes, dtypes and index ranges of a :class:`CaptionData`."""
    check_vocab(list(data.idx_to_word), data.word_to_idx, where)
    v = len(data.idx_to_word)
    for split in ("train", "val"):
        caps = getattr(data, f"{split}_captions")
        idxs = getattr(data, f"{split}_image_idxs")
        feats = getattr(data, f"{split}_features")
        if caps.ndim != 2 or caps.shape[1] < 2 or caps.dtype.kind not in "iu":
            raise DataError(f"{where}: {split}_captions must be a 2-D integer array with at "
                            f"least 2 columns, got {caps.dtype} {caps.shape}")
        if idxs.ndim != 1 or len(idxs) != len(caps) or idxs.dtype.kind not in "iu":
            raise DataError(f"{where}: {split}_image_idxs must be {len(caps)} integers (one "
                            f"per caption), got {idxs.dtype} {idxs.shape}")
        if feats.ndim != 2 or feats.dtype.kind != "f":
            raise DataError(f"{where}: {split} features must be a 2-D float array, got "
                            f"{feats.dtype} {feats.shape}")
        if caps.size and (caps.min() < 0 or caps.max() >= v):
            raise DataError(f"{where}: {split}_captions hold word indices outside [0, {v})")
        if idxs.size and (idxs.min() < 0 or idxs.max() >= len(feats)):
            raise DataError(f"{where}: {split}_image_idxs point outside the {len(feats)} "
                            f"feature rows")
        urls = getattr(data, f"{split}_urls")
        if urls is not None and len(urls) != len(feats):
            raise DataError(f"{where}: {len(urls)} {split} URLs for {len(feats)} images")
    if data.train_features.shape[1] != data.val_features.shape[1]:
        raise DataError(f"{where}: train and val features differ in size "
                        f"({data.train_features.shape[1]} vs {data.val_features.shape[1]})")


def locate(data_dir: str | Path | None = None) -> Path | None:
    """The first folder holding the captions file and the vocabulary."""
    for root in data_roots(data_dir):
        for sub in FOLDERS:
            folder = root / sub
            if (folder / CAPTIONS_FILE).is_file() and (folder / VOCAB_FILE).is_file():
                return folder
    return None


#: The largest dataset read from an HDF5 file (the real fc7 features are 1.4 GB).
H5_DATASET_LIMIT = 8 << 30


def _read_h5(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    import h5py

    if not path.is_file():
        raise DataError(f"{path} is missing; {HOW_TO_GET}")
    try:
        with h5py.File(path, "r") as fh:
            missing = [k for k in keys if k not in fh]
            if missing:
                raise DataError(f"{path}: missing dataset(s) {missing} (has {sorted(fh)})")
            for k in keys:  # a header may claim any shape: check before allocating
                nbytes = int(np.prod(fh[k].shape, dtype=object)) * fh[k].dtype.itemsize
                if nbytes > H5_DATASET_LIMIT:
                    raise DataError(f"{path}: dataset {k} claims {fh[k].shape} "
                                    f"({nbytes:,} bytes); corrupt or not the CS231n file")
            return {k: np.asarray(fh[k][()]) for k in keys}
    except DataError:
        raise
    except (OSError, KeyError, ValueError, RuntimeError, TypeError) as exc:
        raise DataError(f"{path} is not a readable HDF5 file ({describe(exc)}); delete it "
                        "and fetch it again") from None


def _read_urls(path: Path) -> tuple[str, ...] | None:
    if not path.is_file():
        return None
    return tuple(line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                 if line.strip())


def read_vocab(path: Path) -> tuple[tuple[str, ...], dict[str, int]]:
    """idx_to_word and word_to_idx from ``coco2014_vocab.json``."""
    try:
        vocab = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path} is missing; {HOW_TO_GET}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(vocab, dict) or not {"idx_to_word", "word_to_idx"} <= set(vocab):
        raise DataError(f"{path}: expected an object with idx_to_word and word_to_idx")
    check_vocab(vocab["idx_to_word"], vocab["word_to_idx"], str(path))
    return tuple(vocab["idx_to_word"]), dict(vocab["word_to_idx"])


def load(data_dir: str | Path | None = None, *, folder: str | Path | None = None,
         pca_features: bool = True, max_train: int | None = None, seed: int = 0
         ) -> CaptionData:
    """Read the COCO captioning folder (CS231n's ``load_coco_data``).

    ``pca_features`` picks the 512-d PCA features over the 4096-d fc7 ones; ``max_train``
    keeps that many training captions, drawn without replacement with ``seed``.
    """
    folder = Path(folder) if folder is not None else locate(data_dir)
    if folder is None:
        looked = ", ".join(str(r) for r in data_roots(data_dir))
        raise DataError(f"COCO captioning data not found (looked for {CAPTIONS_FILE} and "
                        f"{VOCAB_FILE} in coco_captioning/ under {looked}); {HOW_TO_GET}")
    split_keys = tuple(f"{s}_{k}" for s in ("train", "val") for k in ("captions", "image_idxs"))
    caps = _read_h5(folder / CAPTIONS_FILE, split_keys)
    suffix = "_pca" if pca_features else ""
    feats = {s: _read_h5(folder / f"{s}2014_vgg16_fc7{suffix}.h5", ("features",))["features"]
             for s in ("train", "val")}
    idx_to_word, word_to_idx = read_vocab(folder / VOCAB_FILE)
    data = CaptionData(
        train_captions=caps["train_captions"].astype(np.int64, copy=False),
        train_image_idxs=caps["train_image_idxs"].astype(np.int64, copy=False),
        train_features=feats["train"].astype(np.float32, copy=False),
        val_captions=caps["val_captions"].astype(np.int64, copy=False),
        val_image_idxs=caps["val_image_idxs"].astype(np.int64, copy=False),
        val_features=feats["val"].astype(np.float32, copy=False),
        idx_to_word=idx_to_word, word_to_idx=word_to_idx,
        train_urls=_read_urls(folder / "train2014_urls.txt"),
        val_urls=_read_urls(folder / "val2014_urls.txt"))
    for split in ("train", "val"):  # catch integer captions stored as floats, etc.
        if caps[f"{split}_captions"].dtype.kind not in "iu":
            raise DataError(f"{folder / CAPTIONS_FILE}: {split}_captions must be integers, "
                            f"got {caps[f'{split}_captions'].dtype}")
    check_captions(data, str(folder))
    return keep_captions(data, max_train, seed=seed)


def standardize_features(data: CaptionData) -> CaptionData:
    """Features scaled per dimension with the training statistics: x ← (x − μ) / σ.

    Keeps the initial hidden state h0 = x W_proj (W_proj ~ N(0, 1/D)) of order one
    whatever the features' raw scale; constant dimensions (σ = 0) become 0.
    """
    mean = data.train_features.mean(axis=0, dtype=np.float64)
    std = data.train_features.std(axis=0, dtype=np.float64)
    std[std == 0] = 1.0

    def scale(x: np.ndarray) -> np.ndarray:
        return ((x - mean) / std).astype(np.float32)

    return replace(data, train_features=scale(data.train_features),
                   val_features=scale(data.val_features))


def keep_captions(data: CaptionData, max_train: int | None = None, max_val: int | None = None,
                  seed: int = 0) -> CaptionData:
    """Keep at most ``max_train`` / ``max_val`` captions per split (drawn without
    replacement with ``seed``, kept in their original order; features untouched)."""
    rng = np.random.default_rng(seed)
    changes = {}
    for split, limit in (("train", max_train), ("val", max_val)):
        caps = getattr(data, f"{split}_captions")
        if limit and limit < len(caps):
            keep = np.sort(rng.choice(len(caps), limit, replace=False))
            changes[f"{split}_captions"] = caps[keep]
            changes[f"{split}_image_idxs"] = getattr(data, f"{split}_image_idxs")[keep]
    return replace(data, **changes) if changes else data


def _verify(folder: Path) -> VerifyReport:
    report = VerifyReport("coco-captioning", folder, valid=False)
    try:
        data = load(folder=folder)
    except DataError as exc:
        report.lines.append(f"invalid: {exc}")
        return report
    report.lines.append(
        f"structure ok: {len(data.train_captions)} train captions of "
        f"{len(data.train_features)} images, {len(data.val_captions)} val captions of "
        f"{len(data.val_features)} images, vocabulary {len(data.idx_to_word)}, "
        f"features {data.train_features.shape[1]}-d (PCA)")
    report.valid = True
    return report


INFO = DatasetInfo("coco-captioning", "CS231n COCO 2014 captions with VGG-16 fc7 features",
                   locate, _verify, (), HOW_TO_GET)
