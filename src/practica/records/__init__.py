"""Run records: the directory of one run and what is written into it."""

from .run import Run, environment_info

__all__ = ["Run", "environment_info"]
