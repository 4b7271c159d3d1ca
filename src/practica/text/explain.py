r"""Which weights of a min-char-rnn make it do something (IIT-H CS6360 A2 §2.3–2.4).

The question "why does the RNN put a newline or a space after ':'?" is answered in four
steps, for any trigger character ``after`` and set of target characters ``S``:

1. **Contexts.** Every occurrence of ``after`` in a corpus (up to ``max_contexts``), with the
   ``context`` characters before it, is run through the RNN from a zero state. ``h`` is the
   hidden state after reading ``after``, ``h⁻`` the one before it.
2. **Attribution of hidden units.** With ``p = softmax(Why h + by)`` and ``p_S = Σ_{c∈S} p_c``,

       a_j = h_j · ∂ log p_S / ∂h_j = h_j · (Σ_{c∈S} (p_c / p_S) Why[c, j] − Σ_k p_k Why[k, j])

   is the first-order change of ``log p_S`` when unit ``j`` is switched off (``h_j → 0``);
   units are ranked by its mean over the contexts. The bias ``by[c]`` is reported the same
   way (its share of the logit gap).
3. **The weights behind each unit.** ``Why[c, j]`` (unit → target logit), and the unit's
   pre-activation split into its three sources: ``Wxh[j, after]`` (the trigger character
   itself), ``Σ_i Whh[j, i] h⁻_i`` (the context, with its largest single terms
   ``Whh[j, i] h⁻_i``) and ``bh[j]``.
4. **Ablation.** ``p('\n')``, ``p(' ')`` and ``p_S`` after ``after``, before and after zeroing
   (a) the output weights ``Why[S, top units]``, (b) the input weights
   ``Wxh[top units, after]``, and, as a control, (c) ``Why[S, ·]`` of as many random units
   (mean of five random draws).
   The same zeroing is also measured at every *other* position of the corpus sample, to show
   whether the weights are specific to the trigger.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import PracticaError
from .sampling import log_softmax

Params = dict[str, np.ndarray]


def run_batch(params: Params, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hidden states after the last and the second-to-last step, for ``N`` sequences of
    indices (``N × T``) started from zero: ``(H × N, H × N)``."""
    n, t = indices.shape
    h = np.zeros((params["Whh"].shape[0], n))
    prev = h
    for s in range(t):
        prev = h
        h = np.tanh(params["Wxh"][:, indices[:, s]] + params["Whh"] @ h + params["bh"])
    return h, prev


def probs(params: Params, h: np.ndarray) -> np.ndarray:
    """``softmax(Why h + by)`` column by column (V × N)."""
    return np.exp(log_softmax((params["Why"] @ h + params["by"]).T).T)


def find_contexts(data: np.ndarray, trigger: int, context: int, max_contexts: int,
                  exclude: bool = False) -> np.ndarray:
    """Windows of ``context + 1`` indices ending at occurrences of ``trigger`` (or, with
    ``exclude``, at positions holding any other character), evenly spread over ``data``."""
    ends = np.flatnonzero(data != trigger if exclude else data == trigger)
    ends = ends[ends >= context]
    if len(ends) == 0:
        raise PracticaError("the corpus has no occurrence of the trigger character after "
                            f"{context} characters; use a longer corpus")
    if len(ends) > max_contexts:
        ends = ends[np.linspace(0, len(ends) - 1, max_contexts).round().astype(int)]
    return data[ends[:, None] + np.arange(-context, 1)]


@dataclass
class Unit:
    index: int
    attribution: float  # mean a_j (nats of log p_S)
    mean_h: float  # mean h_j after the trigger
    why: dict[str, float]  # Why[c, j] for c in S
    wxh_trigger: float  # Wxh[j, trigger]
    from_context: float  # mean Σ_i Whh[j, i] h⁻_i
    bh: float
    top_whh: list[tuple[int, float, float]]  # (i, Whh[j, i], mean Whh[j, i] h⁻_i)


@dataclass
class Explanation:
    after: str
    targets: str
    contexts: int
    units: list[Unit]
    by: dict[str, float]
    ablations: dict[str, dict[str, float]] = field(default_factory=dict)
    examples: list[tuple[str, str, str]] = field(default_factory=list)  # context, before, after


