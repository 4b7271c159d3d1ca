"""torchvision's ImageNet ResNet-18 weights (``ResNet18_Weights.IMAGENET1K_V1``) as a data set.

``transfer-hymenoptera`` and ``transfer-cifar10`` start from these weights (``weights=
imagenet``), found where torchvision keeps them: ``$TORCH_HOME/hub/checkpoints/
resnet18-f37072fd.pth`` (see :mod:`practica.models.pretrained`). ``practica data fetch
resnet18-imagenet`` puts torchvision's official file there. Its name carries the first
eight hex digits of its SHA-256 (torchvision's own check); the full digest is the one
recorded in :mod:`practica.data.sources`. The file is read with ``weights_only=True``.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import PracticaError
from .base import DatasetInfo, VerifyReport
from .store import Download, file_digest

FILENAME = "resnet18-f37072fd.pth"
DOWNLOAD = Download(
    url=f"https://download.pytorch.org/models/{FILENAME}", filename=FILENAME, size=46_830_571,
    sha256="f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec")
#: Shapes that identify an ImageNet ResNet-18 state dict.
SHAPES = {"conv1.weight": (64, 3, 7, 7), "layer4.1.bn2.running_var": (512,),
          "fc.weight": (1000, 512), "fc.bias": (1000,)}
HOW_TO_GET = ("run `practica data fetch resnet18-imagenet` with network access (torchvision's "
              f"{FILENAME} into the torch hub cache), or copy that file into "
              "$TORCH_HOME/hub/checkpoints/")


def hub_folder() -> Path:
    """The torch hub checkpoint folder, where torchvision looks for the file."""
    from ..models.pretrained import hub_checkpoint

    return hub_checkpoint(FILENAME).parent


def locate(data_dir: str | Path | None = None) -> Path | None:
    """The weights file in the torch hub cache (``--data-dir`` plays no part here)."""
    del data_dir
    path = hub_folder() / FILENAME
    return path if path.is_file() else None


def check_weights(path: Path) -> int:
    """Raise PracticaError unless ``path`` is an ImageNet ResNet-18 state dict; its size."""
    from ..models.pretrained import state_dict_of
    from ..train.checkpoint import load_checkpoint

    state = state_dict_of(load_checkpoint(path), str(path))
    for key, shape in SHAPES.items():
        got = tuple(state[key].shape) if key in state else None
        if got != shape:
            raise PracticaError(f"{path.name}: {key} is {got}, expected {shape}; not "
                                "torchvision's ImageNet ResNet-18")
    return len(state)


def verify(path: Path) -> VerifyReport:
    report = VerifyReport("resnet18-imagenet", path, valid=False)
    same = file_digest(path) == DOWNLOAD.sha256
    report.lines.append(f"{path.name}: sha256 {'matches' if same else 'DIFFERS from'} the "
                        "official file")
    if not same:
        report.modified.append(path.name)
    try:
        tensors = check_weights(path)
    except PracticaError as exc:
        report.lines.append(f"invalid: {exc}")
        return report
    report.lines.append(f"structure ok: {tensors} tensors, fc 1000 × 512 (ImageNet classes)")
    report.valid = True
    return report


INFO = DatasetInfo("resnet18-imagenet", "torchvision's ImageNet ResNet-18 weights (for the "
                   "transfer-learning experiments)", locate, verify, (), HOW_TO_GET)
