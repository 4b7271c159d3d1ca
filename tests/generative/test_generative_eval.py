"""Inception Score and Fréchet distance on cases with known answers; the cached classifier."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import linalg

from practica.data.base import ImageDataset, Split
from practica.evaluation import generative
from practica.evaluation.generative import (
    DigitClassifier,
    SampleScorer,
    feature_statistics,
    frechet_distance,
    frechet_distance_of,
    inception_score,
    load_or_train_classifier,
)


def test_inception_score_known_values():
    assert inception_score(np.full((50, 10), 0.1)) == pytest.approx(1.0)
    assert inception_score(np.eye(10)[np.arange(100) % 10]) == pytest.approx(10.0)
    assert inception_score(np.eye(10)[np.zeros(30, int)]) == pytest.approx(1.0)
    # two equally used classes, each predicted with p = 0.9: exp(log 2 - H(0.9))
    p = np.array([[0.9, 0.1], [0.1, 0.9]] * 5)
    h = -(0.9 * np.log(0.9) + 0.1 * np.log(0.1))
    assert inception_score(p) == pytest.approx(np.exp(np.log(2) - h))
    assert inception_score(np.eye(4)[np.arange(48) % 4], splits=4) == pytest.approx(4.0)


def test_frechet_distance_of_a_set_with_itself_is_zero():
    f = np.random.default_rng(0).normal(size=(500, 6))
    assert frechet_distance_of(f, f) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_closed_forms():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    expected = 1 + 0 + 4 + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    s1, s2 = x @ x.T + 0.1 * np.eye(5), y @ y.T + 0.1 * np.eye(5)
    reference = np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real)
    assert frechet_distance(np.zeros(5), s1, np.zeros(5), s2) == pytest.approx(reference)
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(3))


def test_feature_statistics_and_bad_input():
    mu, cov = feature_statistics(np.array([[0.0, 1.0], [2.0, 3.0]]))
    assert np.allclose(mu, [1, 2]) and np.allclose(cov, [[2, 2], [2, 2]])
    with pytest.raises(ValueError):
        feature_statistics(np.zeros((1, 3)))
    with pytest.raises(ValueError):
        inception_score(np.zeros(3))


def _tiny_digits(n: int = 64) -> ImageDataset:
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 2
    images = rng.integers(0, 40, (n, 1, 28, 28)).astype(np.uint8)
    images[labels == 1, :, :14] = 255  # class 1: bright top half
    split = Split(images, labels.astype(np.int64))
    return ImageDataset("tiny-digits", split, split, ("dark", "bright top"), None)


def test_classifier_is_trained_once_then_loaded_from_the_cache(monkeypatch):
    data = _tiny_digits()
    model, accuracy = load_or_train_classifier(data, steps=30)
    assert accuracy == 1.0
    assert generative.classifier_path("tiny-digits", 30).is_file()

    def no_training(*args, **kwargs):
        raise AssertionError("should have loaded the cached classifier")

    monkeypatch.setattr(generative, "train_digit_classifier", no_training)
    again, cached_accuracy = load_or_train_classifier(data, steps=30)
    x = torch.rand(3, 1, 28, 28)
    assert torch.allclose(model(x), again(x)) and cached_accuracy == accuracy
    scorer = SampleScorer(again, torch.from_numpy(data.test.images).float() / 255)
    assert scorer.real_inception_score == pytest.approx(2.0, rel=0.02)
    scores = scorer(torch.from_numpy(data.test.images).float() / 255)
    assert scores["fid"] == pytest.approx(0.0, abs=1e-6)


def test_classifier_shapes():
    model = DigitClassifier()
    x = torch.rand(2, 1, 28, 28)
    assert model.features(x).shape == (2, 128) and model(x).shape == (2, 10)


def test_tile_and_projection():
    from practica.evaluation.figures import project_2d, tile

    grid = tile(np.zeros((5, 1, 3, 4)), nrow=2, pad=1)
    assert grid.shape == (3 * 4 - 1, 2 * 5 - 1, 1)
    assert grid[3, 0, 0] == 1.0 and grid[0, 0, 0] == 0.0  # padding row is background
    points = np.random.default_rng(0).normal(size=(50, 2)) @ np.array([[3.0, 0], [0, 0.1]])
    xy, _ = project_2d(points)
    assert np.array_equal(xy, points)
    lifted = np.concatenate([points, np.zeros((50, 3))], axis=1)
    xy, name = project_2d(lifted)
    assert xy.shape == (50, 2) and "principal" in name[0]
    assert np.var(xy[:, 0]) > np.var(xy[:, 1])  # first component carries most variance
