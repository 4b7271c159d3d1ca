"""practica: the classic deep-learning curriculum, implemented once, properly."""

__version__ = "0.1.0"
