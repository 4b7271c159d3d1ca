"""Pretrained ResNet-18 weights for transfer learning, loaded safely.

``weights`` is one of

* ``imagenet`` — torchvision's ImageNet weights (``resnet18-f37072fd.pth``), used only when
  they are already in the torch hub cache (``$TORCH_HOME/hub/checkpoints``); loading never
  downloads. With network access, ``practica data fetch resnet18-imagenet`` puts the file
  there (checksum verified).
* ``none`` — random initialisation (the from-scratch baseline);
* a path — a state dict saved by ``torch.save``: a plain ``{name: tensor}``, a practica
  checkpoint (``{"model": state_dict, ...}``, e.g. ``checkpoints/last.pt``) or
  ``{"state_dict": ...}``. ``practica run resnet18-cifar10`` writes one (``weights.pt``).

Files are always read with ``torch.load(weights_only=True)``: tensors and plain containers
only, so a pickle holding any other object is refused. The classification head (``fc.*``)
of the file is dropped; every other tensor must match the model's name and shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from ..errors import PracticaError
from ..train.checkpoint import load_checkpoint

#: torchvision's file name for ResNet18_Weights.IMAGENET1K_V1 (its SHA-256 prefix in it).
IMAGENET_FILE = "resnet18-f37072fd.pth"
#: ImageNet channel statistics, the normalisation every torchvision model was trained with.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def hub_checkpoint(filename: str = IMAGENET_FILE) -> Path:
    """Where torchvision keeps (or would keep) a downloaded weights file."""
    return Path(torch.hub.get_dir()) / "checkpoints" / filename


def state_dict_of(obj: object, source: str) -> dict[str, torch.Tensor]:
    """The ``{name: tensor}`` inside a loaded weights file (see the module doc)."""
    if isinstance(obj, Mapping):
        for key in ("model", "state_dict"):
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping) or not obj:
        raise PracticaError(f"{source} holds no state dict ({type(obj).__name__}); expected "
                            "{name: tensor} as saved by torch.save(model.state_dict())")
    bad = [k for k, v in obj.items() if not isinstance(k, str) or not torch.is_tensor(v)]
    if bad:
        raise PracticaError(f"{source}: entry {bad[0]!r} is not a named tensor; not a state dict")
    return {k.removeprefix("module."): v for k, v in obj.items()}


def load_backbone(model: nn.Module, weights: str, *, head: str = "fc.") -> str:
    """Load ``weights`` into ``model`` except its head; return a line saying what was used.

    Raises :class:`PracticaError` when ImageNet weights are asked for but not cached, when
    the file is missing or not a weights-only pickle, or when its tensors do not fit.
    """
    if weights == "none":
        return "random initialisation (weights=none)"
    if weights == "imagenet":
        path = hub_checkpoint()
        if not path.is_file():
            raise PracticaError(
                f"torchvision's ImageNet ResNet-18 weights are not in the torch hub cache "
                f"({path}): run `practica data fetch resnet18-imagenet`, or pass --set "
                "weights=PATH with a state dict (e.g. the weights.pt of a `practica run "
                "resnet18-cifar10` run), or --set weights=none to train from scratch")
        source = f"ImageNet weights from {path}"
    else:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise PracticaError(f"weights file not found: {path} (weights= takes imagenet, "
                                "none or a path to a state dict)")
        source = f"weights from {path}"
    state = state_dict_of(load_checkpoint(path), str(path))
    state = {k: v for k, v in state.items() if not k.startswith(head)}
    own = {k: v for k, v in model.state_dict().items() if not k.startswith(head)}
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        what = (f"missing {len(missing)} tensors (e.g. {missing[0]})" if missing else
                f"{len(unexpected)} unexpected tensors (e.g. {unexpected[0]})")
        raise PracticaError(f"{path} does not fit a {type(model).__name__}: {what}")
    for k, v in state.items():
        if v.shape != own[k].shape:
            raise PracticaError(f"{path}: {k} has shape {tuple(v.shape)}, the model needs "
                                f"{tuple(own[k].shape)}")
    model.load_state_dict(state, strict=False)
    return source


class ImageNetInput(nn.Module):
    """``net(normalise(resize(x)))`` for x in [0, 1]: ImageNet normalisation, then resize.

    Lets a torchvision model take CIFAR-10 batches as they are (N×3×32×32 in [0, 1]),
    upsampled to ``size`` (None: unchanged) with bilinear interpolation.
    """

    def __init__(self, net: nn.Module, size: int | None = None) -> None:
        super().__init__()
        self.net, self.size = net, size
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) / self.std
        if self.size and x.shape[-1] != self.size:
            x = nn.functional.interpolate(x, size=(self.size, self.size), mode="bilinear",
                                          align_corners=False)
        return self.net(x)


def resnet18(num_classes: int, weights: str = "none", *, freeze: bool = False
             ) -> tuple[nn.Module, str]:
    """torchvision's ResNet-18 with ``weights`` loaded and a new ``num_classes`` head.

    ``freeze``: every loaded parameter stops requiring gradients; only the new ``fc`` trains.
    """
    import torchvision

    model = torchvision.models.resnet18(weights=None)
    source = load_backbone(model, weights)
    if freeze:
        for p in model.parameters():
            p.requires_grad_(False)
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model, source
