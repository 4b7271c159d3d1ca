"""An image-captioning RNN (EECS 545 HW4 §4, after CS231n's ``CaptioningRNN``).

Training (teacher forcing), for image features F (N, D) and captions C (N, T + 1) that
start with <START> and are padded with <NULL>:

    h0     = F W_proj + b_proj                        (N, H)   image -> initial state
    x      = W_embed[C[:, :-1]]                       (N, T, W) word vectors of the input
    h      = RNN(x, h0)  (or LSTM)                    (N, T, H)
    scores = h W_vocab + b_vocab                      (N, T, V)
    L      = temporal_softmax_loss(scores, C[:, 1:], C[:, 1:] != <NULL>)

so the word at t + 1 is predicted from the words up to t and the image. At test time
:meth:`CaptioningRNN.sample` feeds its own greedy (argmax) word back in, starting from
<START>, until every caption has emitted <END> or ``max_length`` words were produced.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import DTypeLike

from . import rnn_layers as L
from .base import Module, as_generator, check_shape

CELL_TYPES = ("rnn", "lstm")
SPECIAL = ("<NULL>", "<START>", "<END>")


class CaptioningRNN(Module):
    """Image features -> word sequence with a vanilla RNN or an LSTM.

    Args:
        word_to_idx: vocabulary (V entries) containing ``<NULL>``, ``<START>``, ``<END>``.
        input_dim: image feature size D.
        wordvec_dim: word vector size W.
        hidden_dim: RNN state size H.
        cell_type: ``"rnn"`` or ``"lstm"``.

    Parameters (row convention, ``y = x W + b``): ``W_proj`` (D, H), ``b_proj``,
    ``W_embed`` (V, W), ``Wx`` (W, H) / (W, 4H), ``Wh`` (H, H) / (H, 4H), ``b``,
    ``W_vocab`` (H, V), ``b_vocab``. Initialisation as in CS231n: word vectors
    N(0, 0.01²), other matrices N(0, 1/fan_in), biases 0.
    """

    def __init__(self, word_to_idx: Mapping[str, int], input_dim: int = 512,
                 wordvec_dim: int = 128, hidden_dim: int = 128, cell_type: str = "rnn",
                 seed: int | np.random.Generator | None = None,
                 dtype: DTypeLike = np.float32) -> None:
        super().__init__(dtype)
        if cell_type not in CELL_TYPES:
            raise ValueError(f"CaptioningRNN: cell_type must be one of {CELL_TYPES}, "
                             f"got {cell_type!r}")
        missing = [w for w in SPECIAL if w not in word_to_idx]
        if missing:
            raise ValueError(f"CaptioningRNN: vocabulary lacks {missing}")
        if min(input_dim, wordvec_dim, hidden_dim) <= 0:
            raise ValueError("CaptioningRNN: input_dim, wordvec_dim and hidden_dim must be > 0")
        self.word_to_idx = dict(word_to_idx)
        self.vocab_size = max(self.word_to_idx.values()) + 1
        self.null, self.start, self.end = (self.word_to_idx[w] for w in SPECIAL)
        self.input_dim, self.wordvec_dim, self.hidden_dim = input_dim, wordvec_dim, hidden_dim
        self.cell_type = cell_type
        rng = as_generator(seed)
        gates = 4 if cell_type == "lstm" else 1
        v, d, w, h = self.vocab_size, input_dim, wordvec_dim, hidden_dim
        self.add_param("W_embed", rng.standard_normal((v, w)) / 100)
        self.add_param("W_proj", rng.standard_normal((d, h)) / np.sqrt(d))
        self.add_param("b_proj", np.zeros(h))
        self.add_param("Wx", rng.standard_normal((w, gates * h)) / np.sqrt(w))
        self.add_param("Wh", rng.standard_normal((h, gates * h)) / np.sqrt(h))
        self.add_param("b", np.zeros(gates * h))
        self.add_param("W_vocab", rng.standard_normal((h, v)) / np.sqrt(h))
        self.add_param("b_vocab", np.zeros(v))

    def extra_repr(self) -> str:
        return (f"vocab={self.vocab_size}, input_dim={self.input_dim}, "
                f"wordvec_dim={self.wordvec_dim}, hidden_dim={self.hidden_dim}, "
                f"cell_type={self.cell_type!r}")

    # ----------------------------------------------------------------- training
    def _check(self, features: np.ndarray, captions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        features = self._input(features)
        check_shape(self.name, features, ("N", self.input_dim), "features")
        captions = np.asarray(captions)
        if captions.ndim != 2 or captions.shape[0] != features.shape[0] or captions.shape[1] < 2:
            raise ValueError(f"{self.name}: expected captions of shape ({features.shape[0]}, "
                             f"T + 1) with T >= 1, got {captions.shape}")
        if captions.dtype.kind not in "iu":
            raise ValueError(f"{self.name}: captions must be integer word indices, "
                             f"got {captions.dtype}")
        return features, captions

    def _scores(self, features: np.ndarray, captions_in: np.ndarray):
        p = self._params
        h0 = features @ p["W_proj"] + p["b_proj"]
        x, embed_cache = L.word_embedding_forward(captions_in, p["W_embed"])
        seq = L.lstm_forward if self.cell_type == "lstm" else L.rnn_forward
        h, rnn_cache = seq(x, h0, p["Wx"], p["Wh"], p["b"])
        scores, fc_cache = L.temporal_fc_forward(h, p["W_vocab"], p["b_vocab"])
        return scores, (features, embed_cache, rnn_cache, fc_cache)

    def loss(self, features: np.ndarray, captions: np.ndarray
             ) -> tuple[float, dict[str, np.ndarray]]:
        """Masked caption loss and dL/dθ (written into ``self.grads``, which is returned)."""
        features, captions = self._check(features, captions)
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]
        mask = captions_out != self.null
        scores, (feats, embed_cache, rnn_cache, fc_cache) = self._scores(features, captions_in)
        loss, dscores = L.temporal_softmax_loss(scores, captions_out, mask)
        g = self._grads
        dh, g["W_vocab"][...], g["b_vocab"][...] = L.temporal_fc_backward(dscores, fc_cache)
        seq_backward = L.lstm_backward if self.cell_type == "lstm" else L.rnn_backward
        dx, dh0, g["Wx"][...], g["Wh"][...], g["b"][...] = seq_backward(dh, rnn_cache)
        g["W_embed"][...] = L.word_embedding_backward(dx, embed_cache)
        g["W_proj"][...] = feats.T @ dh0
        g["b_proj"][...] = dh0.sum(axis=0)
        return loss, self.grads

    def evaluate(self, features: np.ndarray, captions: np.ndarray) -> dict[str, float]:
        """Loss (as in :meth:`loss`, no gradients) and teacher-forced next-word accuracy.

        Returns ``loss`` (mean over the batch), ``correct`` and ``tokens`` (counts over
        the non-NULL target positions) so callers can aggregate over batches.
        """
        features, captions = self._check(features, captions)
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]
        mask = captions_out != self.null
        scores, _ = self._scores(features, captions_in)
        loss, _ = L.temporal_softmax_loss(scores, captions_out, mask)
        correct = int(np.sum((scores.argmax(axis=2) == captions_out) & mask))
        return {"loss": loss, "correct": float(correct), "tokens": float(mask.sum())}

    # ----------------------------------------------------------------- test time
    def sample(self, features: np.ndarray, max_length: int = 30) -> np.ndarray:
        """Greedy captions (N, max_length) of word indices: argmax word fed back each step.

        Each caption ends with <END> (if produced within ``max_length``) followed by
        <NULL>; decoding stops early once every caption has ended.
        """
        if max_length <= 0:
            raise ValueError(f"{self.name}.sample: max_length must be > 0, got {max_length}")
        features = self._input(features)
        check_shape(self.name, features, ("N", self.input_dim), "features")
        p = self._params
        n = features.shape[0]
        captions = np.full((n, max_length), self.null, dtype=np.int64)
        h = features @ p["W_proj"] + p["b_proj"]
        c = np.zeros_like(h)
        word = np.full(n, self.start, dtype=np.int64)
        done = np.zeros(n, dtype=bool)
        for t in range(max_length):
            x = p["W_embed"][word]
            if self.cell_type == "lstm":
                h, c, _ = L.lstm_step_forward(x, h, c, p["Wx"], p["Wh"], p["b"])
            else:
                h, _ = L.rnn_step_forward(x, h, p["Wx"], p["Wh"], p["b"])
            word = (h @ p["W_vocab"] + p["b_vocab"]).argmax(axis=1)
            captions[~done, t] = word[~done]
            done |= word == self.end
            if done.all():
                break
        return captions


def decode_captions(captions: np.ndarray, idx_to_word: list[str] | tuple[str, ...]
                    ) -> list[str]:
    """Word-index rows -> strings: <NULL> and <START> skipped, stop at <END>."""
    captions = np.asarray(captions)
    if captions.ndim == 1:
        captions = captions[None]
    out = []
    for row in captions:
        words = []
        for idx in row:
            word = idx_to_word[int(idx)]
            if word == "<END>":
                break
            if word not in ("<NULL>", "<START>"):
                words.append(word)
        out.append(" ".join(words))
    return out
