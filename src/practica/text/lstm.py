"""Saving, loading and running a trained character LSTM (``practica generate RUN_DIR``).

A ``textgen-lstm`` run keeps ``model.pt`` (weights, sizes and the vocabulary, read back with
``torch.load(weights_only=True)``). A run stopped early has no ``model.pt`` yet; then its
``vocab.json``, ``config.json`` and ``checkpoints/last.pt`` are used instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import PracticaError
from ..models.char_lstm import CharLSTM
from ..train.checkpoint import load_checkpoint, save_checkpoint
from . import sampling


@dataclass
class Generator:
    """A character LSTM and its vocabulary (index -> character)."""

    model: CharLSTM
    vocab: tuple[str, ...]

    def encode(self, text: str) -> list[int]:
        table = {c: i for i, c in enumerate(self.vocab)}
        missing = sorted({c for c in text if c not in table})
        if missing:
            raise PracticaError(f"characters {''.join(missing)!r} are not in the model's "
                                f"vocabulary of {len(self.vocab)}; rephrase the prompt")
        return [table[c] for c in text]

    def decode(self, indices: list[int]) -> str:
        return "".join(self.vocab[i] for i in indices)

    def complete(self, prompt: str, length: int, *, temperature: float = 1.0, top_k: int = 0,
                 seed: int = 0) -> str:
        """The prompt's continuation: feed the prompt, then sample (state carried)."""
        logits, state = self.model.feed_prompt(self.encode(prompt))
        rng = np.random.default_rng(seed)
        out: list[int] = []
        for _ in range(length):
            nxt = sampling.sample_index(logits, rng, temperature, top_k)
            out.append(nxt)
            logits, state = self.model.step(nxt, state)
        return self.decode(out)

    def beam(self, prompt: str, length: int, width: int = 5) -> list[tuple[str, float]]:
        """Beam-search continuations (text, log-probability in nats), best first."""
        found = sampling.beam_search(self.model.step, None, self.encode(prompt), length, width)
        return [(self.decode(seq), score) for seq, score in found]


def save_generator(path: Path, model: CharLSTM, vocab: tuple[str, ...], embed_dim: int) -> None:
    save_checkpoint(path, {"model": model.state_dict(), "vocab": list(vocab),
                           "hidden": model.hidden, "layers": model.layers,
                           "embed_dim": embed_dim})


def load_generator(run_dir: str | Path) -> Generator:
    """The generator of a ``textgen-lstm`` run directory (or of a ``model.pt`` file)."""
    path = Path(run_dir)
    if path.is_file():
        state = load_checkpoint(path)
    elif (path / "model.pt").is_file():
        state = load_checkpoint(path / "model.pt")
    elif (path / "checkpoints" / "last.pt").is_file() and (path / "vocab.json").is_file():
        config = json.loads((path / "config.json").read_text())["config"]
        state = {"model": load_checkpoint(path / "checkpoints" / "last.pt")["model"],
                 "vocab": json.loads((path / "vocab.json").read_text()),
                 "hidden": config["hidden"], "layers": config["layers"],
                 "embed_dim": config["embed_dim"]}
    else:
        raise PracticaError(f"{path} is not a textgen-lstm run directory (no model.pt, nor "
                            "vocab.json with checkpoints/last.pt)")
    vocab = tuple(state["vocab"])
    model = CharLSTM(len(vocab), int(state["hidden"]), int(state["layers"]),
                     int(state["embed_dim"]))
    model.load_state_dict(state["model"])
    model.eval()
    return Generator(model, vocab)



def generate_text(run_dir: str | Path, prompt: str, length: int, *, temperature: float = 1.0,
                  top_k: int = 0, seed: int = 0, beam: int = 0) -> str:
    """``practica generate``: the prompt and its continuation (beam search if ``beam``)."""
    if length < 1:
        raise PracticaError(f"--length must be >= 1, got {length}")
    if temperature < 0:
        raise PracticaError(f"--temperature must be >= 0, got {temperature}")
    if not prompt:
        raise PracticaError("--prompt must hold at least one character")
    gen = load_generator(run_dir)
    torch.set_num_threads(1)
    if beam:
        text, _ = gen.beam(prompt, length, beam)[0]
        return prompt + text
    return prompt + gen.complete(prompt, length, temperature=temperature, top_k=top_k,
                                 seed=seed)
