"""The real hymenoptera_data.zip (runs only where PRACTICA_DATA is set)."""

import pytest

from practica.data import hymenoptera


@pytest.mark.realdata
def test_real_zip_counts(real_data):
    with pytest.warns(UserWarning, match="imageNotFound.gif"):
        data = hymenoptera.read(hymenoptera.locate(real_data))
    assert data.classes == ("ants", "bees")
    train, val = data.splits["train"], data.splits["val"]
    assert (train.labels.count(0), train.labels.count(1)) == (123, 121)
    assert (val.labels.count(0), val.labels.count(1)) == (70, 83)
    assert data.skipped == ("train/ants/imageNotFound.gif",)
