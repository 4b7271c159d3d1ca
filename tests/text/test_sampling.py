"""Sampling conventions (exact on tiny logits) and beam search on a hand-set model."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from practica.text import sampling


def test_temperature_is_softmax_of_logits_over_T():
    z = np.array([0.0, math.log(2.0)])
    np.testing.assert_allclose(sampling.temperature_probs(z, 1.0), [1 / 3, 2 / 3])
    np.testing.assert_allclose(sampling.temperature_probs(z, 0.5), [1 / 5, 4 / 5])  # 2 ln 2
    np.testing.assert_allclose(sampling.temperature_probs(z, 2.0),
                               [1 / (1 + 2 ** 0.5), 2 ** 0.5 / (1 + 2 ** 0.5)])
    # the IIT-H handout's softmax(alpha z) is the same with alpha = 1 / T
    alpha = 4.0
    e = np.exp(alpha * z)
    np.testing.assert_allclose(sampling.temperature_probs(z, 1 / alpha), e / e.sum())
    np.testing.assert_array_equal(sampling.temperature_probs([1.0, 3.0, 2.0], 0.0), [0, 1, 0])
    flat = sampling.temperature_probs([1.0, 3.0, 2.0], 1e6)
    np.testing.assert_allclose(flat, 1 / 3, atol=1e-5)
    with pytest.raises(ValueError):
        sampling.temperature_probs(z, -1.0)


def test_greedy_top_k_and_sampling_frequencies():
    rng = np.random.default_rng(0)
    z = np.array([1.0, 3.0, 2.0, 0.0])
    assert sampling.sample_index(z, rng, 0.0) == 1
    assert all(sampling.sample_index(z, rng, 100.0, top_k=1) == 1 for _ in range(20))
    kept = sampling.top_k_logits(z, 2)
    assert np.isfinite(kept).tolist() == [False, True, True, False]
    draws = [sampling.sample_index(z, rng, 1.0, top_k=2) for _ in range(4000)]
    assert set(draws) == {1, 2}
    assert abs(np.mean(np.array(draws) == 1) - 1 / (1 + math.exp(-1))) < 0.03
    draws = [sampling.sample_index(np.log([0.2, 0.5, 0.3]), rng) for _ in range(6000)]
    np.testing.assert_allclose(np.bincount(draws) / 6000, [0.2, 0.5, 0.3], atol=0.02)


# A bigram model over {a, b, c} plus a start symbol s (index 3): the state is the last index.
BIGRAM = np.log(np.array([
    [1 / 3, 1 / 3, 1 / 3, 1e-9],  # after a
    [0.05, 0.05, 0.9, 1e-9],      # after b
    [0.5, 0.25, 0.25, 1e-9],      # after c
    [0.6, 0.4, 1e-9, 1e-9],       # after s
]))


def bigram_step(index: int, state):
    return BIGRAM[index], index


def test_beam_search_beats_greedy_on_a_hand_set_model():
    greedy = sampling.generate(bigram_step, None, [3], 2, np.random.default_rng(0), 0.0)
    assert greedy == [0, 0]  # a (0.6), then a tie broken towards a: 0.6 / 3 = 0.2
    (best, score), *_ = sampling.beam_search(bigram_step, None, [3], 2, width=2)
    assert best == [1, 2]  # b then c: 0.4 * 0.9 = 0.36
    assert score == pytest.approx(math.log(0.36))
    (one, _), = sampling.beam_search(bigram_step, None, [3], 2, width=1)
    assert one == greedy


def test_wide_beam_equals_exhaustive_search():
    def logp(seq):
        prev, total = 3, 0.0
        for c in seq:
            total += sampling.log_softmax(BIGRAM[prev])[c]
            prev = c
        return total

    ranked = sorted(itertools.product(range(4), repeat=3), key=lambda s: -logp(s))
    found = sampling.beam_search(bigram_step, None, [3], 3, width=64)
    assert [tuple(s) for s, _ in found[:5]] == ranked[:5]
    assert found[0][1] == pytest.approx(logp(ranked[0]))


def test_generate_carries_the_state():
    calls = []

    def step(index, state):
        calls.append((index, state))
        return np.eye(3)[(index + 1) % 3] * 50, state + 1

    out = sampling.generate(step, 0, [0, 1], 4, np.random.default_rng(0), 1.0)
    assert out == [2, 0, 1, 2]
    assert [s for _, s in calls] == list(range(6))  # the state went through every call
    with pytest.raises(ValueError):
        sampling.feed(step, 0, [])
