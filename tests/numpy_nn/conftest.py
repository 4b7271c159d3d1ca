"""Make ``practica`` importable from the source tree when it is not installed."""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import practica  # noqa: F401
except ImportError:  # pragma: no cover - depends on how the tests are run
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
