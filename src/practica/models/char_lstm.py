r"""The character-level LSTM generator of CVbL 2019 §3.4: one-hot (or embedded) characters,
a stacked ``nn.LSTM`` (two layers of 128 by default), and a linear map to the vocabulary:

    h_t^(1), c_t^(1) = LSTM_1(x_t, h_{t−1}^(1), c_{t−1}^(1));  h_t^(2) … = LSTM_2(h_t^(1), …)
    p_t = softmax(W h_t^(2) + b)

``forward(x, state)`` returns the logits for every step and the final ``(h, c)``, so a long
text can be processed (and generated) chunk by chunk with the state carried over.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

LSTMState = tuple[torch.Tensor, torch.Tensor]


class CharLSTM(nn.Module):
    """``embed_dim = 0``: one-hot inputs; otherwise a learned embedding of that size.
    ``dropout``: between the stacked layers and before the output layer, in training only
    (0, the handout's model, adds nothing)."""

    def __init__(self, vocab_size: int, hidden: int = 128, layers: int = 2,
                 embed_dim: int = 0, dropout: float = 0.0) -> None:
        super().__init__()
        self.vocab_size, self.hidden, self.layers = vocab_size, hidden, layers
        self.embed = nn.Embedding(vocab_size, embed_dim) if embed_dim else None
        input_dim = embed_dim or vocab_size
        self.lstm = nn.LSTM(input_dim, hidden, num_layers=layers, batch_first=True,
                            dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout) if dropout else nn.Identity()
        self.head = nn.Linear(hidden, vocab_size)

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        if self.embed is not None:
            return self.embed(x)
        return F.one_hot(x, self.vocab_size).float()

    def forward(self, x: torch.Tensor, state: LSTMState | None = None
                ) -> tuple[torch.Tensor, LSTMState]:
        """``x``: (N, T) character indices → logits (N, T, V) and the final (h, c)."""
        out, state = self.lstm(self.inputs(x), state)
        return self.head(self.drop(out)), state

    @torch.no_grad()
    def step(self, index: int, state: LSTMState | None) -> tuple[np.ndarray, LSTMState]:
        """One character in, the next character's logits (V,) out: a ``StepFn`` for
        :mod:`practica.text.sampling` (the state ``(h, c)`` carried from call to call)."""
        x = torch.tensor([[index]], dtype=torch.long, device=self.head.weight.device)
        logits, state = self(x, state)
        return logits[0, -1].double().cpu().numpy(), state

    @torch.no_grad()
    def feed_prompt(self, indices: list[int] | np.ndarray, chunk: int = 30
                    ) -> tuple[np.ndarray, LSTMState]:
        """Run a prompt through in chunks of ``chunk`` steps carrying ``(h, c)`` from chunk to
        chunk (as the handout asks for long texts); the last logits and the state."""
        if len(indices) == 0:
            raise ValueError("need at least one character to feed")
        x = torch.as_tensor(np.asarray(indices), dtype=torch.long,
                            device=self.head.weight.device)[None]
        state = None
        for start in range(0, x.shape[1], chunk):
            logits, state = self(x[:, start: start + chunk], state)
        return logits[0, -1].double().cpu().numpy(), state
