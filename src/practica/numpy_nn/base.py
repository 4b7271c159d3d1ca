"""The ``Module`` base class, shape validation and the ``Sequential`` container.

Every layer is a small object with ``forward(x) -> y`` that caches what its backward pass
needs, and ``backward(dout) -> dx`` that receives dL/dY and returns dL/dX while writing
dL/dθ into ``grads`` (same keys and shapes as ``params``). Gradients are written *in place*
into preallocated arrays, so a dict of references taken once (e.g. by an optimiser) stays
valid; optimisers likewise update ``params`` in place.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

Shape = tuple[int | str, ...]


def format_shape(shape: Sequence[int | str]) -> str:
    """``(N, 3, 28, 28)``-style rendering of a shape that may contain symbolic sizes."""
    inner = ", ".join(str(s) for s in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def check_shape(owner: str, x: np.ndarray, expected: Shape, what: str = "input") -> None:
    """Raise ``ValueError`` unless ``x.shape`` matches ``expected``.

    ``expected`` holds ints (must match exactly) or strings (symbolic: any size), e.g.
    ``("N", 784)``. The message names the owner, the expected and the received shape.
    """
    ok = x.ndim == len(expected) and all(
        isinstance(e, str) or e == s for e, s in zip(expected, x.shape, strict=False)
    )
    if not ok:
        raise ValueError(
            f"{owner}: expected {what} of shape {format_shape(expected)}, "
            f"got {format_shape(x.shape)}"
        )


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A ``np.random.Generator`` from a generator, a seed or ``None`` (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


class Module:
    """Base class of all layers and models.

    Attributes:
        params: name -> parameter array (θ).
        grads: name -> dL/dθ, same keys and shapes as ``params``.
        buffers: name -> non-trained state (e.g. BatchNorm running statistics).
        training: ``True`` in train mode (Dropout active, BatchNorm uses batch statistics).
        requires_input_grad: when ``False``, layers with parameters skip computing dL/dX and
            ``backward`` returns ``None`` (the first layer of a network never needs it).
        dtype: floating dtype of parameters and of the computation.
    """

    def __init__(self, dtype: DTypeLike = np.float32) -> None:
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"{type(self).__name__}: dtype must be floating, got {self.dtype}")
        self.training = True
        self.requires_input_grad = True
        self._params: dict[str, np.ndarray] = {}
        self._grads: dict[str, np.ndarray] = {}
        self._buffers: dict[str, np.ndarray] = {}
        self._children: dict[str, Module] = {}

    # ----------------------------------------------------------------- computation
    def forward(self, x: np.ndarray) -> np.ndarray:
        """Compute the output and cache what ``backward`` needs."""
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """Given dL/dY, store dL/dθ in ``grads`` and return dL/dX."""
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    # ----------------------------------------------------------------- helpers
    @property
    def name(self) -> str:
        """Class name, used in error messages."""
        return type(self).__name__

    def _input(self, x: np.ndarray) -> np.ndarray:
        """``x`` as an array of the module's dtype (no copy when it already is one)."""
        return np.asarray(x, dtype=self.dtype)

    def _grad_input(self, dout: np.ndarray, shape: tuple[int, ...] | None) -> np.ndarray:
        """Validate an upstream gradient against the cached output shape."""
        if shape is None:
            raise RuntimeError(f"{self.name}.backward called before forward")
        dout = np.asarray(dout, dtype=self.dtype)
        check_shape(f"{self.name}.backward", dout, shape, what="gradient")
        return dout

    def add_param(self, name: str, value: np.ndarray) -> None:
        """Register a parameter and its zero-initialised gradient."""
        value = np.ascontiguousarray(value, dtype=self.dtype)
        self._params[name] = value
        self._grads[name] = np.zeros_like(value)

    def add_child(self, name: str, module: Module) -> None:
        """Register a sub-module; its parameters appear as ``"<name>.<param>"``."""
        if "." in name:
            raise ValueError(f"{self.name}: child name {name!r} must not contain '.'")
        self._children[name] = module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """Yield ``(dotted_name, module)`` for this module and all descendants."""
        yield prefix, self
        for cname, child in self._children.items():
            yield from child.named_modules(f"{prefix}.{cname}" if prefix else cname)

    def _collect(self, attr: str) -> dict[str, np.ndarray]:
        own: dict[str, np.ndarray] = getattr(self, attr)
        if not self._children:
            return own
        out = dict(own)
        for cname, child in self._children.items():
            for key, value in child._collect(attr).items():
                out[f"{cname}.{key}"] = value
        return out

    @property
    def params(self) -> dict[str, np.ndarray]:
        """name -> parameter array (references, not copies)."""
        return self._collect("_params")

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """name -> gradient array, same keys as ``params``."""
        return self._collect("_grads")

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        """name -> non-trainable state array (references)."""
        return self._collect("_buffers")

    def num_params(self) -> int:
        """Total number of scalar parameters."""
        return int(sum(p.size for p in self.params.values()))

    # ----------------------------------------------------------------- modes, dtype
    def train(self, mode: bool = True) -> Module:
        """Set train (``True``) or eval (``False``) mode on this module and descendants."""
        for _, m in self.named_modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        """Switch to eval mode (Dropout off, BatchNorm uses running statistics)."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Set every gradient to zero (in place)."""
        for g in self.grads.values():
            g.fill(0)

    def astype(self, dtype: DTypeLike) -> Module:
        """Convert parameters, gradients and buffers of the whole tree to ``dtype``."""
        dt = np.dtype(dtype)
        for _, m in self.named_modules():
            m.dtype = dt
            m._params = {k: v.astype(dt) for k, v in m._params.items()}
            m._grads = {k: v.astype(dt) for k, v in m._grads.items()}
            m._buffers = {k: v.astype(dt) for k, v in m._buffers.items()}
        return self

    # ----------------------------------------------------------------- state
    def rng_states(self) -> dict[str, dict[str, Any]]:
        """Bit-generator states of every module owning an ``rng`` (e.g. Dropout)."""
        out: dict[str, dict[str, Any]] = {}
        for mname, m in self.named_modules():
            rng = getattr(m, "rng", None)
            if isinstance(rng, np.random.Generator):
                out[mname] = rng.bit_generator.state
        return out

    def set_rng_states(self, states: dict[str, dict[str, Any]]) -> None:
        """Restore states produced by :meth:`rng_states`."""
        modules = dict(self.named_modules())
        for mname, state in states.items():
            if mname not in modules or not hasattr(modules[mname], "rng"):
                raise KeyError(f"{self.name}: no random generator at {mname!r}")
            modules[mname].rng.bit_generator.state = state

    def state_dict(self) -> dict[str, Any]:
        """Copies of params, buffers and generator states as plain arrays and dicts."""
        return {
            "params": {k: v.copy() for k, v in self.params.items()},
            "buffers": {k: v.copy() for k, v in self.buffers.items()},
            "rng": self.rng_states(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy a :meth:`state_dict` back in place (keys and shapes must match)."""
        for group, target in (("params", self.params), ("buffers", self.buffers)):
            source = state.get(group, {})
            if set(source) != set(target):
                raise KeyError(
                    f"{self.name}.load_state_dict: {group} keys differ: "
                    f"missing {sorted(set(target) - set(source))}, "
                    f"unexpected {sorted(set(source) - set(target))}"
                )
            for key, arr in target.items():
                value = np.asarray(source[key])
                if value.shape != arr.shape:
                    raise ValueError(
                        f"{self.name}.load_state_dict: {key} expected shape "
                        f"{format_shape(arr.shape)}, got {format_shape(value.shape)}"
                    )
                arr[...] = value
        self.set_rng_states(state.get("rng", {}))

    def extra_repr(self) -> str:
        """Constructor arguments shown by ``repr``."""
        return ""

    def __repr__(self) -> str:
        if not self._children:
            return f"{self.name}({self.extra_repr()})"
        lines = [f"{self.name}("]
        for cname, child in self._children.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({cname}): {body}")
        lines.append(")")
        return "\n".join(lines)


class Sequential(Module):
    """Apply modules in order; backward runs them in reverse (chain rule).

    Parameters are exposed as ``"<child>.<param>"``, e.g. ``"0.weight"`` or, with
    ``names=["fc1", ...]``, ``"fc1.weight"``.
    """

    def __init__(self, *layers: Module, names: Sequence[str] | None = None) -> None:
        super().__init__(layers[0].dtype if layers else np.float32)
        if names is None:
            names = [str(i) for i in range(len(layers))]
        if len(names) != len(layers) or len(set(names)) != len(names):
            raise ValueError("Sequential: names must be unique and one per layer")
        for lname, layer in zip(names, layers, strict=True):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: {lname!r} is not a Module: {layer!r}")
            self.add_child(lname, layer)

    @property
    def layers(self) -> list[Module]:
        """The child modules in order."""
        return list(self._children.values())

    def __len__(self) -> int:
        return len(self._children)

    def __getitem__(self, key: int | str) -> Module:
        if isinstance(key, str):
            return self._children[key]
        return self.layers[key]

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """y = f_n(... f_2(f_1(x)))."""
        for layer in self._children.values():
            x = layer.forward(x)
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        """dL/dX by applying each layer's backward in reverse order."""
        layers = self.layers
        if not layers:
            return dout
        for layer in reversed(layers[1:]):
            dout = layer.backward(dout)
        first = layers[0]
        saved = first.requires_input_grad
        first.requires_input_grad = self.requires_input_grad
        try:
            return first.backward(dout)
        finally:
            first.requires_input_grad = saved
