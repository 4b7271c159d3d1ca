"""CaptioningRNN: gradients, masking, sampling; CaptioningSolver: overfit, decay, resume."""

from __future__ import annotations

import numpy as np
import pytest

from practica.numpy_nn.captioning import CaptioningRNN, decode_captions
from practica.numpy_nn.captioning_solver import CaptioningSolver
from practica.numpy_nn.gradcheck import numerical_gradient, relative_error
from practica.numpy_nn.optim import Adam

WORDS = ["<NULL>", "<START>", "<END>", "cat", "dog", "sat", "ran"]
W2I = {w: i for i, w in enumerate(WORDS)}
CAPTIONS = np.array([[1, 3, 5, 2, 0, 0], [1, 4, 6, 2, 0, 0], [1, 3, 6, 5, 2, 0],
                     [1, 4, 2, 0, 0, 0]])


def model(cell="rnn", dtype=np.float64, **kw):
    args = {"input_dim": 6, "wordvec_dim": 4, "hidden_dim": 5, "seed": 0} | kw
    return CaptioningRNN(W2I, cell_type=cell, dtype=dtype, **args)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_every_parameter_gradient(cell):
    m = model(cell)
    # word vectors of O(1) (init is N(0, 0.01²)) keep every gradient element far above the
    # round-off of the finite differences
    m.params["W_embed"][...] *= 100
    feats = np.random.default_rng(1).standard_normal((4, 6))
    loss, grads = m.loss(feats, CAPTIONS)
    analytic = {k: v.copy() for k, v in grads.items()}
    assert set(analytic) == {"W_embed", "W_proj", "b_proj", "Wx", "Wh", "b", "W_vocab",
                             "b_vocab"}
    for name, p in m.params.items():
        numeric = numerical_gradient(lambda: m.loss(feats, CAPTIONS)[0], p)
        assert relative_error(analytic[name], numeric) < 1e-5, name


def test_shapes_and_initial_loss():
    m = model("lstm", hidden_dim=8)
    assert m.params["Wx"].shape == (4, 32) and m.params["W_vocab"].shape == (8, len(WORDS))
    feats = np.zeros((4, 6))
    # small random weights: every word about equally likely, so the loss is about
    # (number of non-NULL targets per caption) · log V
    loss, _ = m.loss(feats, CAPTIONS)
    tokens = (CAPTIONS[:, 1:] != 0).sum() / 4
    assert loss == pytest.approx(tokens * np.log(len(WORDS)), rel=0.1)


def test_null_padding_changes_nothing():
    m = model()
    feats = np.random.default_rng(2).standard_normal((4, 6))
    loss, grads = m.loss(feats, CAPTIONS)
    grads = {k: v.copy() for k, v in grads.items()}
    padded = np.concatenate([CAPTIONS, np.zeros((4, 3), dtype=int)], axis=1)
    loss2, grads2 = m.loss(feats, padded)
    assert loss2 == pytest.approx(loss, rel=1e-12)
    for k in grads:
        np.testing.assert_allclose(grads2[k], grads[k], rtol=1e-10, atol=1e-14)


def test_bad_inputs_are_reported():
    m = model()
    with pytest.raises(ValueError, match="expected features of shape"):
        m.loss(np.zeros((4, 5)), CAPTIONS)
    with pytest.raises(ValueError, match="captions must be integer"):
        m.loss(np.zeros((4, 6)), CAPTIONS.astype(float))
    with pytest.raises(ValueError, match="vocabulary lacks"):
        CaptioningRNN({"<NULL>": 0, "a": 1})


def test_decode_stops_at_end():
    assert decode_captions(np.array([[1, 3, 5, 2, 4, 0], [3, 0, 4, 0, 0, 0]]), WORDS) == [
        "cat sat", "cat dog"]


def data(features_dim=6, seed=3):
    rng = np.random.default_rng(seed)
    return {"train_captions": CAPTIONS, "train_image_idxs": np.arange(4),
            "train_features": rng.standard_normal((4, features_dim)),
            "val_captions": CAPTIONS[:2], "val_image_idxs": np.array([1, 0]),
            "val_features": rng.standard_normal((2, features_dim))}


def test_overfits_a_tiny_batch_and_samples_it_back():
    m = CaptioningRNN(W2I, input_dim=6, wordvec_dim=16, hidden_dim=32, seed=0)
    solver = CaptioningSolver(m, data(), Adam(5e-3), batch_size=4, num_steps=150,
                              eval_every=50)
    solver.train()
    assert solver.loss_history[0] > 4.0 and solver.loss_history[-1] < 0.05
    assert solver.history["train_acc"][-1] == 1.0
    sampled = decode_captions(solver.sample("train", np.arange(4), max_length=8), WORDS)
    assert sampled == decode_captions(CAPTIONS, WORDS)
    tail = solver.sample("train", np.arange(4), max_length=8)
    for row in tail:  # after <END> only <NULL>
        end = list(row).index(2)
        assert not row[end + 1:].any()


def test_lr_decays_once_per_epoch():
    opt = Adam(1e-2)
    solver = CaptioningSolver(model(dtype=np.float32), data(), opt, lr_decay=0.5, batch_size=2,
                              num_epochs=3)
    assert solver.iters_per_epoch == 2
    solver.train(steps=2)
    assert opt.lr == pytest.approx(5e-3)
    solver.train(steps=2)
    assert opt.lr == pytest.approx(2.5e-3)


def test_resume_from_state_dict_is_exact():
    def make():
        return CaptioningSolver(model(dtype=np.float32), data(), Adam(1e-2), lr_decay=0.9,
                                batch_size=2, num_steps=8, eval_every=2, seed=5)

    full = make()
    full.train()
    first = make()
    first.train(steps=3)
    state = first.state_dict()
    second = make()
    second.load_state_dict(state)
    second.train()
    assert second.loss_history == full.loss_history
    for k, v in full.model.params.items():
        np.testing.assert_array_equal(second.model.params[k], v)


def test_solver_rejects_bad_image_indices():
    d = data()
    d["val_image_idxs"] = np.array([0, 2])
    with pytest.raises(ValueError, match=r"val_image_idxs must be integers in \[0, 2\)"):
        CaptioningSolver(model(), d, Adam(), num_steps=1)
