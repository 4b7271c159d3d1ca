r"""CNN shape calculator: output size, receptive field, parameters and MACs per layer.

Works on a layer spec in TOML (see ``examples/waterloo-a5-cnn.toml``) or on a torch model
(forward hooks on its leaf modules). For a layer with kernel k, stride s, padding p on an
input of size n (each of height and width separately)::

    output size      n_out = ⌊(n + 2p − k) / s⌋ + 1
    receptive field  r_out = r_in + (k − 1)·j_in,   j_out = j_in·s   (r = j = 1 at the input)
    conv parameters  k_h·k_w·C_in·C_out  (+ C_out biases)
    conv MACs        H_out·W_out·C_out · k_h·k_w·C_in
    fc parameters    D_in·D_out (+ D_out), MACs D_in·D_out

``j`` is the jump: the distance in input pixels between neighbouring units of a layer.
Pooling has no parameters and is counted as 0 MACs; it acts on each channel separately.

Spec format::

    input = [3, 256, 256]   # channels, height, width
    bias = false            # default for every layer (optional, default true)
    [[layer]]
    type = "conv"           # conv | pool | fc
    filters = 100           # conv: number of filters; fc: outputs = 10
    size = 3                # or [height, width]
    stride = 1              # default 1 for conv, = size for pool
    padding = 0             # or [ph, pw], or "same" (stride 1, odd sizes)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import PracticaError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KINDS = ("conv", "pool", "fc")
_KEYS = {"conv": {"type", "name", "filters", "size", "stride", "padding", "bias"},
         "pool": {"type", "name", "size", "stride", "padding", "mode"},
         "fc": {"type", "name", "outputs", "bias"}}


class SpecError(PracticaError):
    """A layer spec that cannot be read or does not make sense."""


@dataclass(frozen=True)
class Layer:
    """One layer of a spec. ``size``, ``stride``, ``padding`` are (height, width) pairs."""

    name: str
    kind: str
    out: int = 0  # conv filters or fc outputs (0 for pooling)
    size: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    bias: bool = True


@dataclass(frozen=True)
class Spec:
    input: tuple[int, int, int]  # channels, height, width
    layers: tuple[Layer, ...]


@dataclass(frozen=True)
class Row:
    """What the calculator says about one layer."""

    name: str
    kind: str
    shape: tuple[int, ...]  # (C, H, W) or (D,)
    rf: tuple[int, int] | None  # receptive field (height, width); None: whole input / n/a
    jump: tuple[int, int] | None
    params: int  # without biases
    biases: int
    macs: int

    @property
    def params_with_bias(self) -> int:
        return self.params + self.biases


# --- parsing ---------------------------------------------------------------------------

def _pair(value: Any, key: str, where: str, *, minimum: int) -> tuple[int, int]:
    items = value if isinstance(value, list) else [value, value]
    if (len(items) != 2 or not all(isinstance(v, int) and not isinstance(v, bool)
                                   for v in items)):
        raise SpecError(f"{where}: {key} must be an integer or a list [height, width] of "
                        f"integers, got {value!r}")
    if min(items) < minimum:
        raise SpecError(f"{where}: {key} must be >= {minimum}, got {value!r}")
    return items[0], items[1]


def _int(value: Any, key: str, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise SpecError(f"{where}: {key} must be a positive integer, got {value!r}")
    return value


def parse_layer(table: dict[str, Any], index: int, default_bias: bool) -> Layer:
    """One ``[[layer]]`` table → :class:`Layer`, with a clear error for anything wrong."""
    where = f"layer {index + 1}"
    kind = table.get("type")
    if kind not in KINDS:
        raise SpecError(f"{where}: type must be one of {', '.join(KINDS)}, got {kind!r}")
    unknown = sorted(set(table) - _KEYS[kind])
    if unknown:
        raise SpecError(f"{where} ({kind}): unknown key {unknown[0]!r}; allowed: "
                        f"{', '.join(sorted(_KEYS[kind]))}")
    name = str(table.get("name", f"{kind}{index + 1}"))
    bias = table.get("bias", default_bias)
    if not isinstance(bias, bool):
        raise SpecError(f"{where}: bias must be true or false, got {bias!r}")
    if kind == "fc":
        if "outputs" not in table:
            raise SpecError(f"{where} (fc): missing key 'outputs'")
        return Layer(name, kind, out=_int(table["outputs"], "outputs", where), bias=bias)
    if "size" not in table:
        raise SpecError(f"{where} ({kind}): missing key 'size'")
    size = _pair(table["size"], "size", where, minimum=1)
    stride = _pair(table.get("stride", 1 if kind == "conv" else table["size"]), "stride",
                   where, minimum=1)
    padding = table.get("padding", 0)
    if padding == "same":
        if stride != (1, 1) or size[0] % 2 == 0 or size[1] % 2 == 0:
            raise SpecError(f"{where}: padding 'same' needs stride 1 and odd sizes "
                            f"(got size {list(size)}, stride {list(stride)})")
        padding = [(size[0] - 1) // 2, (size[1] - 1) // 2]
    padding = _pair(padding, "padding", where, minimum=0)
    if kind == "pool":
        if table.get("mode", "max") not in ("max", "avg"):
            raise SpecError(f"{where}: pool mode must be max or avg, got {table['mode']!r}")
        return Layer(name, kind, size=size, stride=stride, padding=padding, bias=False)
    if "filters" not in table:
        raise SpecError(f"{where} (conv): missing key 'filters'")
    return Layer(name, kind, out=_int(table["filters"], "filters", where), size=size,
                 stride=stride, padding=padding, bias=bias)


def parse_spec(text: str, source: str = "spec") -> Spec:
    """Parse a TOML layer spec (see the module doc)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{source} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"input", "bias", "layer", "title"})
    if unknown:
        raise SpecError(f"{source}: unknown top-level key {unknown[0]!r}; expected input, bias, "
                        "title and [[layer]] tables")
    shape = data.get("input")
    if (not isinstance(shape, list) or len(shape) != 3
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)):
        raise SpecError(f"{source}: input must be [channels, height, width] of positive "
                        f"integers, got {shape!r}")
    bias = data.get("bias", True)
    if not isinstance(bias, bool):
        raise SpecError(f"{source}: bias must be true or false, got {bias!r}")
    tables = data.get("layer")
    if not isinstance(tables, list) or not tables:
        raise SpecError(f"{source}: no layers; add [[layer]] tables")
    layers = tuple(parse_layer(t, i, bias) for i, t in enumerate(tables))
    return Spec((shape[0], shape[1], shape[2]), layers)


