"""Figures (matplotlib) and HTML pages for runs."""