def _target_probs(p: np.ndarray, targets: Sequence[int], chars: Sequence[str]
                  ) -> dict[str, float]:
    out = ({f"p({chars[c]!r})": float(p[c].mean()) for c in targets}
           if len(targets) <= 4 else {})
    out["p(S)"] = float(p[list(targets)].sum(axis=0).mean())
    return out


def explain(params: Params, chars: Sequence[str], data: np.ndarray, after: str,
            targets: str, *, top: int = 5, context: int = 60, max_contexts: int = 400,
            seed: int = 0) -> Explanation:
    """Rank the units and weights that make the RNN emit ``targets`` after ``after``."""
    table = {c: i for i, c in enumerate(chars)}
    for c in after + targets:
        if c not in table:
            raise PracticaError(f"{c!r} is not in the model's vocabulary")
    if len(after) != 1 or not targets:
        raise PracticaError("--after must be one character and --targets at least one")
    trig, tset = table[after], [table[c] for c in dict.fromkeys(targets)]
    windows = find_contexts(data, trig, context, max_contexts)
    h, hprev = run_batch(params, windows)
    p = probs(params, h)
    p_s = p[tset].sum(axis=0)
    why = params["Why"]
    # d log p_S / d h_j  for each context n: (Σ_c p_c Why[c, j] / p_S − Σ_k p_k Why[k, j])
    grad = (why[tset].T @ p[tset]) / p_s - why.T @ p
    attribution = (grad * h).mean(axis=1)
    order = np.argsort(-attribution, kind="stable")[:top]
    ctx_term = params["Whh"] @ hprev
    units = []
    for j in order:
        whh_terms = (params["Whh"][j][:, None] * hprev).mean(axis=1)
        best = np.argsort(-np.abs(whh_terms), kind="stable")[:3]
        units.append(Unit(
            index=int(j), attribution=float(attribution[j]), mean_h=float(h[j].mean()),
            why={chars[c]: float(why[c, j]) for c in tset},
            wxh_trigger=float(params["Wxh"][j, trig]), from_context=float(ctx_term[j].mean()),
            bh=float(params["bh"][j, 0]),
            top_whh=[(int(i), float(params["Whh"][j, i]), float(whh_terms[i])) for i in best]))
    result = Explanation(after, targets, len(windows), units,
                         by={chars[c]: float(params["by"][c, 0]) for c in tset})
    result.ablations = ablate(params, chars, data, windows, trig, tset, order, seed=seed)
    result.examples = _examples(params, chars, windows, tset, order)
    return result


def zeroed(params: Params, name: str, rows: Sequence[int], cols: Sequence[int]) -> Params:
    """A copy of ``params`` with ``params[name][rows × cols]`` set to 0."""
    out = dict(params)
    out[name] = params[name].copy()
    out[name][np.ix_(list(rows), list(cols))] = 0.0
    return out


def ablate(params: Params, chars: Sequence[str], data: np.ndarray, windows: np.ndarray,
           trig: int, tset: Sequence[int], units: Sequence[int], *, seed: int = 0,
           control_draws: int = 5) -> dict[str, dict[str, float]]:
    """Target probabilities after the trigger (and elsewhere) with weights zeroed."""
    others = find_contexts(data, trig, windows.shape[1] - 1, len(windows), exclude=True)
    rng = np.random.default_rng(seed)
    pool = np.setdiff1d(np.arange(params["Whh"].shape[0]), units)
    variants = {
        "original": params,
        "Why[S, top units] = 0": zeroed(params, "Why", tset, units),
        "Wxh[top units, trigger] = 0": zeroed(params, "Wxh", units, [trig]),
    }
    out = {name: _measure(p, windows, others, tset, chars) for name, p in variants.items()}
    controls = [_measure(zeroed(params, "Why", tset,
                                rng.choice(pool, size=len(units), replace=False)),
                         windows, others, tset, chars) for _ in range(control_draws)]
    out[f"control: Why[S, random units] = 0 (mean of {control_draws})"] = {
        k: float(np.mean([c[k] for c in controls])) for k in controls[0]}
    return out


def _measure(p: Params, windows: np.ndarray, others: np.ndarray, tset: Sequence[int],
             chars: Sequence[str]) -> dict[str, float]:
    out = _target_probs(probs(p, run_batch(p, windows)[0]), tset, chars)
    elsewhere = probs(p, run_batch(p, others)[0])
    out["p(S) elsewhere"] = float(elsewhere[list(tset)].sum(axis=0).mean())
    return out