def load_spec(path: str | Path) -> Spec:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read spec {path}: {exc.strerror or exc}") from None
    return parse_spec(text, str(path))


# --- the calculator -------------------------------------------------------------------

def out_size(n: int, k: int, s: int, p: int) -> int:
    """⌊(n + 2p − k) / s⌋ + 1."""
    return (n + 2 * p - k) // s + 1


def analyse(spec: Spec, *, same_size: bool = False) -> list[Row]:
    """One :class:`Row` per layer of ``spec``.

    ``same_size``: assume every conv layer keeps its input's height and width whatever its
    stride (Waterloo A5 §1 question 4's simplifying assumption).
    """
    c, h, w = spec.input
    rf, jump = (1, 1), (1, 1)
    flat: int | None = None
    rows: list[Row] = []
    for i, layer in enumerate(spec.layers):
        where = f"layer {i + 1} ({layer.name})"
        if layer.kind == "fc":
            d_in = flat if flat is not None else c * h * w
            flat = layer.out
            rows.append(Row(layer.name, "fc", (layer.out,), None, None, d_in * layer.out,
                            layer.out if layer.bias else 0, d_in * layer.out))
            continue
        if flat is not None:
            raise SpecError(f"{where}: a {layer.kind} layer cannot follow a fully connected one")
        (kh, kw), (sh, sw), (ph, pw) = layer.size, layer.stride, layer.padding
        if same_size and layer.kind == "conv":
            oh, ow = h, w
        else:
            oh, ow = out_size(h, kh, sh, ph), out_size(w, kw, sw, pw)
        if oh < 1 or ow < 1:
            raise SpecError(f"{where}: a {kh}×{kw} window (padding {ph}, {pw}) does not fit the "
                            f"{h}×{w} input")
        rf = (rf[0] + (kh - 1) * jump[0], rf[1] + (kw - 1) * jump[1])
        jump = (jump[0] * sh, jump[1] * sw)
        if layer.kind == "conv":
            params, biases = kh * kw * c * layer.out, (layer.out if layer.bias else 0)
            c_out = layer.out
            macs = oh * ow * c_out * kh * kw * c
        else:
            params, biases, c_out, macs = 0, 0, c, 0
        c, h, w = c_out, oh, ow
        rows.append(Row(layer.name, layer.kind, (c, h, w), rf, jump, params, biases, macs))
    return rows


# --- torch models ---------------------------------------------------------------------

def to_torch(spec: Spec):
    """The spec as an ``nn.Sequential`` (Conv2d / MaxPool2d / Flatten + Linear)."""
    from torch import nn

    c, h, w = spec.input
    mods: list[nn.Module] = []
    flat = None
    for layer, row in zip(spec.layers, analyse(spec), strict=True):
        if layer.kind == "conv":
            mods.append(nn.Conv2d(c, layer.out, layer.size, layer.stride, layer.padding,
                                  bias=layer.bias))
        elif layer.kind == "pool":
            mods.append(nn.MaxPool2d(layer.size, layer.stride, layer.padding))
        else:
            if flat is None:
                mods.append(nn.Flatten())
                flat = c * h * w
            mods.append(nn.Linear(flat, layer.out, bias=layer.bias))
            flat = layer.out
        if layer.kind != "fc":
            c, h, w = row.shape
    return nn.Sequential(*mods)


