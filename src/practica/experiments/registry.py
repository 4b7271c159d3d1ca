"""All experiments by name. ``practica list`` and the README table come from here.

Each module named in ``MODULES`` defines ``EXPERIMENTS``, a list of ``Experiment``; the
order here is the order of ``practica list`` and ``practica reproduce``.
"""

from __future__ import annotations

import importlib

from ..errors import PracticaError
from .base import Experiment

MODULES = (
    "mlp_torch",
    "mlp_numpy",
    "mnist_numpy",
    "normalization_study",
    "convnets",
    "speedrun",
    "palindromes",
    "rnn_gradients",
    "lstm_mnist",
    "tweet_sentiment",
    "vgg11_mnist",
    "resnet_cifar10",
    "transfer",
    "textgen",
    "colourisation",
    "captioning",
    "gan",
    "vae",
)

REGISTRY: dict[str, Experiment] = {}
for _name in MODULES:
    for _exp in importlib.import_module(f"{__package__}.{_name}").EXPERIMENTS:
        if _exp.name in REGISTRY:  # pragma: no cover - a programming error
            raise RuntimeError(f"experiment {_exp.name} registered twice")
        REGISTRY[_exp.name] = _exp


def get(name: str) -> Experiment:
    """The experiment called ``name``; a one-line error lists close names otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, REGISTRY, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `practica list`"
        raise PracticaError(f"unknown experiment {name!r}{hint}") from None


def names() -> list[str]:
    return list(REGISTRY)
