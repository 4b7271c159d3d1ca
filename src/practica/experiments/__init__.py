"""Experiments: one module per handout exercise, registered in registry.py."""
