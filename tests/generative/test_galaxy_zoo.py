"""The Galaxy Zoo loader on fixture files in the Kaggle layout."""

from __future__ import annotations

import numpy as np
import pytest

from practica.data import DATASETS, galaxy_zoo
from practica.errors import DataError

from .galaxy_fixture import fixture_probs, write_galaxy_zoo


def test_loads_crops_resizes_and_labels(tmp_path):
    probs = fixture_probs(10)
    write_galaxy_zoo(tmp_path, probs, size=48, centre=16)
    ds = galaxy_zoo.load(tmp_path, image_size=8, crop=12, grouping="argmax", progress=False)
    assert ds.train.images.shape == (9, 3, 8, 8) and ds.test.images.shape == (1, 3, 8, 8)
    assert ds.train.images.dtype == np.uint8 and len(ds.classes) == 37
    # the centre crop (12 of 48 px) lies inside the red square: no blue sky left
    images = np.concatenate([ds.train.images, ds.test.images])
    assert images[:, 0].min() > 200 and images[:, 2].max() < 60
    labels = np.sort(np.concatenate([ds.train.labels, ds.test.labels]))
    assert labels.tolist() == sorted(probs.argmax(1).tolist())


def test_whole_image_when_crop_exceeds_it(tmp_path):
    write_galaxy_zoo(tmp_path, fixture_probs(4), size=48, centre=16)
    ds = galaxy_zoo.load(tmp_path, image_size=48, crop=500, progress=False)
    corner = np.concatenate([ds.train.images, ds.test.images])[:, :, 0, 0]
    assert (corner[:, 2] > 150).all()  # sky in the corner: nothing was cropped away


def test_groupings():
    probs = fixture_probs(8)
    arg, names = galaxy_zoo.labels_of(probs, "argmax")
    assert [names[i] for i in arg[:4]] == ["Class1.1", "Class1.2", "Class1.3", "Class8.2"]
    question, qnames = galaxy_zoo.labels_of(probs, "question")
    assert [qnames[i] for i in question[:4]] == ["Class1", "Class1", "Class1", "Class8"]
    top, tnames = galaxy_zoo.labels_of(probs, "top-level")
    assert [tnames[i] for i in top[:4]] == ["smooth", "features or disk", "star or artifact",
                                            "features or disk"]
    assert len(galaxy_zoo.CLASS_COLUMNS) == 37 and galaxy_zoo.CLASS_COLUMNS[-1] == "Class11.6"


def test_decoded_images_are_cached(tmp_path):
    folder = write_galaxy_zoo(tmp_path, fixture_probs(5))
    first = galaxy_zoo.load(tmp_path, image_size=8, crop=16, progress=False)
    for jpg in (folder / galaxy_zoo.IMAGES_DIR).glob("*.jpg"):
        jpg.unlink()
    again = galaxy_zoo.load(tmp_path, image_size=8, crop=16, progress=False)
    assert np.array_equal(first.train.images, again.train.images)


def test_clear_errors(tmp_path):
    with pytest.raises(DataError, match="Galaxy Zoo not found.*Kaggle"):
        galaxy_zoo.load(tmp_path / "nowhere", progress=False)
    folder = write_galaxy_zoo(tmp_path, fixture_probs(3))
    jpgs = sorted((folder / galaxy_zoo.IMAGES_DIR).glob("*.jpg"))
    jpgs[0].unlink()
    with pytest.raises(DataError, match=f"{jpgs[0].name} is missing"):
        galaxy_zoo.load(tmp_path, image_size=8, crop=16, progress=False)
    jpgs[0].write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match="not a readable JPEG"):
        galaxy_zoo.load(tmp_path, image_size=8, crop=16, progress=False)
    csv = folder / galaxy_zoo.SOLUTIONS
    csv.write_text("GalaxyID,Class1.1\n1,0.5\n")
    with pytest.raises(DataError, match="header"):
        galaxy_zoo.read_solutions(csv)
    csv.write_text("GalaxyID," + ",".join(galaxy_zoo.CLASS_COLUMNS) + "\n1," + "2.0," * 36
                   + "2.0\n")
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        galaxy_zoo.read_solutions(csv)


def test_registered_and_verified(tmp_path):
    folder = write_galaxy_zoo(tmp_path, fixture_probs(3))
    info = DATASETS["galaxy-zoo"]
    assert info.locate(tmp_path) == folder
    assert info.verify(folder).valid
    next((folder / galaxy_zoo.IMAGES_DIR).glob("*.jpg")).unlink()
    assert not info.verify(folder).valid
