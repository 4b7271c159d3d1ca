r"""Random palindrome numbers (CVbL 2019 §3.1), deterministic under a seed.

A palindrome of length ``T`` is drawn as ``⌈T/2⌉`` uniform digits ``d_1 … d_⌈T/2⌉`` followed
by the mirror of its first ``⌊T/2⌋`` digits, so ``x_t = x_{T+1−t}``. A network sees the
first ``T − 1`` digits and predicts the last one, ``x_T = x_1``: it has to carry the first
digit across ``T − 1`` steps, while the digits in between are irrelevant to the answer.

Inputs are encoded as

* ``"digit"``: each digit as its value, a float sequence of shape ``(T−1,)`` (the handout's
  ``input_dim = 1``);
* ``"one-hot"``: each digit as a one-hot vector, shape ``(T−1, 10)``.

Everything is a function of ``(seed, index)``: item ``i`` of a :class:`PalindromeDataset`, or
batch ``b`` of :meth:`PalindromeDataset.batch`, is the same in every process and after a
resume. Different ``stream`` names give independent sequences (training batches, the
validation set and the test set use different streams).
"""

from __future__ import annotations

import hashlib
import sys

import torch
from torch.utils.data import Dataset

ENCODINGS = ("digit", "one-hot")
DIGITS = 10


def stream_seed(*parts: object) -> int:
    """A 63-bit seed mixed from ``parts`` (stable across processes, unlike ``hash``)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)


def generate_palindromes(n: int, length: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` random palindromes of ``length`` digits, an int64 tensor of shape ``(n, length)``."""
    if length < 2:
        raise ValueError(f"palindrome length must be >= 2, got {length}")
    half = torch.randint(0, DIGITS, (n, (length + 1) // 2), generator=generator)
    return torch.cat([half, half[:, : length // 2].flip(1)], dim=1)


def encode(digits: torch.Tensor, encoding: str) -> torch.Tensor:
    """Digits ``(..., T)`` → float inputs ``(..., T)`` (``digit``) or ``(..., T, 10)``."""
    if encoding == "digit":
        return digits.float()
    if encoding == "one-hot":
        return torch.nn.functional.one_hot(digits, DIGITS).float()
    raise ValueError(f"unknown encoding {encoding!r}; choose from {', '.join(ENCODINGS)}")


def split(palindromes: torch.Tensor, encoding: str = "digit"
          ) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs: the first ``T − 1`` digits encoded, targets: the last digit)."""
    return encode(palindromes[..., :-1], encoding), palindromes[..., -1]


class PalindromeDataset(Dataset):
    """Palindromes of length ``seq_length``: item ``i`` is ``(first T−1 digits, last digit)``.

    As in the handout's ``part1/dataset.py`` the set is practically endless (``len`` is
    ``sys.maxsize``); unlike it, item ``i`` is drawn from a generator seeded with
    ``(seed, stream, i)``, so it never changes.

    Args:
        seq_length: the palindrome length ``T`` (inputs have ``T − 1`` steps).
        seed: the seed of the whole set.
        encoding: ``"digit"`` (float digit values) or ``"one-hot"`` (10-dim vectors).
        stream: a name separating independent sets drawn with the same seed.
    """

    def __init__(self, seq_length: int, *, seed: int = 0, encoding: str = "digit",
                 stream: str = "train") -> None:
        if seq_length < 2:
            raise ValueError(f"seq_length must be >= 2, got {seq_length}")
        if encoding not in ENCODINGS:
            raise ValueError(f"unknown encoding {encoding!r}; choose from {', '.join(ENCODINGS)}")
        self.seq_length, self.seed, self.encoding, self.stream = (seq_length, seed, encoding,
                                                                  stream)

    @property
    def input_dim(self) -> int:
        """Size of one input step for the models (1 for digit values, 10 for one-hot)."""
        return 1 if self.encoding == "digit" else DIGITS

    def __len__(self) -> int:
        return sys.maxsize

    def _generator(self, kind: str, index: int) -> torch.Generator:
        return torch.Generator().manual_seed(stream_seed(self.seed, self.stream, kind, index))

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        full = generate_palindromes(1, self.seq_length, self._generator("item", index))[0]
        return split(full, self.encoding)

    def batch(self, index: int, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch number ``index``: inputs ``(B, T−1)`` or ``(B, T−1, 10)``, targets ``(B,)``."""
        full = generate_palindromes(batch_size, self.seq_length,
                                    self._generator("batch", index))
        return split(full, self.encoding)

    def fixed_set(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``size`` palindromes drawn at once (a held-out set when ``stream`` is its own)."""
        full = generate_palindromes(size, self.seq_length, self._generator("set", size))
        return split(full, self.encoding)
