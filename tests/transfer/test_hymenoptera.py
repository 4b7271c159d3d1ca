"""The hymenoptera loader on a fixture zip in the real layout."""

import zipfile

import pytest

from practica.data import DATASETS, hymenoptera
from practica.errors import DataError
from transfer.fixtures import COUNTS, write_zip


def test_reads_the_zip_like_imagefolder(tmp_path):
    path = write_zip(tmp_path / "hymenoptera_data.zip")
    with pytest.warns(UserWarning, match="skipping train/ants/imageNotFound.gif"):
        data = hymenoptera.read(path)
    assert data.classes == ("ants", "bees")
    train, val = data.splits["train"], data.splits["val"]
    assert train.labels == (0,) * 4 + (1,) * 4
    assert val.labels == (0,) * COUNTS[("val", "ants")] + (1,) * COUNTS[("val", "bees")]
    assert all(img.mode == "RGB" and img.size == (40, 30) for img in train.images)
    assert data.skipped == ("train/ants/imageNotFound.gif",)
    # images keep their class: ants were written dark, bees bright
    assert max(sum(img.getpixel((5, 5))) for img in train.images[:4]) < 300
    assert min(sum(img.getpixel((5, 5))) for img in train.images[4:]) > 400


def test_undecodable_image_is_skipped_with_a_warning(tmp_path):
    path = write_zip(tmp_path / "h.zip",
                     extra={"hymenoptera_data/val/bees/broken.jpg": b"not a jpeg"})
    with pytest.warns(UserWarning, match="broken.jpg: cannot decode"):
        data = hymenoptera.read(path)
    assert len(data.splits["val"]) == 5 and "val/bees/broken.jpg" in data.skipped


def test_extracted_folder_gives_the_same(tmp_path):
    path = write_zip(tmp_path / "hymenoptera_data.zip")
    with zipfile.ZipFile(path) as zf:
        zf.extractall(tmp_path / "x")
    with pytest.warns(UserWarning):
        a, b = hymenoptera.read(path), hymenoptera.read(tmp_path / "x" / "hymenoptera_data")
    assert a.splits["val"].files == b.splits["val"].files
    assert a.splits["train"].labels == b.splits["train"].labels


def test_members_escaping_the_folder_are_ignored(tmp_path):
    path = write_zip(tmp_path / "h.zip", extra={"../train/ants/evil.jpg": b"x",
                                                "/abs/train/ants/evil.jpg": b"x"})
    with pytest.warns(UserWarning):
        data = hymenoptera.read(path)
    assert not any("evil" in f for f in data.splits["train"].files)
    assert not (tmp_path.parent / "train").exists()


def test_locate_and_verify_through_the_registry(tmp_path):
    write_zip(tmp_path / "hymenoptera_data.zip")
    info = DATASETS["hymenoptera"]
    where = info.locate(tmp_path)
    assert where == tmp_path / "hymenoptera_data.zip"
    report = info.verify(where)
    assert report.valid and any("train: 8 images" in line for line in report.lines)


def test_clear_errors(tmp_path):
    with pytest.raises(DataError, match="hymenoptera not found"):
        hymenoptera.load(tmp_path)
    (tmp_path / "bad.zip").write_bytes(b"garbage")
    with pytest.raises(DataError, match="not a readable zip"):
        hymenoptera.read(tmp_path / "bad.zip")
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as zf:
        zf.writestr("hymenoptera_data/readme.txt", b"hi")
    with pytest.raises(DataError, match="no train/<class>/ folders"):
        hymenoptera.read(tmp_path / "empty.zip")
