"""The real palettes and horses (run where PRACTICA_DATA is set, as in CI)."""

from __future__ import annotations

import numpy as np
import pytest

from practica.data import DATASETS, colour

pytestmark = pytest.mark.realdata


def test_real_palettes_parse_safely(real_data):
    distortions = []
    for k in colour.PALETTE_SIZES:
        centres, distortion = colour.read_palette(colour.locate_palette(k, real_data))
        assert centres.shape == (k, 3) and centres.min() >= 0 and centres.max() <= 1
        distortions.append(distortion)
    assert distortions == sorted(distortions, reverse=True)  # more colours, less distortion
    assert DATASETS["colour-palette"].verify(colour.locate_folder(real_data)).valid


def test_real_horses(real_data):
    horses = colour.load_horses(real_data, offline=True)
    assert horses.train.shape == (5000, 3, 32, 32) and horses.test.shape == (1000, 3, 32, 32)
    assert horses.train.dtype == np.float32 and 0 <= horses.train.min() < horses.train.max() <= 1
