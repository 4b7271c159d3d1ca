"""What an experiment receives besides its config: run settings, device, run directory."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .errors import PracticaError
from .records import Run

AMP_CHOICES = ("none", "bf16", "fp16")
DEVICE_CHOICES = ("auto", "cpu", "cuda")


@dataclass
class Settings:
    """Options every experiment accepts (``practica run`` flags), recorded with the run."""

    seed: int = 0
    device: str = "auto"
    amp: str | None = None  # None: the experiment's default (else "none")
    channels_last: bool | None = None  # None: the experiment's default (else False)
    progress: bool = True
    data_dir: str | None = None
    offline: bool = False

    def __post_init__(self) -> None:
        if self.device not in DEVICE_CHOICES:
            raise PracticaError(f"--device must be one of {', '.join(DEVICE_CHOICES)}, "
                                f"got {self.device!r}")
        if self.amp is not None and self.amp not in AMP_CHOICES:
            raise PracticaError(f"--amp must be one of {', '.join(AMP_CHOICES)}, got {self.amp!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_defaults(self, defaults: dict[str, Any]) -> Settings:
        """Fill settings left unset (None) from an experiment's defaults."""
        from dataclasses import replace

        amp = self.amp if self.amp is not None else defaults.get("amp", "none")
        channels_last = (self.channels_last if self.channels_last is not None
                         else defaults.get("channels_last", False))
        return replace(self, amp=amp, channels_last=channels_last)


def resolve_device(name: str) -> Any:
    """``auto`` → CUDA when available, else CPU; asking for CUDA without one is an error."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise PracticaError("--device cuda was asked for but no CUDA GPU is available; "
                            "use --device cpu or auto")
    return torch.device(name)


def check_settings(settings: Settings) -> Any:
    """The device the settings ask for, after checking they can work on this machine.

    Under torchrun with CUDA, each process takes the GPU ``cuda:LOCAL_RANK``.
    """
    import torch

    from .train.distributed import world

    device = resolve_device(settings.device)
    if settings.amp == "fp16" and device.type != "cuda":
        raise PracticaError("--amp fp16 needs a CUDA GPU; on the CPU use --amp bf16")
    w = world()
    if device.type == "cuda" and w.active:
        device = torch.device("cuda", w.local_rank)
    return device


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators."""
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class RunContext:
    """The run directory, the settings and the device, handed to an experiment's ``run``.

    ``resuming`` is True when ``practica resume`` reopened the run: the training loop then
    continues from ``checkpoints/last.pt`` instead of starting afresh.
    """

    def __init__(self, run: Run, settings: Settings, *, resuming: bool = False) -> None:
        from .train.distributed import world

        self.run = run
        self.settings = settings
        self.resuming = resuming
        self.device = check_settings(settings)
        #: this process's rank among torchrun's processes (one process: rank 0 of 1)
        self.world = world()
        self.experiment: Any = None
        #: training seconds per trainer (kept in checkpoints, so they survive a kill -9)
        self.train_times: dict[str, float] = {}
        #: extra fields for summary.json (e.g. per-class accuracy, the best sweep config)
        self.summary_extra: dict[str, Any] = {}
        #: extra report sections: heading -> already-escaped HTML
        self.report_sections: dict[str, str] = {}
        #: whether to draw the standard learning curves from metrics.csv
        self.standard_plots = True
        seed_everything(settings.seed + self.world.rank)

    @property
    def progress(self) -> bool:
        return self.settings.progress and self.world.is_main
