"""The COCO captioning loader on a fixture in the CS231n on-disk format."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from practica.data import coco_captioning as coco
from practica.errors import DataError
from practica.numpy_nn.captioning import decode_captions

from .coco_format import WORDS, write_coco_folder


@pytest.fixture
def folder(tmp_path):
    return write_coco_folder(tmp_path / "data" / "coco_captioning")


def test_loads_every_part(folder, tmp_path):
    assert coco.locate(tmp_path / "data") == folder
    data = coco.load(tmp_path / "data")
    assert data.train_captions.shape == (12, 7) and data.train_captions.dtype == np.int64
    assert data.train_image_idxs.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert data.train_features.shape == (6, 8) and data.train_features.dtype == np.float32
    assert data.val_features.shape == (4, 8) and len(data.val_captions) == 8
    assert data.idx_to_word == tuple(WORDS) and data.word_to_idx["cat"] == 5
    assert data.val_urls[3].endswith("COCO_val2014_000000000003.jpg")
    assert decode_captions(data.train_captions[:2], data.idx_to_word) == ["a cat",
                                                                          "a dog on a mat"]
    assert coco.load(folder=folder, pca_features=False).train_features.shape == (6, 24)


def test_max_train_subsamples_captions(folder):
    full = coco.load(folder=folder)
    small = coco.load(folder=folder, max_train=5, seed=1)
    assert len(small.train_captions) == 5 and small.train_features is not None
    rows = {tuple(r) + (i,) for r, i in zip(full.train_captions.tolist(),
                                            full.train_image_idxs, strict=True)}
    assert all(tuple(r) + (i,) in rows for r, i in zip(small.train_captions.tolist(),
                                                        small.train_image_idxs, strict=True))
    again = coco.load(folder=folder, max_train=5, seed=1)
    np.testing.assert_array_equal(again.train_captions, small.train_captions)


def test_urls_are_optional(tmp_path):
    folder = write_coco_folder(tmp_path / "c", urls=False)
    assert coco.load(folder=folder).train_urls is None


def test_missing_folder_says_how_to_get_it(tmp_path):
    with pytest.raises(DataError, match="COCO captioning data not found.*coco_captioning.zip"):
        coco.load(tmp_path / "empty")


def test_missing_feature_file(folder):
    (folder / "val2014_vgg16_fc7_pca.h5").unlink()
    with pytest.raises(DataError, match="val2014_vgg16_fc7_pca.h5 is missing"):
        coco.load(folder=folder)


def test_missing_dataset_in_captions_file(folder):
    with h5py.File(folder / "coco2014_captions.h5", "a") as fh:
        del fh["val_image_idxs"]
    with pytest.raises(DataError, match=r"missing dataset\(s\) \['val_image_idxs'\]"):
        coco.load(folder=folder)


def test_not_hdf5(folder):
    (folder / "coco2014_captions.h5").write_bytes(b"this is not hdf5")
    with pytest.raises(DataError, match="not a readable HDF5 file"):
        coco.load(folder=folder)


def test_bad_vocabulary(folder):
    path = folder / "coco2014_vocab.json"
    path.write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        coco.load(folder=folder)
    path.write_text(json.dumps({"idx_to_word": WORDS, "word_to_idx": {"<NULL>": 1}}))
    with pytest.raises(DataError, match="not inverse"):
        coco.load(folder=folder)


def test_image_index_out_of_range(folder):
    with h5py.File(folder / "coco2014_captions.h5", "a") as fh:
        fh["train_image_idxs"][0] = 6
    with pytest.raises(DataError, match="train_image_idxs point outside the 6 feature rows"):
        coco.load(folder=folder)


def test_word_index_out_of_range(folder):
    with h5py.File(folder / "coco2014_captions.h5", "a") as fh:
        fh["val_captions"][0, 1] = len(WORDS)
    with pytest.raises(DataError, match="val_captions hold word indices outside"):
        coco.load(folder=folder)


def test_registered_and_verifiable(folder, tmp_path):
    from practica.data import DATASETS

    info = DATASETS["coco-captioning"]
    assert info.locate(tmp_path / "data") == folder and info.downloads == ()
    report = info.verify(folder)
    assert report.valid and "12 train captions of 6 images" in report.lines[0]


def test_standardize_features_uses_training_statistics(folder):
    data = coco.load(folder=folder)
    data = coco.replace(data, train_features=data.train_features * 50 + 3)
    data.train_features[:, 0] = 7.0  # a constant dimension
    scaled = coco.standardize_features(data)
    np.testing.assert_allclose(scaled.train_features[:, 1:].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(scaled.train_features[:, 1:].std(axis=0), 1, rtol=1e-5)
    assert not scaled.train_features[:, 0].any()
    mean, std = data.train_features[:, 1:].mean(0), data.train_features[:, 1:].std(0)
    np.testing.assert_allclose(scaled.val_features[:, 1:],
                               (data.val_features[:, 1:] - mean) / std, rtol=1e-4)
