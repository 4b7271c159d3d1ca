"""Work in progress."""

EXPERIMENTS: list = []
