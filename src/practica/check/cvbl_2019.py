"""The checks of CVbL 2019's recurrent nets (``vanilla_rnn.py``, ``lstm.py``).

What is checked without knowing how the learner named things: the output's shape, the
parameter count of the equations, that no high-level recurrent or linear layer is used
(the handout forbids them), that every parameter gets a gradient and that the first digit
reaches the output. When the parameters are named as in the equations (``W_hx``…, any
case, with or without the underscore; weights as (out, in) or transposed), the forward is
also compared with the reference's on the same weights.
"""

from __future__ import annotations

import inspect
import re
from types import ModuleType

from ..handouts import cvbl_2019 as ref
from ..models.rnn import lstm_parameter_count
from .compare import Mismatch, Missing, same
from .spec import Piece

T, D, N, K, B = 6, 1, 7, 10, 4


def _build(cls, name: str):
    """The model built as the starter's train.py would: by the constructor's own parameter
    names where it has the starter's (the 2018 starter's ``batch_size`` and ``device``, or
    the 2019 one's ``device`` alone), else positionally."""
    values = {"seq_length": T, "input_dim": D, "num_hidden": N, "num_classes": K,
              "batch_size": B, "device": "cpu"}
    try:
        params = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):
        params = []
    named = [p.name for p in params
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name in values]
    if {"seq_length", "input_dim", "num_hidden", "num_classes"} <= set(named):
        return cls(**{n: values[n] for n in named})
    for args in ((T, D, N, K, B, "cpu"), (T, D, N, K, "cpu"), (T, D, N, K)):
        try:
            return cls(*args)
        except TypeError:
            continue
    raise Mismatch(f"{name}(seq_length, input_dim, num_hidden, num_classes, batch_size, "
                   "device) could not be constructed")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.split(".")[-1].lower())


def _check(m: ModuleType, name: str, expected_count: int) -> None:
    import torch

    cls = getattr(m, name, None)
    if cls is None:
        raise Missing(f"{m.__name__}.py has no class {name}")
    torch.manual_seed(0)
    model = _build(cls, name).double()
    banned = [type(s).__name__ for s in model.modules()
              if isinstance(s, (torch.nn.RNNBase, torch.nn.RNNCellBase, torch.nn.Linear))]
    if banned:
        raise Mismatch(f"{name} uses {', '.join(sorted(set(banned)))}; the handout asks for "
                       "the equations written out with nn.Parameter")
    count = sum(p.numel() for p in model.parameters())
    if count != expected_count:
        raise Mismatch(f"{name} has {count} parameters, the equations give {expected_count} "
                       f"for input_dim {D}, num_hidden {N}, num_classes {K}")
    x = torch.randint(0, 10, (B, T), generator=torch.Generator().manual_seed(1)).double()
    out = model(x)
    if tuple(out.shape) != (B, K):
        raise Mismatch(f"{name}.forward returned shape {tuple(out.shape)}, expected {(B, K)} "
                       "(the logits of the last step)")
    out.sum().backward()
    dead = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    if dead:
        raise Mismatch(f"{name}: no gradient reaches {', '.join(dead)}")
    changed = x.clone()
    changed[:, 0] = (changed[:, 0] + 5) % 10
    with torch.no_grad():
        if torch.equal(model(changed), model(x)):
            raise Mismatch(f"{name}: the first digit does not affect the output (is h(t−1) "
                           "fed back at every step?)")
    _compare_with_reference(model, getattr(ref, name)(T, D, N, K).double(), x, name)


def _compare_with_reference(model, reference, x, name: str) -> None:
    import torch

    theirs = {_norm(n): p for n, p in reference.named_parameters()}
    mine = {_norm(n): p for n, p in model.named_parameters()}
    if set(theirs) - set(mine):
        return  # other names: the behavioural checks above are all that can be said
    for transpose in (False, True):  # (out, in) as the equations, or (in, out) for x @ W
        with torch.no_grad():
            for key, p in theirs.items():
                q = mine[key]
                value = p.T if p.dim() == 2 and (transpose or q.shape != p.shape) else p
                if value.numel() != q.numel():
                    raise Mismatch(f"{name}: parameter {key} has shape {tuple(q.shape)}, the "
                                   f"equations give {tuple(p.shape)}")
                q.copy_(value.reshape(q.shape))  # a bias may be (n,) or (n, 1)
            if torch.allclose(model(x), reference(x), rtol=1e-9, atol=1e-10):
                return
    with torch.no_grad():
        same(f"{name}.forward on the reference's weights", model(x).numpy(),
             reference(x).numpy(), hint=" (compare with the handout's equations)")


def check_rnn(m: ModuleType) -> None:
    _check(m, "VanillaRNN", N * D + N * N + N + K * N + K)


def check_lstm(m: ModuleType) -> None:
    _check(m, "LSTM", lstm_parameter_count(D, N, K))


PIECES = (
    Piece("vanilla_rnn", "Question 3.2", "vanilla_rnn", check_rnn,
          "VanillaRNN from the equations: shapes, parameters, gradients, forward"),
    Piece("lstm", "Question 3.5", "lstm", check_lstm,
          "LSTM from the equations: shapes, parameters, gradients, forward"),
)