def _pair_of(v: Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def analyse_model(model, input_shape: tuple[int, ...]) -> list[Row]:
    """Rows for a torch model's conv, pool and linear leaves, from one forward pass.

    Receptive fields are composed along the chain of leaf modules; once a layer's input is
    not the previous leaf's output (a skip connection, a functional reshape) the chain is
    broken and later conv/pool rows get no receptive field (None).
    """
    import torch
    from torch import nn

    rows: list[Row] = []
    state: dict[str, Any] = {"rf": (1, 1), "jump": (1, 1), "last": None, "chain": True}
    convs = (nn.Conv1d, nn.Conv2d)
    pools = (nn.MaxPool2d, nn.AvgPool2d)

    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        x = inputs[0]
        if state["last"] is not None and x is not state["last"]:
            state["chain"] = False
        state["last"] = output
        if not isinstance(module, (*convs, *pools, nn.Linear)):
            return
        name = names[module]
        shape = tuple(output.shape[1:])
        if isinstance(module, nn.Linear):
            macs = module.in_features * module.out_features
            rows.append(Row(name, "fc", shape, None, None, module.weight.numel(),
                            module.bias.numel() if module.bias is not None else 0, macs))
            return
        k, s = _pair_of(module.kernel_size), _pair_of(module.stride)
        rf = jump = None
        if state["chain"]:
            state["rf"] = (state["rf"][0] + (k[0] - 1) * state["jump"][0],
                           state["rf"][1] + (k[1] - 1) * state["jump"][1])
            state["jump"] = (state["jump"][0] * s[0], state["jump"][1] * s[1])
            rf, jump = state["rf"], state["jump"]
        if isinstance(module, pools):
            rows.append(Row(name, "pool", shape, rf, jump, 0, 0, 0))
            return
        biases = module.bias.numel() if module.bias is not None else 0
        per_out = module.weight[0].numel()  # k_h·k_w·C_in/groups
        macs = output[0].numel() * per_out
        rows.append(Row(name, "conv", shape, rf, jump, module.weight.numel(), biases, macs))

    names = {m: n for n, m in model.named_modules()}
    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(hook) for m in leaves]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape))
    except RuntimeError as exc:
        raise SpecError(f"{type(model).__name__} cannot take a {'×'.join(map(str, input_shape))} "
                        f"input: {str(exc).splitlines()[0]}") from None
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return rows


#: Models ``practica shapes NAME`` knows: name -> (factory, input shape).
def known_models() -> dict[str, tuple[Any, tuple[int, int, int]]]:
    from .models import PreActConvNet, VGGConvNet
    from .models.vgg import vgg11

    def resnet18():
        import torchvision

        return torchvision.models.resnet18(weights=None)

    return {"vgg11": (vgg11, (1, 32, 32)),
            "convnet-vgg": (lambda: VGGConvNet(in_channels=3, num_classes=10), (3, 32, 32)),
            "convnet-preact": (lambda: PreActConvNet(in_channels=3, num_classes=10),
                               (3, 32, 32)),
            "resnet18": (resnet18, (3, 224, 224))}


def rows_for(target: str, *, same_size: bool = False,
             input_shape: tuple[int, int, int] | None = None) -> list[Row]:
    """Rows for a spec file path or a known model name."""
    models = known_models()
    if target in models:
        factory, shape = models[target]
        return analyse_model(factory(), input_shape or shape)
    path = Path(target)
    if not path.is_file():
        raise SpecError(f"{target!r} is neither a spec file nor a known model "
                        f"({', '.join(models)})")
    spec = load_spec(path)
    if input_shape:
        spec = Spec(input_shape, spec.layers)
    return analyse(spec, same_size=same_size)


def _fmt_shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(s) for s in shape)


def table(rows: list[Row]) -> str:
    """A plain-text table with totals."""
    head = ("layer", "type", "output (C×H×W)", "receptive field", "params", "params+bias",
            "MACs")
    body = [(r.name, r.kind, _fmt_shape(r.shape),
             "—" if r.rf is None else f"{r.rf[0]}×{r.rf[1]}",
             f"{r.params:,}", f"{r.params_with_bias:,}", f"{r.macs:,}") for r in rows]
    body.append(("total", "", "", "", f"{sum(r.params for r in rows):,}",
                 f"{sum(r.params_with_bias for r in rows):,}",
                 f"{sum(r.macs for r in rows):,}"))
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(wd) if i < 4 else cell.rjust(wd)
                       for i, (cell, wd) in enumerate(zip(line, widths, strict=True)))
             for line in [head, *body]]
    lines.insert(1, "  ".join("-" * wd for wd in widths))
    return "\n".join(lines)
