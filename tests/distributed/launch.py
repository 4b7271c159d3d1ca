"""``practica`` for the tiny CIFAR-10 fixture, optionally dying after a checkpoint.

torchrun (and plain python, for the one-process reference) runs this script in
test_ddp.py. It accepts the fixture's sizes (100 training, 30 test images) instead of the
real 50,000/10,000, and with ``CRASH_AT_STEP=s`` every rank exits with os._exit right after
writing its step-``s`` checkpoint, as a crash would.
"""

import os
import sys

from practica import cli
from practica.data import cifar10
from practica.train.loop import Trainer

cifar10.SIZES = (100, 30)
CRASH_AT = int(os.environ.get("CRASH_AT_STEP", "0"))
_save = Trainer.save


def save_then_crash(self: Trainer) -> None:
    _save(self)
    if self.step == CRASH_AT:
        os._exit(3)


if CRASH_AT:
    Trainer.save = save_then_crash  # type: ignore[method-assign]
sys.exit(cli.main())
