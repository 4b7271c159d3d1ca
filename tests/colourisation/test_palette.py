"""Palettes: safe parsing of the assignment's .npy files, k-means, nearest-colour classes."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from foundation.formats import malicious_pickle

from practica.data import DATASETS, colour
from practica.errors import DataError
from practica.experiments.colourisation import nearest_colour

from .fixtures import npy_object_bytes, palette_file_bytes, write_palette

CENTRES = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])


def test_nearest_colour_classes_exact():
    # one 2×3 image; pixels chosen next to each centre, plus an exact tie
    pixels = np.array([[[0.1, 0.1, 0.1], [0.9, 0.8, 0.9], [0.8, 0.1, 0.2]],
                       [[0.5, 0.5, 0.5], [0.6, 0.0, 0.0], [0.4, 0.0, 0.0]]])
    rgb = pixels.transpose(2, 0, 1)[None]
    # (0.5,0.5,0.5): distance² 0.75 to black and to white, 0.75 to red → tie → index 0
    # (0.6,0,0): 0.36 to black, 0.16 to red → red; (0.4,0,0): 0.16 vs 0.36 → black
    expected = np.array([[[0, 1, 2], [0, 2, 0]]])
    assert colour.colour_classes(rgb, CENTRES).tolist() == expected.tolist()
    torch_classes = nearest_colour(torch.tensor(rgb, dtype=torch.float64),
                                   torch.tensor(CENTRES))
    assert torch_classes.tolist() == expected.tolist()
    back = colour.classes_to_rgb(expected, CENTRES)
    assert back.shape == (1, 3, 2, 3)
    assert back[0, :, 1, 1].tolist() == [1.0, 0.0, 0.0]


def test_colour_classes_rejects_wrong_shape():
    with pytest.raises(DataError, match="N×3×H×W"):
        colour.colour_classes(np.zeros((2, 1, 4, 4)), CENTRES)


def test_greyscale_is_the_channel_mean_and_horses_are_class_7():
    rgb = np.array([[[[0.3]], [[0.6]], [[0.9]]]])
    assert colour.greyscale(rgb)[0, 0, 0, 0] == pytest.approx(0.6)
    images = np.stack([np.full((3, 2, 2), v, np.uint8) for v in (0, 255, 51)])
    horses = colour.horses_from(images, np.array([7, 3, 7]))
    assert horses.dtype == np.float32 and horses.shape == (2, 3, 2, 2)
    assert horses[:, 0, 0, 0].tolist() == pytest.approx([0.0, 0.2])


def test_kmeans_finds_separated_clusters_and_reports_mean_distance():
    rng = np.random.default_rng(0)
    true = np.array([[0.1, 0.1, 0.1], [0.9, 0.2, 0.1], [0.2, 0.3, 0.9]])
    points = np.concatenate([c + 0.01 * rng.standard_normal((200, 3)) for c in true])
    centres, distortion = colour.kmeans(points, 3, seed=1)
    order = np.argsort(centres[:, 0] + 2 * centres[:, 2])
    assert np.abs(centres[order] - true[[0, 1, 2]][np.argsort(true[:, 0] + 2 * true[:, 2])]
                  ).max() < 0.01
    # distortion = mean Euclidean distance to the nearest centre (≈ 0.01·√3·0.92)
    d = np.sqrt(((points[:, None] - centres[None]) ** 2).sum(-1)).min(1).mean()
    assert distortion == pytest.approx(d)
    again, _ = colour.kmeans(points, 3, seed=1)
    assert np.array_equal(centres, again)


def test_kmeans_exact_on_two_pairs():
    points = np.array([[0.0, 0, 0], [0.2, 0, 0], [1.0, 1, 1], [1.0, 1, 0.8]])
    centres, distortion = colour.kmeans(points, 2, seed=0)
    got = sorted(map(tuple, np.round(centres, 12)))
    assert got == [(0.1, 0.0, 0.0), (1.0, 1.0, 0.9)]
    assert distortion == pytest.approx(0.1)


@pytest.mark.parametrize("protocol", [2, 3])
def test_reads_palette_in_the_assignment_format(tmp_path, protocol):
    centres = np.random.default_rng(0).random((24, 3))
    path = tmp_path / "colour_kmeans24_cat7.npy"
    path.write_bytes(palette_file_bytes(centres, 0.0728, protocol))
    got, distortion = colour.read_palette(path)
    assert np.array_equal(got, centres) and distortion == pytest.approx(0.0728)


def test_reads_a_palette_written_by_numpy_save(tmp_path):
    array = np.empty(2, dtype=object)
    array[0], array[1] = np.eye(3)[:, ::-1].copy(), 0.5
    np.save(tmp_path / "p.npy", array, allow_pickle=True)  # our own file, written here
    got, distortion = colour.read_palette(tmp_path / "p.npy")
    assert np.array_equal(got, np.eye(3)[:, ::-1]) and distortion == 0.5


def test_plain_numeric_palette_is_accepted(tmp_path):
    np.save(tmp_path / "p.npy", CENTRES)
    got, distortion = colour.read_palette(tmp_path / "p.npy")
    assert np.array_equal(got, CENTRES) and distortion is None


def test_malicious_pickle_in_palette_is_refused(tmp_path):
    marker = Path("/tmp/practica-pwned")
    marker.unlink(missing_ok=True)
    for payload in (malicious_pickle(), pickle.dumps([_Evil()], protocol=2)):
        path = tmp_path / "colour_kmeans24_cat7.npy"
        path.write_bytes(npy_object_bytes(payload))
        with pytest.raises(DataError, match="refusing to unpickle"):
            colour.read_palette(path)
    assert not marker.exists()


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > /tmp/practica-pwned",))


@pytest.mark.parametrize("payload, message", [
    (pickle.dumps({"centres": 1}, protocol=2), "object array"),
    (pickle.dumps(np.array([np.zeros((4, 2)), 0.1], dtype=object), protocol=2), r"\(K, 3\)"),
    (pickle.dumps(np.array([np.full((4, 3), 2.0), 0.1], dtype=object), protocol=2), r"\[0, 1\]"),
    (pickle.dumps(np.array([np.zeros((4, 3)), "x"], dtype=object), protocol=2), "number"),
    (b"\x80\x02garbage", "not a valid pickle"),
])
def test_bad_palettes_raise_one_line_errors(tmp_path, payload, message):
    path = tmp_path / "p.npy"
    path.write_bytes(npy_object_bytes(payload))
    with pytest.raises(DataError, match=message):
        colour.read_palette(path)


def test_not_npy_and_missing_file(tmp_path):
    (tmp_path / "p.npy").write_bytes(b"hello")
    with pytest.raises(DataError, match="not a valid .npy"):
        colour.read_palette(tmp_path / "p.npy")
    with pytest.raises(DataError, match="cannot read palette"):
        colour.read_palette(tmp_path / "missing.npy")


def test_locate_and_verify_palettes(tmp_path):
    assert colour.locate_palette(24, tmp_path) is None
    folder = tmp_path / "colourization"
    for k in (16, 24, 32):
        write_palette(folder, np.random.default_rng(k).random((k, 3)))
    assert colour.locate_palette(24, tmp_path) == folder / "colour_kmeans24_cat7.npy"
    info = DATASETS["colour-palette"]
    assert info.locate(tmp_path) == folder
    report = info.verify(folder)
    assert report.valid and len(report.lines) == 3
    (folder / "colour_kmeans32_cat7.npy").write_bytes(palette_file_bytes(CENTRES, 0.1))
    assert not info.verify(folder).valid  # 3 colours where 32 are expected