def _examples(params: Params, chars: Sequence[str], windows: np.ndarray, tset: Sequence[int],
              units: Sequence[int], n: int = 3) -> list[tuple[str, str, str]]:
    """A few contexts with the arg-max next character before and after Why[S, units] = 0."""
    cut = zeroed(params, "Why", tset, units)
    picks = windows[np.linspace(0, len(windows) - 1, n).round().astype(int)]
    out = []
    for w in picks:
        before = probs(params, run_batch(params, w[None])[0])[:, 0]
        after = probs(cut, run_batch(cut, w[None])[0])[:, 0]
        text = "".join(chars[i] for i in w[-30:])
        out.append((text, chars[int(before.argmax())], chars[int(after.argmax())]))
    return out


def format_explanation(e: Explanation) -> str:
    """Plain-text report of :func:`explain` (the CLI prints it; docs quote it)."""
    t = ", ".join(repr(c) for c in e.targets)
    lines = [f"What makes the RNN emit {{{t}}} after {e.after!r} ({e.contexts} contexts)",
             "",
             "hidden units ranked by a_j = h_j * d log p(S)/d h_j (mean over contexts):",
             "  unit   a_j     mean h_j  Why[c,j] for c in S        Wxh[j,trigger]  "
             "Whh·h⁻   bh[j]"]
    for u in e.units:
        why = " ".join(f"{c!r}:{v:+.3f}" for c, v in u.why.items())
        lines.append(f"  {u.index:4d}  {u.attribution:+.3f}  {u.mean_h:+.3f}    {why:<26} "
                     f"{u.wxh_trigger:+.3f}          {u.from_context:+.3f}  {u.bh:+.3f}")
    lines.append("")
    lines.append("largest context terms Whh[j, i]·h⁻_i of those units (i, Whh[j,i], mean term):")
    for u in e.units:
        terms = ", ".join(f"Whh[{u.index},{i}]={w:+.3f} → {m:+.3f}" for i, w, m in u.top_whh)
        lines.append(f"  unit {u.index}: {terms}")
    lines.append("output biases: " + ", ".join(f"by[{c!r}]={v:+.3f}" for c, v in e.by.items()))
    lines.append("")
    lines.append("ablation (mean probabilities after the trigger; 'elsewhere' = after any "
                 "other character):")
    for name, values in e.ablations.items():
        vals = "  ".join(f"{k}={v:.3f}" for k, v in values.items())
        lines.append(f"  {name:<46} {vals}")
    if e.examples:
        lines.append("")
        lines.append("examples (context → most likely next character, before / after "
                     "Why[S, top units] = 0):")
        for text, before, after in e.examples:
            lines.append(f"  {text!r} → {before!r} / {after!r}")
    return "\n".join(lines)


def unescape(text: str) -> str:
    r"""``\n``, ``\t``, ``\\`` and ``\s`` (a space) written on a command line, as characters."""
    out, i = [], 0
    table = {"n": "\n", "t": "\t", "\\": "\\", "s": " "}
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in table:
            out.append(table[text[i + 1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def explain_snapshot(snapshot: str, after: str, targets: str, *, corpus: str | None = None,
                     data_dir: str | None = None, top: int = 5, context: int = 60,
                     max_contexts: int = 400) -> str:
    """``practica explain-weights``: load a snapshot and a corpus, explain, format."""
    from ..data.char_rnn_snapshot import load_snapshot
    from ..data.text import locate_corpus, read_text

    snap = load_snapshot(snapshot)
    hidden = snap.Whh.shape[0]
    if top > hidden:
        from ..errors import PracticaError

        raise PracticaError(f"--top {top}: the snapshot has only {hidden} hidden units")
    text = read_text(locate_corpus(corpus or "minchar-shakespeare", data_dir))
    table = snap.char_to_ix
    data = np.array([table[c] for c in text if c in table], dtype=np.int64)
    result = explain(snap.params(), snap.chars, data, unescape(after), unescape(targets),
                     top=top, context=context, max_contexts=max_contexts)
    return format_explanation(result)
